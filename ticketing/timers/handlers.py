"""What a due timer does. Handlers run inside the sweep's savepoint and must be idempotent:
each re-reads (and locks) the state it acts on and does nothing if the work is done or moot.

Other areas register their own kinds with @timer_handler("kind"): fn(timer, now)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from ticketing.auth.models import Department, Role, User, user_roles
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import record_system_note
from ticketing.timers.clocks import ESCALATION, WARNING
from ticketing.timers.models import Notification, SlaClock, Timer

TIMER_HANDLERS: dict[str, Callable[[Timer, datetime], None]] = {}

MANAGEMENT_DEPARTMENT = "management"
HEAD_ROLE = "department_head"


def timer_handler(kind: str):
    def register(fn):
        TIMER_HANDLERS[kind] = fn
        return fn
    return register


# -- recipients ----------------------------------------------------------------------------

def _active_users(*conditions) -> list[User]:
    # Recipients need little more than their ids: no eager roles/department per sweep
    # (roles load lazily where User.can() is asked, as in center_management).
    return list(db.session.scalars(select(User).where(User.active.is_(True), *conditions)
                                   .order_by(User.id).options(lazyload("*"))).unique())


def department_members(department_id: int | None) -> list[User]:
    if department_id is None:
        return []
    return _active_users(User.department_id == department_id)


def department_heads(department_id: int | None) -> list[User]:
    if department_id is None:
        return []
    return _active_users(User.department_id == department_id, User.id.in_(
        select(user_roles.c.user_id).join(Role, Role.id == user_roles.c.role_id)
        .where(Role.name == HEAD_ROLE)))


def center_management() -> list[User]:
    """Management users who watch escalations; every management user if none does."""
    users = _active_users(User.department_id.in_(
        select(Department.id).where(Department.code == MANAGEMENT_DEPARTMENT)))
    watching = [u for u in users if u.can("escalations.view")]
    return watching or users


def notify(users, ticket: Ticket | None, kind: str, data: dict, at: datetime) -> int:
    seen = set()
    for user in users:
        if user is None or user.id in seen:
            continue
        seen.add(user.id)
        db.session.add(Notification(user_id=user.id, ticket_id=ticket.id if ticket else None,
                                    kind=kind, data=data, created_at=at))
    return len(seen)


# -- SLA handlers --------------------------------------------------------------------------

def _live_clock(timer: Timer) -> SlaClock | None:
    """The timer's clock, locked and fresh, if it still runs in the timer's segment."""
    if timer.clock_id is None:
        return None
    clock = db.session.scalars(
        select(SlaClock).where(SlaClock.id == timer.clock_id).with_for_update()
        .execution_options(populate_existing=True)).one_or_none()
    if clock is None or clock.status != "running":
        return None
    if (timer.data or {}).get("segment") != clock.segment:
        return None  # timer of a segment closed by a pause: its replacement carries on
    return clock


def _ticket(clock: SlaClock) -> Ticket:
    # Fresh (a transition may have committed since), and without the page's joined loads.
    return db.session.scalars(select(Ticket).where(Ticket.id == clock.ticket_id)
                              .options(lazyload("*"))
                              .execution_options(populate_existing=True)).one()


def _department_id(clock: SlaClock, ticket: Ticket) -> int | None:
    # The complaint time limit belongs to the department it was assigned to.
    if clock.clock == "complaint_limit" and clock.department_id is not None:
        return clock.department_id
    return ticket.department_id


def _utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _payload(clock: SlaClock, ticket: Ticket, **extra) -> dict:
    return {"clock": clock.clock, "clock_id": clock.id, "round": clock.round,
            "ticket_number": ticket.number, "due_at": clock.due_at.isoformat(), **extra}


@timer_handler(WARNING)
def fire_sla_warning(timer: Timer, now: datetime) -> None:
    clock = _live_clock(timer)
    if clock is None or clock.warned or clock.escalation_level > 0:
        return
    clock.warned = True
    ticket = _ticket(clock)
    data = _payload(clock, ticket)
    record_system_note(ticket, "sla_warning", f"SLA {clock.clock} deadline approaching "
                       f"(due {_utc(clock.due_at)})", data, at=now)
    if ticket.assignee_id is not None:
        users = _active_users(User.id == ticket.assignee_id)
    else:
        users = department_members(_department_id(clock, ticket))
    notify(users, ticket, WARNING, data, now)
    db.session.flush()


@timer_handler(ESCALATION)
def fire_sla_escalation(timer: Timer, now: datetime) -> None:
    """Raise the clock to the timer's level, passing through any level not reached yet,
    so levels fire in order and once each whatever order their timers are claimed in."""
    clock = _live_clock(timer)
    if clock is None:
        return
    for level in range(clock.escalation_level + 1, (timer.level or 0) + 1):
        escalate(clock, level, now)
    db.session.flush()


def escalate(clock: SlaClock, level: int, now: datetime) -> None:
    ticket = _ticket(clock)
    clock.escalation_level = level
    if level == 1:
        clock.breached = True
    department_id = _department_id(clock, ticket)
    data = _payload(clock, ticket, level=level)
    record_system_note(ticket, "escalated", f"SLA {clock.clock} escalated to level {level} "
                       f"(due {_utc(clock.due_at)})", data, at=now)
    if level == 1:
        users = department_members(department_id)
        if ticket.assignee_id is not None:
            users = _active_users(User.id == ticket.assignee_id) + users
    elif level == 2:
        users = department_heads(department_id)
    else:
        users = center_management()
    notify(users, ticket, ESCALATION, data, now)
