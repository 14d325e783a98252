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


class ClosingDrive(Drive):
    """Tickets closed and surveyed: what the callback and audit stories share."""

    description = "测试工单"

    def open(self, kind="repair") -> int:
        from ticketing.tickets.operations import open_ticket
        with self.app.app_context():
            ticket = open_ticket(None, kind=kind, caller_phone="13800138000",
                                 description=self.description)
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

    def notifications(self, user_id: int, kind: str) -> list:
        from ticketing.timers.models import Notification
        with self.app.app_context():
            return [n.data for n in db.session.scalars(
                select(Notification).where(Notification.user_id == user_id,
                                           Notification.kind == kind)
                .order_by(Notification.id))]

    def history(self, ticket_id: int, event: str) -> list:
        """[(note, data, actor id)] of the ticket's history rows of this event."""
        from ticketing.tickets.models import TicketEvent
        with self.app.app_context():
            rows = db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.event == event)
                .order_by(TicketEvent.id)).all()
            return [(row.note, dict(row.data or {}), row.actor_id) for row in rows]

    def messages(self, ticket_id: int, event: str, locale: str) -> list[str]:
        """The text each history row of this event shows a reader of `locale`."""
        from flask_babel import force_locale

        from ticketing.tickets.labels import history_note
        from ticketing.tickets.models import TicketEvent
        with self.app.test_request_context(), force_locale(locale):
            rows = db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.event == event)
                .order_by(TicketEvent.id)).all()
            return [history_note(row) for row in rows]


class ApiDrive(Drive):
    """People by key, made on first use from `roles` ({key: (role, department code)}), and
    the API (or a page login) as them."""

    roles: dict[str, tuple[str, str | None]] = {}

    def __init__(self, app, client, as_role):
        super().__init__(app)
        self.client, self._as_role = client, as_role
        self.users, self._headers = {}, {}

    def headers(self, who):
        if who not in self._headers:
            role, department = self.roles[who]
            user, headers = self._as_role(role, department, username=who, locale="en")
            self.users[who], self._headers[who] = user, headers
        return self._headers[who]

    def user(self, who):
        self.headers(who)
        return self.users[who]

    def login(self, who):
        from tests.conftest import PASSWORD
        self.headers(who)
        self.client.post("/logout")
        response = self.client.post("/login", data={"username": who, "password": PASSWORD})
        assert response.status_code == 302, response.status_code

    def get(self, who, path, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(who), **kwargs)

    def post(self, who, path, json=None):
        return self.client.post("/api/v1" + path, json=json if json is not None else {},
                                headers=self.headers(who))

    def patch(self, who, path, json=None):
        return self.client.patch("/api/v1" + path, json=json, headers=self.headers(who))
