"""Reading callbacks: the agent's queue and the callback query (回访信息查询), in SQL."""
from __future__ import annotations

import base64
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from ticketing.auth.models import User
from ticketing.callbacks.models import Callback
from ticketing.clock import utcnow
from ticketing.errors import InvalidInput
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.queries import decode_cursor

# What a filter on status means; `waiting`: not reached, the retry is not due yet.
STATUS_FILTERS = ("due", "overdue", "waiting", "done", "unreachable", "superseded")


def _status_clause(status: str, now: datetime):
    pending = Callback.status == "pending"
    return {
        "due": and_(pending, Callback.not_before <= now, Callback.due_at > now),
        "overdue": and_(pending, Callback.due_at <= now),
        "waiting": and_(pending, Callback.not_before > now, Callback.due_at > now),
    }.get(status, Callback.status == status)


def encode_cursor(callback: Callback) -> str:
    raw = f"{callback.due_at.isoformat()}|{callback.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _conditions(*, status=None, kind=None, agent_id=None, ticket_id=None, date_from=None,
                date_to=None, department_id=None) -> list:
    """The callback query's filters (callback_page and callback_export_statement)."""
    if status is not None and status not in STATUS_FILTERS:
        raise InvalidInput({"status": [_("Not a valid choice.")]})
    where = []
    if status is not None:
        where.append(_status_clause(status, utcnow()))
    if kind is not None:
        where.append(Callback.kind == kind)
    if agent_id is not None:
        where.append(Callback.agent_id == agent_id)
    if ticket_id is not None:
        where.append(Callback.ticket_id == ticket_id)
    if department_id is not None:
        where.append(select(Ticket.id).where(
            Ticket.id == Callback.ticket_id, Ticket.department_id == department_id).exists())
    if date_from is not None:
        where.append(Callback.created_at >= date_from)
    if date_to is not None:
        where.append(Callback.created_at < date_to)
    return where


def callback_page(*, cursor=None, limit=50, **filters) -> tuple[list[Callback], str | None]:
    """Callbacks by due time (soonest first), filtered (status, kind, agent_id, ticket_id;
    date_from/date_to bound the time the callback was created, the ticket's closing;
    department_id: tickets now in that department, the reports' cut). Returns (rows,
    next_cursor or None)."""
    query = select(Callback).where(*_conditions(**filters))
    if cursor:
        at, last_id = decode_cursor(cursor)
        query = query.where(or_(Callback.due_at > at,
                                and_(Callback.due_at == at, Callback.id > last_id)))
    rows = db.session.scalars(query.order_by(Callback.due_at, Callback.id)
                              .limit(limit + 1)).unique().all()
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


EXPORT_COLUMNS = ("number", "kind", "created_at", "due_at", "status", "attempts",
                  "agent_full_name", "agent_username", "done_at", "result", "overall",
                  "attitude", "standard", "effect", "comment")


def callback_export_statement(**filters):
    """Every callback callback_page would list (its filters, its order), as one statement of
    plain columns (EXPORT_COLUMNS) to be streamed: the CSV export loads no Callback, Ticket or
    User objects and pages through no cursors."""
    c = Callback.__table__
    # Aliased: the department cut's EXISTS must correlate to the callback only.
    tickets, agents = Ticket.__table__.alias("numbered"), User.__table__.alias("agent")
    return (select(tickets.c.number, c.c.kind, c.c.created_at, c.c.due_at, c.c.status,
                   c.c.attempts, agents.c.full_name, agents.c.username, c.c.done_at,
                   c.c.result, c.c.overall, c.c.attitude, c.c.standard, c.c.effect,
                   c.c.comment)
            .select_from(c.outerjoin(tickets, tickets.c.id == c.c.ticket_id)
                         .outerjoin(agents, agents.c.id == c.c.agent_id))
            .where(*_conditions(**filters)).order_by(c.c.due_at, c.c.id))


def queue(limit: int = 100) -> list[Callback]:
    """What a callback agent can work now: pending and not waiting for a retry, the most
    urgent (overdue) first."""
    now = utcnow()
    return db.session.scalars(
        select(Callback).where(Callback.status == "pending", Callback.not_before <= now)
        .order_by(Callback.due_at, Callback.id).limit(limit)).unique().all()


def callbacks_of_ticket(ticket_id: int) -> list[Callback]:
    return db.session.scalars(select(Callback).where(Callback.ticket_id == ticket_id)
                              .order_by(Callback.id)).unique().all()
