"""Fixtures for incidents: people by role and department (bearer tokens), customers in an
area and their repair tickets, and a small driver of /api/v1."""
import pytest

from tests.drive import ApiDrive
from ticketing.extensions import db

# key -> (role, department code). The incidents' authorised department is `repair`.
ROLES = {
    "agent": ("agent", "call_center"),
    "dispatcher": ("dispatcher", "dispatch"),
    "repair_head": ("department_head", "repair"),
    "team_head": ("department_head", "repair_team_1"),
    "repair_staff": ("staff", "repair"),
    "supervisor": ("supervisor", "supervision"),
    "admin": ("admin", "management"),
}


class Api(ApiDrive):
    """api.post("dispatcher", "/incidents", {...}) as that person (made on first use)."""

    roles = ROLES

    def open_incident(self, **fields) -> dict:
        body = {"name": "东城光缆中断", "areas": ["东城区"], "fault_category": "fibre_cable",
                "description": "主干光缆被挖断", **fields}
        response = self.post("dispatcher", "/incidents", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def api(app, client, as_role):
    return Api(app, client, as_role)


@pytest.fixture
def customers_in(app):
    """customers_in("东城区", 3) -> [customer id, ...] (committed)."""
    from ticketing.customers.operations import create_customer
    counter = {"n": 0}

    def make(area: str, count: int = 1) -> list[int]:
        ids = []
        with app.app_context():
            for _ in range(count):
                counter["n"] += 1
                n = counter["n"]
                customer = create_customer(None, {
                    "account_no": f"AC{n:06d}", "name": f"客户{n}", "area": area,
                    "address": f"{area}{n}号", "phones": f"139{n:08d}"})
                ids.append(customer.id)
            db.session.commit()
            db.session.remove()
        return ids

    return make


@pytest.fixture
def open_repairs(app):
    """open_repairs(customer_ids) -> ids of new repair tickets, one per customer."""
    from ticketing.tickets.operations import open_ticket

    def make(customer_ids) -> list[int]:
        with app.app_context():
            ids = [open_ticket(None, kind="repair", customer_id=c, description="没有信号").id
                   for c in customer_ids]
            db.session.commit()
            db.session.remove()
        return ids

    return make
