"""Fixtures for the tickets API: people by role and department, and a small API driver."""
import pytest
from sqlalchemy import func, select

from ticketing.auth.models import Department
from ticketing.extensions import db
from ticketing.tickets.models import Ticket, TicketEvent

# Who does what in the tests: key -> (role, department code).
PEOPLE = {
    "agent": ("agent", "call_center"),
    "agent2": ("agent", "call_center"),
    "dispatcher": ("dispatcher", "dispatch"),
    "dispatcher2": ("dispatcher", "dispatch"),
    "ops": ("staff", "operations"),
    "ops_head": ("department_head", "operations"),
    "inspector": ("staff", "inspection"),
    "repair": ("staff", "repair"),
    "team1": ("staff", "repair_team_1"),
    "team2": ("staff", "repair_team_2"),
    "head1": ("department_head", "repair_team_1"),
    "callback": ("callback_agent", "callback"),
    "supervisor": ("supervisor", "supervision"),
    "admin": ("admin", "management"),
}


class Person:
    def __init__(self, key, user, headers):
        self.key, self.user, self.headers = key, user, headers
        self.id, self.username = user.id, user.username


class People:
    """people["dispatcher"] creates that user (and a bearer token) on first use."""

    def __init__(self, as_role):
        self._as_role, self._made = as_role, {}

    def __getitem__(self, key) -> Person:
        if key not in self._made:
            role, department = PEOPLE[key]
            user, headers = self._as_role(role, department, username=key,
                                          full_name=f"{key.title()} Person", locale="en")
            self._made[key] = Person(key, user, headers)
        return self._made[key]


@pytest.fixture
def people(as_role):
    return People(as_role)


class TicketApi:
    """Drives /api/v1 as the given person; every call returns the response."""

    def __init__(self, app, client, people):
        self.app, self.client, self.people = app, client, people

    def headers(self, who):
        return self.people[who].headers if isinstance(who, str) else who

    def get(self, who, path, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(who), **kwargs)

    def post(self, who, path, json=None, **kwargs):
        return self.client.post("/api/v1" + path, json=json, headers=self.headers(who),
                                **kwargs)

    def open(self, who="agent", **fields) -> dict:
        """Open a ticket (consult by phone unless told otherwise) and return its JSON."""
        body = {"kind": "consult", "caller_phone": "13900000000",
                "description": "Caller asks about the bill", **fields}
        response = self.post(who, "/tickets", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def ticket(self, who, ticket_id) -> dict:
        response = self.get(who, f"/tickets/{ticket_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def fire(self, who, ticket_id, event, version=None, **fields):
        """Fire an event with the current version unless one is given."""
        if version is None:
            version = self.ticket("admin", ticket_id)["version"]
        return self.post(who, f"/tickets/{ticket_id}/transitions",
                         {"event": event, "version": version, **fields})

    def department_id(self, code) -> int:
        with self.app.app_context():
            return db.session.scalar(select(Department.id).where(Department.code == code))

    def customer(self, tier="ordinary", phones=("13800000001",), account_no=None) -> dict:
        account_no = account_no or f"ACC-{tier}-{'-'.join(phones) or 'none'}"
        response = self.post("agent", "/customers", {"account_no": account_no, "name": "张三",
                                                     "tier": tier, "phones": list(phones)})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def stored(self, ticket_id) -> dict:
        """What the database holds, read past the API: state, version, history rows."""
        with self.app.app_context():
            ticket = db.session.get(Ticket, ticket_id)
            rows = db.session.scalar(select(func.count(TicketEvent.id)).where(
                TicketEvent.ticket_id == ticket_id))
            return {"state": ticket.state, "version": ticket.version, "history": rows,
                    "kind": ticket.kind, "department_id": ticket.department_id,
                    "assignee_id": ticket.assignee_id}


@pytest.fixture
def api(app, client, people):
    return TicketApi(app, client, people)
