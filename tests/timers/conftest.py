"""Helpers for the timers tests: a frozen clock, tickets driven through the real operations,
and the sweep. Times are Asia/Shanghai wall times unless they say UTC."""
import pytest
from sqlalchemy import select

from tests.drive import Drive
from ticketing import clock
from ticketing.extensions import db



class Desk(Drive):
    """Drives tickets and the sweep as the app would, each call one committed unit of work."""

    def open(self, kind="consult", priority="normal", customer_tier=None, **kwargs) -> int:
        from ticketing.customers.models import Customer
        from ticketing.tickets.operations import open_ticket
        with self.app.app_context():
            customer_id = None
            if customer_tier:
                n = db.session.scalar(select(db.func.count(Customer.id))) + 1
                customer = Customer(account_no=f"T{n:06d}", name=f"客户{n}", tier=customer_tier,
                                    address="", area="", notes="")
                db.session.add(customer)
                db.session.flush()
                customer_id = customer.id
            ticket = open_ticket(None, kind=kind, priority=priority, customer_id=customer_id,
                                 caller_phone="" if customer_id else "13800138000",
                                 description=kwargs.pop("description", "测试工单"), **kwargs)
            db.session.commit()
            return ticket.id


    def clocks(self, ticket_id: int) -> dict:
        """{(clock, round): SlaClock} detached snapshots, latest first per name."""
        from ticketing.timers.models import SlaClock
        with self.app.app_context():
            rows = db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id)
                                      .order_by(SlaClock.id)).all()
            for row in rows:
                db.session.expunge(row)
            return rows

    def clock(self, ticket_id: int, name: str):
        live = [c for c in self.clocks(ticket_id) if c.clock == name]
        return live[-1] if live else None


    def history(self, ticket_id: int, events=("escalated", "sla_warning")) -> list:
        from ticketing.tickets.models import TicketEvent
        with self.app.app_context():
            rows = db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.event.in_(events))
                .order_by(TicketEvent.id)).all()
            # A warning recorded as skipped (its deadline had passed) reads "..._skipped".
            return [(row.event + ("_skipped" if (row.data or {}).get("skipped") else ""),
                     (row.data or {}).get("clock"), (row.data or {}).get("level"))
                    for row in rows]

    def timers(self, **where) -> list:
        from ticketing.timers.models import Timer
        with self.app.app_context():
            query = select(Timer).order_by(Timer.due_at, Timer.id)
            for name, value in where.items():
                query = query.where(getattr(Timer, name) == value)
            rows = db.session.scalars(query).all()
            for row in rows:
                db.session.expunge(row)
            return rows

    def handle(self, kind: str, handler) -> None:
        """Register a timer handler (fn(timers, now), a batch) for this test's app."""
        from ticketing.wiring import wiring
        wiring(self.app).timer_handlers[kind] = handler

    def schedule(self, **fields) -> None:
        """Write one timer row (idempotent on its dedupe_key), committed."""
        from ticketing.timers.clocks import _timer_row, schedule_timers
        with self.app.app_context():
            schedule_timers([_timer_row(**fields)])
            db.session.commit()

    def notifications(self, user_id: int) -> list:
        from ticketing.timers.models import Notification
        with self.app.app_context():
            return [(n.kind, n.data.get("level")) for n in db.session.scalars(
                select(Notification).where(Notification.user_id == user_id)
                .order_by(Notification.id))]


@pytest.fixture
def desk(app):
    yield Desk(app)
    clock.freeze(None)

