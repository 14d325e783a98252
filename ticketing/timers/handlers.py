"""What a due timer does. Handlers run inside the sweep's savepoint and must be idempotent:
each re-reads (and locks) the state it acts on and does nothing if the work is done or moot.

Other areas register their own kinds with @timer_handler("kind"): fn(timer, now). A kind may
also have a batch handler, @timer_handler("kind", batch=True): fn(timers, now), which the
sweep calls once per claimed batch with all that batch's timers of the kinds it is registered
for (in due order), inside one savepoint. If it raises, the sweep fires those timers one by one
with their per-timer handlers instead, so a kind with a batch handler needs a per-timer handler
too, and both must write the same rows."""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import ARRAY, JSON, Integer, and_, any_, bindparam, insert, select, update
from sqlalchemy.orm import lazyload

from ticketing.auth.models import Department, Role, User, user_roles
from ticketing.extensions import db
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.tickets.operations import record_system_note
from ticketing.timers.clocks import ESCALATION, WARNING
from ticketing.timers.models import Notification, SlaClock, Timer

TIMER_HANDLERS: dict[str, Callable[[Timer, datetime], None]] = {}
BATCH_HANDLERS: dict[str, Callable[[list[Timer], datetime], None]] = {}

MANAGEMENT_DEPARTMENT = "management"
HEAD_ROLE = "department_head"


def timer_handler(*kinds: str, batch: bool = False):
    """Register fn as the handler of these timer kinds: fn(timer, now), or with batch=True
    fn(timers, now) for many timers at once (see the module docstring)."""
    def register(fn):
        for kind in kinds:
            (BATCH_HANDLERS if batch else TIMER_HANDLERS)[kind] = fn
        return fn
    return register


# -- recipients ----------------------------------------------------------------------------

def _active_users(*conditions) -> list[User]:
    # Recipients need little more than their ids: no eager roles/department per sweep
    # (roles load lazily where User.can() is asked, as in center_management).
    return list(db.session.scalars(select(User).where(User.active.is_(True), *conditions)
                                   .order_by(User.id).options(lazyload("*"))).unique())


def _heads_subquery():
    return (select(user_roles.c.user_id).join(Role, Role.id == user_roles.c.role_id)
            .where(Role.name == HEAD_ROLE))


def department_members(department_id: int | None) -> list[User]:
    if department_id is None:
        return []
    return _active_users(User.department_id == department_id)


def department_heads(department_id: int | None) -> list[User]:
    if department_id is None:
        return []
    return _active_users(User.department_id == department_id, User.id.in_(_heads_subquery()))


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


def among(column, values: Iterable[int]):
    """column IN values, for a batch's ids. On PostgreSQL as `= ANY(array)`: one parameter,
    so the statement's text (and psycopg's parsing of it) is the same whatever the count."""
    values = list(values)
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(Integer)))
    return column.in_(values)


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


class BatchRecipients:
    """The same recipients as department_members / department_heads / center_management and
    the active assignee, for a whole batch: one query per kind of recipient, by user id."""

    def __init__(self):
        self._assignees: set[int] = set()
        self._members: set[int] = set()
        self._heads: set[int] = set()
        self._management = False
        self.active_assignees: set[int] = set()
        self.members: dict[int, list[int]] = defaultdict(list)
        self.heads: dict[int, list[int]] = defaultdict(list)
        self.management: list[int] = []

    def want(self, assignee_id: int | None = None, members_of: int | None = None,
             heads_of: int | None = None, management: bool = False) -> None:
        if assignee_id is not None:
            self._assignees.add(assignee_id)
        if members_of is not None:
            self._members.add(members_of)
        if heads_of is not None:
            self._heads.add(heads_of)
        self._management = self._management or management

    def load(self) -> None:
        active = User.active.is_(True)
        if self._assignees:
            self.active_assignees = set(db.session.scalars(
                select(User.id).where(active, among(User.id, sorted(self._assignees)))))
        for wanted, found, extra in ((self._members, self.members, ()),
                                     (self._heads, self.heads,
                                      (User.id.in_(_heads_subquery()),))):
            if wanted:
                for user_id, department_id in db.session.execute(
                        select(User.id, User.department_id)
                        .where(active, among(User.department_id, sorted(wanted)), *extra)
                        .order_by(User.id)):
                    found[department_id].append(user_id)
        if self._management:
            self.management = [user.id for user in center_management()]

    def assignee(self, assignee_id: int | None) -> list[int]:
        return [assignee_id] if assignee_id in self.active_assignees else []


