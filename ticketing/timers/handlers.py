"""What a due SLA timer does: the escalation ladder (data), fired a batch at a time.

Each running clock has one pending timer: its next mark on the ladder. When it fires, the
handler records that mark and every later mark that is already due, in ladder order, then
writes the timer of the next mark in the same transaction. So marks fire once each and in
order however many schedulers run, and a timer that fell due while nothing ran catches up on
start in the same order. A warning whose deadline has already passed when it fires (after
downtime, or a clock resumed past its warning) is recorded as skipped and notifies no one.

Recipients are named by rule, never by role name: the assignee, the members of the clock's
department, the members of that department holding a permission, or anyone holding one.

The handler takes a batch (one timer is a batch of one): the clocks are locked in one
statement in id order, skipping those a transition holds right now (their timers are put back
for a moment, not failed), tickets read in one statement, recipients looked up once per
batch, history rows and notifications written in one statement each."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import ARRAY, Integer, and_, any_, bindparam, select, update

from ticketing.auth.models import RolePermission, User, user_roles
from ticketing.dbsetup import insert_rows
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import record_system_notes
from ticketing.timers.clocks import ESCALATION, WARNING, next_mark_row, schedule_timers
from ticketing.timers.models import Notification, SlaClock
from ticketing.timers.policies import calendar_for
from workflows.business_time import add_business_minutes

# The ladder (SPEC §3). "after_target": (clock column, sign) giving the mark's business
# minutes from the clock's target; None: at the target itself.
LADDER = (
    {"level": 0, "kind": WARNING, "event": "sla_warning", "after_target": ("warn_before_minutes", -1),
     "notify": ("assignee", "department_if_unassigned")},
    {"level": 1, "kind": ESCALATION, "event": "escalated", "after_target": None, "breach": True,
     "notify": ("assignee", "department")},
    {"level": 2, "kind": ESCALATION, "event": "escalated",
     "after_target": ("level2_after_minutes", 1),
     "notify": ("department_with:sla.escalation_level2",)},
    {"level": 3, "kind": ESCALATION, "event": "escalated",
     "after_target": ("level3_after_minutes", 1),
     "notify": ("anyone_with:sla.escalation_level3",)},
)
TOP_LEVEL = LADDER[-1]["level"]

LADDER_PERMISSIONS = {
    "sla.escalation_level2": _l("Receive level-2 SLA escalations of my department"),
    "sla.escalation_level3": _l("Receive level-3 SLA escalations (center management)"),
}
LADDER_GRANTS = {"department_head": ["sla.escalation_level2"]}

# A clock a transition holds right now: its timer is tried again after this.
BUSY_RETRY = timedelta(seconds=5)


def among(column, values: Iterable[int]):
    """column IN values, for a batch's ids. On PostgreSQL as `= ANY(array)`: one parameter,
    so the statement's text (and psycopg's parsing of it) is the same whatever the count."""
    values = list(values)
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(Integer)))
    return column.in_(values)


# -- recipients ----------------------------------------------------------------------------

class Recipients:
    """Every recipient rule of the ladder, answered for a whole batch: one query per rule."""

    def __init__(self):
        self._wanted: dict[str, set] = defaultdict(set)
        self._found: dict[str, dict] = {}

    def want(self, rule: str, ticket, department_id: int | None) -> None:
        name, _sep, _permission = rule.partition(":")
        if name == "assignee" or name == "department_if_unassigned":
            self._wanted["assignee"].add(ticket.assignee_id)
        if name in ("department", "department_if_unassigned") or name == "department_with":
            self._wanted[rule if name == "department_with" else "department"].add(department_id)
        if name == "anyone_with":
            self._wanted[rule].add(None)

    def load(self) -> None:
        active = User.active.is_(True)
        for rule, keys in self._wanted.items():
            keys = sorted(k for k in keys if k is not None)
            name, _sep, permission = rule.partition(":")
            if name == "assignee":
                found = set(db.session.scalars(select(User.id).where(active,
                                                                   among(User.id, keys)))) \
                    if keys else set()
                self._found[rule] = {k: [k] for k in found}
                continue
            stmt = select(User.id, User.department_id).where(active).order_by(User.id)
            if permission:
                stmt = stmt.where(User.id.in_(
                    select(user_roles.c.user_id).join(
                        RolePermission, RolePermission.role_id == user_roles.c.role_id)
                    .where(RolePermission.permission == permission)))
            if name != "anyone_with":
                if not keys:
                    self._found[rule] = {}
                    continue
                stmt = stmt.where(among(User.department_id, keys))
            found: dict = defaultdict(list)
            for user_id, department_id in db.session.execute(stmt):
                found[None if name == "anyone_with" else department_id].append(user_id)
            self._found[rule] = found

    def of(self, rules, ticket, department_id: int | None) -> list[int]:
        users: list[int] = []
        for rule in rules:
            name = rule.partition(":")[0]
            if name == "assignee":
                users += self._found["assignee"].get(ticket.assignee_id, [])
            elif name == "department_if_unassigned":
                if ticket.assignee_id is None:
                    users += self._found["department"].get(department_id, [])
            elif name == "department":
                users += self._found["department"].get(department_id, [])
            elif name == "department_with":
                users += self._found[rule].get(department_id, [])
            else:
                users += self._found[rule].get(None, [])
        return list(dict.fromkeys(users))


# -- the batch handler ---------------------------------------------------------------------

class _BatchClock:
    """What the handler reads of a clock and changes in it (no ORM instance: cheaper)."""

    __slots__ = ("id", "ticket_id", "clock", "round", "department_id", "due_at", "segment",
                 "running", "warned", "escalation_level", "calendar_id", "target_minutes",
                 "warn_before_minutes", "level2_after_minutes", "level3_after_minutes",
                 "breached", "changes")

    def __init__(self, row):
        for name in self.__slots__[:-2]:
            setattr(self, name, getattr(row, name))
        self.breached = None  # not read: only ever set
        self.changes: dict[str, object] = {}

    def set(self, name: str, value) -> None:
        setattr(self, name, value)
        self.changes[name] = value


def _lock_clocks(clock_ids: list[int]) -> dict[int, _BatchClock]:
    """The clocks, fresh and locked in id order (concurrent sweeps cannot deadlock on them),
    skipping any that a transition or another sweep holds: nobody waits on a sweep's locks
    and a sweep waits on nobody's."""
    c = SlaClock.__table__.c
    running = and_(c.stopped_at.is_(None), c.paused_at.is_(None)).label("running")
    rows = db.session.execute(
        select(c.id, c.ticket_id, c.clock, c.round, c.department_id, c.due_at, c.segment,
               running, c.warned, c.escalation_level, c.calendar_id, c.target_minutes,
               c.warn_before_minutes, c.level2_after_minutes, c.level3_after_minutes)
        .where(among(c.id, clock_ids)).order_by(c.id).with_for_update(skip_locked=True))
    return {row.id: _BatchClock(row) for row in rows}


