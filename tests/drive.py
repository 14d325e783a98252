"""What several test packages drive the same way: Shanghai wall times, the frozen clock,
tickets moved through the real operations and the sweep, each call one committed unit of
work (as a request or a timer would commit it)."""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ticketing import clock
from ticketing.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args) -> datetime:
    """A Shanghai wall time, e.g. sh(2026, 3, 2, 10, 0) (a Monday)."""
    return datetime(*args, tzinfo=SHANGHAI)


class Drive:
    def __init__(self, app):
        self.app = app

    def at(self, when: datetime) -> datetime:
        clock.freeze(when)
        return when

    def advance(self, **delta) -> datetime:
        return clock.advance(**delta)

    def fire(self, ticket_id: int, event: str, **fields):
        from ticketing.tickets.models import Ticket
        from ticketing.tickets.operations import fire_event
        with self.app.app_context():
            fire_event(None, db.session.get(Ticket, ticket_id), event, fields)
            db.session.commit()

    def sweep(self, **kwargs) -> int:
        from ticketing.timers.sweep import sweep_due_timers
        with self.app.app_context():
            return sweep_due_timers(**kwargs)

    def department_id(self, code: str) -> int:
        from ticketing.auth.models import Department
        with self.app.app_context():
            return db.session.scalar(select(Department.id).where(Department.code == code))