# -- SLA handlers --------------------------------------------------------------------------

def _is_live(clock: SlaClock | None, timer: Timer) -> bool:
    """The clock still runs in the timer's segment."""
    if clock is None or clock.status != "running":
        return False
    # A timer of a segment closed by a pause: its replacement carries on.
    return (timer.data or {}).get("segment") == clock.segment


def _live_clock(timer: Timer) -> SlaClock | None:
    """The timer's clock, locked and fresh, if it still runs in the timer's segment."""
    if timer.clock_id is None:
        return None
    clock = db.session.scalars(
        select(SlaClock).where(SlaClock.id == timer.clock_id).with_for_update()
        .execution_options(populate_existing=True)).one_or_none()
    return clock if _is_live(clock, timer) else None


def _ticket(clock: SlaClock) -> Ticket:
    # Fresh (a transition may have committed since), and without the page's joined loads.
    return db.session.scalars(select(Ticket).where(Ticket.id == clock.ticket_id)
                              .options(lazyload("*"))
                              .execution_options(populate_existing=True)).one()


def _department_id(clock: SlaClock, ticket) -> int | None:
    # The complaint time limit belongs to the department it was assigned to.
    if clock.clock == "complaint_limit" and clock.department_id is not None:
        return clock.department_id
    return ticket.department_id


def _utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _payload(clock: SlaClock, ticket, **extra) -> dict:
    return {"clock": clock.clock, "clock_id": clock.id, "round": clock.round,
            "ticket_number": ticket.number, "due_at": clock.due_at.isoformat(), **extra}


def _warning_note(clock: SlaClock) -> str:
    return f"SLA {clock.clock} deadline approaching (due {_utc(clock.due_at)})"


def _escalation_note(clock: SlaClock, level: int) -> str:
    return f"SLA {clock.clock} escalated to level {level} (due {_utc(clock.due_at)})"


@timer_handler(WARNING)
def fire_sla_warning(timer: Timer, now: datetime) -> None:
    clock = _live_clock(timer)
    if clock is None or clock.warned or clock.escalation_level > 0:
        return
    clock.warned = True
    ticket = _ticket(clock)
    data = _payload(clock, ticket)
    record_system_note(ticket, "sla_warning", _warning_note(clock), data, at=now)
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
    record_system_note(ticket, "escalated", _escalation_note(clock, level), data, at=now)
    if level == 1:
        users = department_members(department_id)
        if ticket.assignee_id is not None:
            users = _active_users(User.id == ticket.assignee_id) + users
    elif level == 2:
        users = department_heads(department_id)
    else:
        users = center_management()
    notify(users, ticket, ESCALATION, data, now)


class _BatchClock:
    """What the batch handler reads of a clock and changes in it (no ORM instance: cheaper)."""

    __slots__ = ("id", "ticket_id", "clock", "round", "department_id", "due_at", "segment",
                 "running", "warned", "escalation_level", "breached", "changes")

    def __init__(self, row):
        (self.id, self.ticket_id, self.clock, self.round, self.department_id, self.due_at,
         self.segment, self.running, self.warned, self.escalation_level) = row
        self.breached = None  # not read: only ever set
        self.changes: dict[str, object] = {}

    @property
    def status(self) -> str:  # only "running" matters here (see SlaClock.status)
        return "running" if self.running else "not running"

    def set(self, name: str, value) -> None:
        setattr(self, name, value)
        self.changes[name] = value


def _lock_clocks(clock_ids: list[int]) -> dict[int, _BatchClock]:
    """The clocks, fresh and locked in one statement, in id order: concurrent sweeps lock
    them in the same order and cannot deadlock on them."""
    c = SlaClock.__table__.c
    running = and_(c.stopped_at.is_(None), c.paused_at.is_(None)).label("running")
    rows = db.session.execute(
        select(c.id, c.ticket_id, c.clock, c.round, c.department_id, c.due_at, c.segment,
               running, c.warned, c.escalation_level)
        .where(among(c.id, clock_ids)).order_by(c.id).with_for_update())
    return {row[0]: _BatchClock(row) for row in rows}