def _live(clock: _BatchClock | None, timer) -> bool:
    """The clock still runs in the timer's segment (a pause closed older segments)."""
    return (clock is not None and clock.running
            and (timer.data or {}).get("segment") == clock.segment)


def _department_id(clock: _BatchClock, ticket) -> int | None:
    # The complaint time limit belongs to the department it was assigned to.
    if clock.clock == "complaint_limit" and clock.department_id is not None:
        return clock.department_id
    return ticket.department_id


def _mark_at(clock: _BatchClock, step: dict, now: datetime) -> datetime:
    """When a mark at or after the target falls due (the clock ran without a pause since
    its timer was written, or the timer would belong to an older segment)."""
    if step["after_target"] is None:
        return clock.due_at
    column, sign = step["after_target"]
    minutes = sign * getattr(clock, column)
    calendar = calendar_for(clock.calendar_id, now)
    return add_business_minutes(clock.due_at, max(minutes, 0), calendar)


def _payload(clock: _BatchClock, ticket, step: dict, skipped: bool = False) -> dict:
    """A history row's and a notification's parameters: rendered in the reader's language
    and time zone by the catalogue (ticketing.timers.labels), never stored as text."""
    data = {"clock": clock.clock, "clock_id": clock.id, "round": clock.round,
            "ticket_number": ticket.number, "due_at": clock.due_at.isoformat()}
    if step["level"]:
        data["level"] = step["level"]
    if skipped:
        data["skipped"] = True
    return data


