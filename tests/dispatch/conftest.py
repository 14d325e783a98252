"""Fixtures for dispatch: people by role and field team (bearer tokens and page logins),
repair work orders in customer areas driven through the real workflow, and the clock."""
import pytest

from tests.drive import ApiDrive
from ticketing import clock
from ticketing.extensions import db

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


class Desk(ApiDrive):
    """People, work orders and the API, each call one committed unit of work."""

    roles = ROLES

    def __init__(self, app, client, as_role):
        super().__init__(app, client, as_role)
        self._customers = 0

    def fire(self, who, ticket_id, event, **fields):
        version = self.ticket(ticket_id).version
        return self.post(who, f"/tickets/{ticket_id}/transitions",
                         {"event": event, "version": version, "fields": fields})

    def dispatch(self, who, ticket_id, team_code, technician=None):
        fields = {"department_id": self.department_id(team_code)}
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
            repair = self.department_id("repair")
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
