"""Reading audits: the supervisor's queue (open / overdue / done, filters, keyset paging) and
one audit with every handling step and every deadline of its ticket, in SQL."""
from __future__ import annotations

import base64
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from ticketing.audits.models import REASONS, Audit
from ticketing.auth.models import User
from ticketing.clock import utcnow
from ticketing.errors import InvalidInput
from ticketing.extensions import db
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.tickets.permissions import can_see_all_departments, visibility_clause
from ticketing.tickets.queries import decode_cursor
from ticketing.timers.models import SlaClock

STATUS_FILTERS = ("open", "overdue", "done")


def _status_clause(status: str, now: datetime):
    return {"open": Audit.status == "open",
            "overdue": and_(Audit.status == "open", Audit.due_at <= now),
            "done": Audit.status == "done"}[status]


def encode_cursor(audit: Audit) -> str:
    raw = f"{audit.due_at.isoformat()}|{audit.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def audit_page(user, *, status=None, reason=None, kind=None, decision=None, ticket_id=None,
               date_from=None, date_to=None, cursor=None,
               limit=50) -> tuple[list[Audit], str | None]:
    """Audits of the tickets `user` may see, by due time (soonest first), filtered;
    date_from/date_to bound the time the audit was made. Returns (rows, next_cursor)."""
    if status is not None and status not in STATUS_FILTERS:
        raise InvalidInput({"status": [_("Not a valid choice.")]})
    if reason is not None and reason not in REASONS:
        raise InvalidInput({"reason": [_("Not a valid choice.")]})
    query = select(Audit)
    if not can_see_all_departments(user):
        query = query.where(Audit.ticket_id.in_(select(Ticket.id).where(
            visibility_clause(user))))
    if status is not None:
        query = query.where(_status_clause(status, utcnow()))
    if reason is not None:
        query = query.where(("," + Audit.reasons + ",").like(f"%,{reason},%"))
    if kind is not None:
        query = query.where(Audit.ticket_id.in_(select(Ticket.id).where(Ticket.kind == kind)))
    if decision is not None:
        query = query.where(Audit.decision == decision)
    if ticket_id is not None:
        query = query.where(Audit.ticket_id == ticket_id)
    if date_from is not None:
        query = query.where(Audit.created_at >= date_from)
    if date_to is not None:
        query = query.where(Audit.created_at < date_to)
    if cursor:
        at, last_id = decode_cursor(cursor)
        query = query.where(or_(Audit.due_at > at, and_(Audit.due_at == at, Audit.id > last_id)))
    rows = db.session.scalars(query.order_by(Audit.due_at, Audit.id)
                              .limit(limit + 1)).unique().all()
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def open_count(user) -> int:
    """The nav badge: audits open now, of the tickets the user may see."""
    if not user.is_authenticated or not user.can("audits.view"):
        return 0
    query = select(func.count(Audit.id)).where(Audit.status == "open")
    if not can_see_all_departments(user):
        query = query.where(Audit.ticket_id.in_(select(Ticket.id).where(
            visibility_clause(user))))
    return db.session.scalar(query) or 0


def audits_of_ticket(ticket_id: int) -> list[Audit]:
    return db.session.scalars(select(Audit).where(Audit.ticket_id == ticket_id)
                              .order_by(Audit.id)).unique().all()


def steps(ticket_id: int) -> list[dict]:
    """Every history row of the ticket, oldest first: time, person, their department, event,
    states and the note (as the reader's language renders it)."""
    from ticketing.tickets.labels import history_note
    rows = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                              .order_by(TicketEvent.id)).unique().all()
    departments = {}
    actor_ids = sorted({r.actor_id for r in rows if r.actor_id is not None})
    if actor_ids:
        for user in db.session.scalars(select(User).where(User.id.in_(actor_ids))).unique():
            departments[user.id] = user.department
    return [{"id": row.id, "at": row.at, "actor": row.actor,
             "department": departments.get(row.actor_id), "event": row.event,
             "from_state": row.from_state, "to_state": row.to_state,
             "note": history_note(row), "data": row.data or {}} for row in rows]


def deadlines(ticket_id: int, now: datetime | None = None) -> list[dict]:
    """Every SLA clock the ticket ever had, oldest first, and whether it was met: True (met),
    False (missed), None (still running or paused, not yet due)."""
    now = now or utcnow()
    clocks = db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id)
                                .order_by(SlaClock.id)).all()
    out = []
    for clock in clocks:
        if clock.breached:
            met = False
        elif clock.stopped_at is not None:
            met = True
        elif clock.paused_at is None and clock.due_at <= now:
            met = False
        else:
            met = None
        out.append({"clock": clock.clock, "round": clock.round, "started_at": clock.started_at,
                    "due_at": clock.due_at, "stopped_at": clock.stopped_at,
                    "status": clock.status, "breached": bool(clock.breached), "met": met,
                    "business_minutes_used": round(clock.business_minutes_used, 1),
                    "target_minutes": clock.target_minutes})
    return out
