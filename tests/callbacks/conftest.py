"""Helpers for the callback stories: tickets driven through the real operations, the frozen
clock, the sweep, and a callback agent calling the API."""
import pytest
from sqlalchemy import select

from tests.drive import Drive
from ticketing import clock
from ticketing.extensions import db



class Line(Drive):
    """Tickets, the clock and the sweep, each call one committed unit of work."""

    def open(self, kind="repair") -> int:
        from ticketing.tickets.operations import open_ticket
        with self.app.app_context():
            ticket = open_ticket(None, kind=kind, caller_phone="13800138000",
                                 description="回访测试")
            db.session.commit()
            return ticket.id

    def close(self, ticket_id: int):
        """Close by the shortest road open to every kind: suspend, then close."""
        self.fire(ticket_id, "suspend", reason="客户要求")
        self.fire(ticket_id, "close", note="已处理")

    def ticket(self, ticket_id: int):
        from ticketing.tickets.models import Ticket
        with self.app.app_context():
            ticket = db.session.get(Ticket, ticket_id)
            db.session.expunge(ticket)
            return ticket

    def callbacks(self, ticket_id: int) -> list:
        from ticketing.callbacks.models import Callback
        with self.app.app_context():
            rows = db.session.scalars(select(Callback).where(Callback.ticket_id == ticket_id)
                                      .order_by(Callback.id)).unique().all()
            for row in rows:
                db.session.expunge(row)
            return rows

    def notifications(self, user_id: int, kind="callback_overdue") -> list:
        from ticketing.timers.models import Notification
        with self.app.app_context():
            return [n.data for n in db.session.scalars(
                select(Notification).where(Notification.user_id == user_id,
                                           Notification.kind == kind)
                .order_by(Notification.id))]

    def history(self, ticket_id: int, event: str) -> list:
        from ticketing.tickets.models import TicketEvent
        with self.app.app_context():
            rows = db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.event == event)
                .order_by(TicketEvent.id)).all()
            return [(row.note, dict(row.data or {}), row.actor_id) for row in rows]


@pytest.fixture
def line(app):
    yield Line(app)
    clock.freeze(None)


@pytest.fixture
def agent(as_role):
    """A callback agent and their API headers."""
    return as_role("callback_agent", "call_center")


def attempt(client, headers, callback_id, **body):
    version = body.pop("version", None)
    if version is None:
        version = client.get(f"/api/v1/callbacks/{callback_id}",
                             headers=headers).get_json()["version"]
    return client.post(f"/api/v1/callbacks/{callback_id}/attempts", headers=headers,
                       json={"version": version, **body})


@pytest.fixture
def call(client):
    return lambda headers, callback_id, **body: attempt(client, headers, callback_id, **body)