def _save_clocks(clocks: Iterable[_BatchClock]) -> None:
    """One UPDATE per distinct change (warned; raised to level n, breached or not)."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for clock in clocks:
        if clock.changes:
            groups[tuple(sorted(clock.changes.items()))].append(clock.id)
    table = SlaClock.__table__
    for changes, ids in groups.items():
        db.session.execute(update(table).where(among(table.c.id, ids)).values(dict(changes)))
    # An ORM copy of a changed clock loaded earlier in this session would now be stale.
    changed = {i for ids in groups.values() for i in ids}
    identity_map = db.session.identity_map
    for key in [k for k in identity_map.keys() if k[0] is SlaClock and k[1][0] in changed]:
        loaded = identity_map.get(key)
        if loaded is not None:
            db.session.expire(loaded)


def _insert_many(table, rows: list[dict]) -> None:
    """Insert plain rows in the session's transaction: COPY on PostgreSQL (a batch writes
    thousands of notification and history rows; executemany spent most of the sweep's time
    binding them one by one), executemany on SQLite (which loops in C)."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[name]) if name in json_columns else row[name]
                            for name in columns])


@timer_handler(WARNING, ESCALATION, batch=True)
def fire_sla_timers(timers: list[Timer], now: datetime) -> None:
    """fire_sla_warning / fire_sla_escalation for a whole batch, in the timers' order, with
    the same effects: the batch's clocks are locked in one statement, their tickets read in
    one, recipients looked up once per batch, history rows and notifications written with one
    INSERT each, the clocks updated with one UPDATE per kind of change."""
    clock_ids = sorted({t.clock_id for t in timers if t.clock_id is not None})
    if not clock_ids:
        return
    db.session.flush()
    clocks = _lock_clocks(clock_ids)
    # What fires, decided in memory exactly as the per-timer handlers would, one by one.
    fired: list[tuple[_BatchClock, int | None]] = []  # (clock, level); None: the warning
    for timer in timers:
        clock = clocks.get(timer.clock_id)
        if not _is_live(clock, timer):
            continue
        if timer.kind == WARNING:
            if clock.warned or clock.escalation_level > 0:
                continue
            clock.set("warned", True)
            fired.append((clock, None))
        elif timer.kind == ESCALATION:
            for level in range(clock.escalation_level + 1, (timer.level or 0) + 1):
                clock.set("escalation_level", level)
                if level == 1:
                    clock.set("breached", True)
                fired.append((clock, level))
        else:  # pragma: no cover - registered for these two kinds only
            raise LookupError(f"not an SLA timer: {timer.kind!r}")
    if not fired:
        return
    # Fresh (a transition may have committed since): only the columns the rows need.
    ticket_ids = sorted({clock.ticket_id for clock, _level in fired})
    tickets = {row.id: row for row in db.session.execute(
        select(Ticket.id, Ticket.number, Ticket.state, Ticket.assignee_id,
               Ticket.department_id).where(among(Ticket.id, ticket_ids)))}
    recipients = BatchRecipients()
    for clock, level in fired:
        ticket = tickets[clock.ticket_id]  # KeyError: the one-by-one fallback reports it
        department_id = _department_id(clock, ticket)
        if level is None:
            if ticket.assignee_id is not None:
                recipients.want(assignee_id=ticket.assignee_id)
            else:
                recipients.want(members_of=department_id)
        elif level == 1:
            recipients.want(assignee_id=ticket.assignee_id, members_of=department_id)
        elif level == 2:
            recipients.want(heads_of=department_id)
        else:
            recipients.want(management=True)
    recipients.load()
    events, notifications = [], []
    for clock, level in fired:
        ticket = tickets[clock.ticket_id]
        department_id = _department_id(clock, ticket)
        if level is None:
            event, kind, data = "sla_warning", WARNING, _payload(clock, ticket)
            note = _warning_note(clock)
            if ticket.assignee_id is not None:
                users = recipients.assignee(ticket.assignee_id)
            else:
                users = recipients.members.get(department_id, [])
        else:
            event, kind, data = "escalated", ESCALATION, _payload(clock, ticket, level=level)
            note = _escalation_note(clock, level)
            if level == 1:
                users = recipients.assignee(ticket.assignee_id) + \
                    recipients.members.get(department_id, [])
            elif level == 2:
                users = recipients.heads.get(department_id, [])
            else:
                users = recipients.management
        events.append({"ticket_id": ticket.id, "at": now, "actor_id": None, "event": event,
                       "from_state": ticket.state, "to_state": ticket.state, "note": note,
                       "data": data})
        notifications.extend({"user_id": user_id, "ticket_id": ticket.id, "kind": kind,
                              "data": data, "created_at": now} for user_id in _unique(users))
    _save_clocks(clocks.values())
    _insert_many(TicketEvent.__table__, events)
    _insert_many(Notification.__table__, notifications)
