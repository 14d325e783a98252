"""Fixtures for dispatch: people by role and field team (bearer tokens and page logins),
repair work orders in customer areas driven through the real workflow, and the clock."""
import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ticketing import clock
from ticketing.extensions import db

PASSWORD = "correct-horse-9"  # conftest's
# key -> (role, department code). Two field teams: repair_team_1 and repair_team_2.
ROLES = {
    "agent": ("agent", "call_center"),
    "dispatcher": ("dispatcher", "dispatch"),
    "tech1": ("staff", "repair_team_1"),
    "tech1b": ("staff", "repair_team_1"),
    "tech2": ("staff", "repair_team_2"),
    "team1_head": ("department_head", "repair_team_1"),
    "ops_staff": ("staff", "operations"),
    "supervisor": ("supervisor", "supervision"),
    "admin": ("admin", "management"),
}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr("ticketing.auth.models.generate_password_hash",
                        lambda password, method=None: generate_password_hash(
                            password, method="pbkdf2:sha256:1"))


class Desk:
    """People, work orders and the API, each call one committed unit of work."""

    def __init__(self, app, client, as_role):
        self.app, self.client, self._as_role = app, client, as_role
        self.users, self._headers = {}, {}
        self._customers = 0

    def at(self, when):
        clock.freeze(when)
        return when

    # -- people ------------------------------------------------------------------------
    def user(self, who):
        self.headers(who)
        return self.users[who]

    def headers(self, who):
        if who not in self._headers:
            role, department = ROLES[who]
            user, headers = self._as_role(role, department, username=who, locale="en")
            self.users[who], self._headers[who] = user, headers
        return self._headers[who]

    def login(self, who):
        self.headers(who)
        self.client.post("/logout")
        response = self.client.post("/login", data={"username": who, "password": PASSWORD})
        assert response.status_code == 302, response.status_code

    def department(self, code) -> int:
        from ticketing.auth.models import Department
        with self.app.app_context():
            return db.session.scalar(select(Department.id).where(Department.code == code))

    # -- the API -----------------------------------------------------------------------
    def get(self, who, path, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(who), **kwargs)

    def post(self, who, path, json=None):
        return self.client.post("/api/v1" + path, json=json, headers=self.headers(who))

    def fire(self, who, ticket_id, event, **fields):
        version = self.ticket(ticket_id).version
        return self.post(who, f"/tickets/{ticket_id}/transitions",
                         {"event": event, "version": version, "fields": fields})

    def dispatch(self, who, ticket_id, team_code, technician=None):
        fields = {"department_id": self.department(team_code)}
        if technician:
            fields["assignee_id"] = self.user(technician).id
        return self.fire(who, ticket_id, "dispatch", **fields)

    # -- work orders -------------------------------------------------------------------
    def work_order(self, area="东城区和平里街道", fault="no_signal", priority="normal") -> int:
        """A repair ticket of a customer in `area`, verified, classified and ordered (on the
        board without a team)."""
        from ticketing.customers.operations import create_customer
        from ticketing.tickets.operations import fire_event, open_ticket
        self._customers += 1
        n = self._customers
        with self.app.app_context():
            repair = self.department("repair")
            customer = create_customer(None, {"account_no": f"DP{n:06d}", "name": f"客户{n}",
                                              "area": area, "phones": f"137{n:08d}"})
            ticket = open_ticket(None, kind="repair", customer_id=customer.id,
                                 priority=priority, description="电视没有信号")
            fire_event(None, ticket, "verify_customer", {})
            fire_event(None, ticket, "classify_fault", {"fault_type": fault})
            fire_event(None, ticket, "issue_work_order", {"department_id": repair})
            db.session.commit()
            ticket_id = ticket.id
            db.session.remove()
        return ticket_id

    def ticket(self, ticket_id):
        from ticketing.tickets.models import Ticket
        with self.app.app_context():
            ticket = db.session.get(Ticket, ticket_id)
            db.session.expunge(ticket)
            return ticket


@pytest.fixture
def desk(app, client, as_role):
    yield Desk(app, client, as_role)
    clock.freeze(None)
