"""Helpers for the audit stories: tickets driven through the real operations, the frozen
clock, the sweep, and supervisors calling the API."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ticketing import clock
from ticketing.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args) -> datetime:
    """A Shanghai wall time, e.g. sh(2026, 3, 2, 10, 0) (a Monday)."""
    return datetime(*args, tzinfo=SHANGHAI)


class Desk:
    """Tickets, the clock and the sweep, each call one committed unit of work."""

    def __init__(self, app):
        self.app = app

    def at(self, when: datetime) -> datetime:
        clock.freeze(when)
        return when

    def open(self, kind="repair") -> int:
        from ticketing.tickets.operations import open_ticket
        with self.app.app_context():
            ticket = open_ticket(None, kind=kind, caller_phone="13800138000",
                                 description="监管测试")
            db.session.commit()
            return ticket.id

    def fire(self, ticket_id: int, event: str, **fields):
        from ticketing.tickets.models import Ticket
        from ticketing.tickets.operations import fire_event
        with self.app.app_context():
            fire_event(None, db.session.get(Ticket, ticket_id), event, fields)
            db.session.commit()

    def department(self, code: str) -> int:
        from ticketing.auth.models import Department
        with self.app.app_context():
            return db.session.scalar(select(Department.id).where(Department.code == code))

    def close(self, ticket_id: int):
        """Close by the shortest road open to every kind: suspend, then close."""
        self.fire(ticket_id, "suspend", reason="客户要求")
        self.fire(ticket_id, "close", note="已处理")

    def handle_complaint(self, ticket_id: int, department: str = "operations"):
        """A complaint's whole road: inspection, analysis, the responsible department
        handles it, resolved (closed)."""
        self.fire(ticket_id, "send_to_inspection")
        self.fire(ticket_id, "analyse", note="服务态度问题")
        self.fire(ticket_id, "assign", department_id=self.department(department))
        self.fire(ticket_id, "handle", note="已向客户道歉", receipt_person="张三",
                  satisfaction=4)
        self.fire(ticket_id, "resolve", note="已处理完毕")

    def ticket(self, ticket_id: int):
        from ticketing.tickets.models import Ticket
        with self.app.app_context():
            ticket = db.session.get(Ticket, ticket_id)
            db.session.expunge(ticket)
            return ticket

    def audits(self, ticket_id: int | None = None) -> list:
        from ticketing.audits.models import Audit
        with self.app.app_context():
            query = select(Audit).order_by(Audit.id)
            if ticket_id is not None:
                query = query.where(Audit.ticket_id == ticket_id)
            rows = db.session.scalars(query).unique().all()
            for row in rows:
                db.session.expunge(row)
            return rows

    def callbacks(self, ticket_id: int) -> list:
        from ticketing.callbacks.models import Callback
        with self.app.app_context():
            rows = db.session.scalars(select(Callback).where(Callback.ticket_id == ticket_id)
                                      .order_by(Callback.id)).unique().all()
            for row in rows:
                db.session.expunge(row)
            return rows

    def sweep(self) -> int:
        from ticketing.timers.sweep import sweep_due_timers
        with self.app.app_context():
            return sweep_due_timers()

    def notifications(self, user_id: int, kind="audit_overdue") -> list:
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

    def set_rules(self, **changes):
        from ticketing.audits.operations import current_rules, save_rules
        with self.app.app_context():
            rules = current_rules()
            data = {name: getattr(rules, name) for name in (
                "complaints", "unsatisfied_callbacks", "sla_breaches", "sample_percent",
                "due_minutes", "calendar_id")}
            save_rules({**data, **changes}, rules.version)
            db.session.commit()


@pytest.fixture
def desk(app):
    yield Desk(app)
    clock.freeze(None)


@pytest.fixture
def supervisor(as_role):
    return as_role("supervisor", "supervision")


@pytest.fixture(name="sh")
def sh_fixture():
    return sh