def fire_sla_timers(timers: list, now: datetime) -> list[int]:
    """Fire a batch of SLA timers; returns the ids of timers to try again shortly (their
    clock was held by someone else), which the sweep puts back."""
    clock_ids = sorted({t.clock_id for t in timers if t.clock_id is not None})
    if not clock_ids:
        return []
    db.session.flush()
    clocks = _lock_clocks(clock_ids)
    busy = [t.id for t in timers if t.clock_id is not None and t.clock_id not in clocks]
    fired: list[tuple[_BatchClock, dict, bool]] = []  # (clock, ladder step, skipped)
    next_marks: dict[int, dict] = {}
    for timer in timers:
        clock = clocks.get(timer.clock_id)
        if not _live(clock, timer):
            continue
        level = timer.level or 0
        while True:
            step = LADDER[level]
            if level == 0:
                if not clock.warned and clock.escalation_level == 0:
                    clock.set("warned", True)
                    # Too late to warn: say so in the history, tell no one.
                    fired.append((clock, step, now >= clock.due_at))
            else:
                # An old-style timer may name a level past the next one: pass through each.
                for passing in range(clock.escalation_level + 1, level + 1):
                    clock.set("escalation_level", passing)
                    if LADDER[passing].get("breach"):
                        clock.set("breached", True)
                    fired.append((clock, LADDER[passing], False))
            level = max(level, clock.escalation_level) + 1
            if level > TOP_LEVEL:
                next_marks.pop(clock.id, None)
                break
            due = _mark_at(clock, LADDER[level], now)
            if due > now:
                next_marks[clock.id] = next_mark_row(clock, LADDER[level], due, now)
                break
    if fired:
        _record(fired, now)
    _save_clocks(clocks.values())
    if next_marks:
        schedule_timers(list(next_marks.values()))
    return busy


def _record(fired, now: datetime) -> None:
    # Fresh (a transition may have committed since): only the columns the rows need.
    ticket_ids = sorted({clock.ticket_id for clock, _step, _skipped in fired})
    tickets = {row.id: row for row in db.session.execute(
        select(Ticket.id, Ticket.number, Ticket.state, Ticket.assignee_id,
               Ticket.department_id).where(among(Ticket.id, ticket_ids)))}
    recipients = Recipients()
    for clock, step, skipped in fired:
        ticket = tickets[clock.ticket_id]
        if not skipped:
            for rule in step["notify"]:
                recipients.want(rule, ticket, _department_id(clock, ticket))
    recipients.load()
    notes, notifications = [], []
    for clock, step, skipped in fired:
        ticket = tickets[clock.ticket_id]
        data = _payload(clock, ticket, step, skipped)
        notes.append((ticket, step["event"], data))
        if skipped:
            continue
        users = recipients.of(step["notify"], ticket, _department_id(clock, ticket))
        notifications.extend({"user_id": user_id, "ticket_id": ticket.id, "kind": step["kind"],
                              "data": data, "created_at": now} for user_id in users)
    record_system_notes(notes, now)
    insert_rows(Notification.__table__, notifications)


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


def register(timer_handlers: dict) -> None:
    for kind in (WARNING, ESCALATION):
        timer_handlers[kind] = fire_sla_timers
