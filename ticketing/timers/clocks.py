"""SLA clocks follow the ticket: signal receivers start, pause, resume and stop them inside
the transition's own unit of work, and schedule or cancel their timer rows with it.

A clock runs in segments: started_at/resumed_at opens one, a pause or stop closes it and adds
its business minutes to business_minutes_used. Timers are placed at business-minute offsets
from the start (warning at target - warn_before, level 1 at target, level 2 at target +
level2_after, level 3 at target + level3_after), so suspended time never counts."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (Integer, String, and_, bindparam, cast, event, func, insert as core_insert,
                        literal, or_, select, text, update)
from sqlalchemy.orm import Session

from ticketing.clock import utcnow
from ticketing.dbsetup import json_rows, json_value
from ticketing.extensions import db
from ticketing.signals import ticket_opened, tickets_transitioned
from ticketing.timers.models import SlaClock, Timer
from ticketing.timers.policies import PolicyTerms, calendar_for, matching_policies
from workflows.business_time import add_business_minutes, business_minutes_between
from workflows.tickets import ALL_CLOCKS, CLOCKS, EVENTS, responded

log = logging.getLogger(__name__)

WARNING = "sla_warning"
ESCALATION = "sla_escalation"


# -- timer rows --------------------------------------------------------------------------

def _insert_for_dialect():
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two supported databases are above
        raise RuntimeError(f"unsupported database {dialect}")
    return dialect, insert


_BATCH_INSERTS: dict = {}


def _timer_row(*, kind: str, due_at: datetime, dedupe_key: str, ticket_id: int | None = None,
               clock_id: int | None = None, level: int | None = None, data: dict | None = None,
               created_at: datetime | None = None) -> dict:
    return dict(kind=kind, due_at=due_at, dedupe_key=dedupe_key, ticket_id=ticket_id,
                clock_id=clock_id, level=level, data=data or {}, status="pending",
                attempts=0, created_at=created_at or utcnow())


def schedule_timers(rows: list[dict]) -> None:
    """schedule_timer for many rows (from _timer_row) in one executemany of one cached
    statement: a transition sets up to eight timers and must not pay eight round trips."""
    if not rows:
        return
    dialect, insert = _insert_for_dialect()
    stmt = _BATCH_INSERTS.get(dialect)
    if stmt is None:
        stmt = _BATCH_INSERTS[dialect] = insert(Timer).on_conflict_do_nothing(
            index_elements=["dedupe_key"])
    db.session.connection().execute(stmt, rows)


@dataclass(frozen=True)
class RowTimer:
    """The timer each row of another area's table gets, keyed and linked by the row's id:
    a callback's overdue timer is `callback:<id>:<attempt>` with data {"callback_id": id,
    "attempt": n}, an audit's `audit:<id>` with {"audit_id": id}. One definition serves the
    row written from Python and the one PostgreSQL writes in the row's own INSERT."""
    kind: str
    prefix: str
    link: str  # the data key of the row's id
    extra: tuple[tuple[str, int], ...] = ()  # more data, each value also a key suffix

    def row(self, row_id: int, ticket_id: int, due_at: datetime, created_at: datetime) -> dict:
        return _timer_row(kind=self.kind, due_at=due_at, ticket_id=ticket_id,
                          dedupe_key=":".join([self.prefix, str(row_id),
                                               *(str(value) for _name, value in self.extra)]),
                          data={self.link: row_id, **dict(self.extra)}, created_at=created_at)

    def columns(self, new, created_at):
        """The same timer as SQL over `new` (the inserted row: id, ticket_id, due_at)."""
        suffix = "".join(f":{value}" for _name, value in self.extra)
        data = [new.c.id]
        for name, value in self.extra:
            data += [literal(name, String), literal(value, Integer)]
        return (new.c.ticket_id, literal(self.kind, String), new.c.due_at,
                literal("pending", String), literal(0, Integer), created_at,
                literal(self.prefix + ":", String) + cast(new.c.id, String)
                + literal(suffix, String),
                func.json_build_object(literal(self.link, String), *data))


_ROW_WITH_TIMER: dict = {}
_ROWS_RETURNING_IDS: dict = {}


def _row_with_timer(table, keys: tuple, timer: RowTimer):
    """PostgreSQL: one row and its timer in one statement (a data-modifying WITH), built
    once per table, columns and timer: building and compiling it cost more than running it."""
    stmt = _ROW_WITH_TIMER.get((table.name, keys, timer))
    if stmt is None:
        _dialect, insert = _insert_for_dialect()
        new = core_insert(table).values({key: bindparam(key, type_=table.c[key].type)
                                         for key in keys}).returning(
            table.c.id, table.c.ticket_id, table.c.due_at).cte("new_row")
        created_at = bindparam("timer_created_at", type_=Timer.__table__.c.created_at.type)
        timers = insert(Timer).from_select(
            ["ticket_id", "kind", "due_at", "status", "attempts", "created_at", "dedupe_key",
             "data"], select(*timer.columns(new, created_at))).on_conflict_do_nothing(
            index_elements=["dedupe_key"]).cte("new_timer")
        stmt = _ROW_WITH_TIMER[(table.name, keys, timer)] = select(new.c.id).add_cte(timers)
    return stmt


def insert_with_timers(model, rows: list[dict], timer: RowTimer, at: datetime) -> list[int]:
    """Insert rows of `model` (each with its ticket_id and due_at) and each one's timer, in
    the caller's unit of work; returns their ids in the order of `rows`. One row on
    PostgreSQL (a ticket's closing) is one statement with its timer: each round trip costs
    about as much as the work. A batch (an incident's release) is the rows in one statement,
    then their timers in one."""
    if not rows:
        return []
    table = model.__table__
    if len(rows) == 1 and db.session.get_bind().dialect.name == "postgresql":
        row = rows[0]
        return [db.session.scalar(_row_with_timer(table, tuple(row), timer),
                                  {**row, "timer_created_at": at})]
    stmt = _ROWS_RETURNING_IDS.get(table.name)
    if stmt is None:
        stmt = _ROWS_RETURNING_IDS[table.name] = core_insert(table).returning(
            table.c.id, sort_by_parameter_order=True)
    ids = db.session.scalars(stmt, rows).all()
    schedule_timers([timer.row(row_id, row["ticket_id"], row["due_at"], at)
                     for row_id, row in zip(ids, rows)])
    return list(ids)


def cancel_pending_timers(clock: SlaClock) -> None:
    cancel_pending_timers_of([clock.id])


def cancel_pending_timers_of(clock_ids: list[int]) -> None:
    """Cancel the clocks' pending timers that no sweep holds right now.

    A timer a sweep has claimed is skipped, not waited for (no lock cycle with the sweep,
    which locks timers then the clock): its handler locks the clock after this transaction
    commits, sees the clock stopped or its segment stale, and does nothing."""
    for start in range(0, len(clock_ids), 500):  # bounded IN lists
        db.session.execute(_CANCEL_PENDING, {"of_clocks": clock_ids[start:start + 500]})


_CANCEL_PENDING = (
    update(Timer).where(Timer.id.in_(
        select(Timer.id).where(Timer.clock_id.in_(bindparam("of_clocks", expanding=True)),
                               Timer.status == "pending")
        .with_for_update(skip_locked=True).scalar_subquery()))
    .values(status="cancelled").execution_options(synchronize_session="fetch"))


def _clock_timer_rows(clock: SlaClock, now: datetime) -> list[dict]:
    """The timer of the clock's next mark from `now` on (one pending timer per clock: the
    handler writes the one after when it fires), or none past the last mark."""
    cal = calendar_for(clock.calendar_id, now)
    used = clock.business_minutes_used
    target = clock.target_minutes
    marks: list[tuple[str, int, float]] = []
    warn_at = target - clock.warn_before_minutes
    if (clock.warn_before_minutes and warn_at > 0 and not clock.warned
            and clock.escalation_level == 0 and used < target):
        marks.append((WARNING, 0, warn_at))
    for level, offset in ((1, target), (2, target + clock.level2_after_minutes),
                          (3, target + clock.level3_after_minutes)):
        if level > clock.escalation_level:
            marks.append((ESCALATION, level, offset))
    return [_timer_row(kind=kind, level=level, ticket_id=clock.ticket_id, clock_id=clock.id,
                       due_at=add_business_minutes(now, max(offset - used, 0), cal),
                       data={"segment": clock.segment}, created_at=now,
                       dedupe_key=sla_timer_key(clock.id, clock.segment, level))
            for kind, level, offset in marks[:1]]


def sla_timer_key(clock_id, segment, level) -> str:
    """An SLA timer's dedupe key: one timer per clock, segment and ladder level (a resumed
    clock's new segment gets new keys). _pg_clocks_with_timers writes the same in SQL."""
    return f"sla:{clock_id}:{segment}:{level}"


def next_mark_row(clock, step: dict, due_at: datetime, now: datetime) -> dict:
    """The timer row of a clock's next ladder step, written when the previous one fires."""
    return _timer_row(kind=step["kind"], level=step["level"], ticket_id=clock.ticket_id,
                      clock_id=clock.id, due_at=due_at, data={"segment": clock.segment},
                      created_at=now,
                      dedupe_key=sla_timer_key(clock.id, clock.segment, step["level"]))


# -- policies ----------------------------------------------------------------------------

def customer_tier(ticket) -> str:
    return ticket.customer.tier if ticket.customer is not None else "ordinary"


def policy_for(ticket, *, complaint_limit: bool = False) -> PolicyTerms | None:
    for policy in matching_policies(ticket.kind, ticket.priority, customer_tier(ticket)):
        if not complaint_limit or policy.complaint_limit_minutes:
            return policy
    return None


# -- clock lifecycle ---------------------------------------------------------------------

_LIVE_CLOCKS = select(SlaClock).where(
    SlaClock.ticket_id.in_(bindparam("ticket_ids", expanding=True)),
    SlaClock.stopped_at.is_(None))


def live_clocks(ticket) -> dict[str, SlaClock]:
    return live_clocks_of([ticket.id]).get(ticket.id, {})


def live_clocks_of(ticket_ids: list[int]) -> dict[int, dict[str, SlaClock]]:
    """{ticket id: {clock name: clock}} of the tickets' running or paused clocks."""
    found: dict[int, dict[str, SlaClock]] = {}
    for start in range(0, len(ticket_ids), 500):
        for clock in db.session.scalars(_LIVE_CLOCKS,
                                        {"ticket_ids": ticket_ids[start:start + 500]}):
            found.setdefault(clock.ticket_id, {})[clock.clock] = clock
    return found


# A stopping event (a closing) also reads the clocks its tickets already stopped in their
# current handling round: the audit of a closing asks whether a deadline of the round was
# missed, and this answers it without another query (breached_in_round).
_ROUND_CLOCKS = select(SlaClock).where(
    SlaClock.ticket_id.in_(bindparam("ticket_ids", expanding=True)),
    or_(SlaClock.stopped_at.is_(None), SlaClock.round >= bindparam("min_round")))
_SEEN_ROUNDS = "timers.round_clocks"  # Session.info: {ticket id: (round, its clocks)}


def _live_and_round_clocks(tickets: list) -> dict[int, dict[str, SlaClock]]:
    """live_clocks_of, and every clock of each ticket's current round kept for
    breached_in_round in this transaction."""
    found: dict[int, dict[str, SlaClock]] = {}
    seen = db.session.info.setdefault(_SEEN_ROUNDS, {})
    for start in range(0, len(tickets), 500):
        rounds = {t.id: t.reopen_count or 0 for t in tickets[start:start + 500]}
        in_round: dict[int, list[SlaClock]] = {ticket_id: [] for ticket_id in rounds}
        for clock in db.session.scalars(_ROUND_CLOCKS, {"ticket_ids": list(rounds),
                                                        "min_round": min(rounds.values())}):
            if clock.stopped_at is None:
                found.setdefault(clock.ticket_id, {})[clock.clock] = clock
            if clock.round == rounds[clock.ticket_id]:
                in_round[clock.ticket_id].append(clock)
        seen.update((ticket_id, (rounds[ticket_id], clocks))
                    for ticket_id, clocks in in_round.items())
    return found


def _late(clock: SlaClock, at: datetime) -> bool:
    return bool(clock.breached) or (clock.stopped_at is None and clock.paused_at is None
                                    and clock.due_at < at)


def breached_in_round(tickets: list, at: datetime) -> set[int]:
    """The tickets that missed a deadline of their current handling round: flagged, or still
    running past due. A ticket whose round this transaction's closing read is answered from
    those clocks; the others by one query per 500 tickets."""
    seen = db.session.info.get(_SEEN_ROUNDS) or {}
    found, asked = set(), {}
    for ticket in tickets:
        round_ = ticket.reopen_count or 0
        known = seen.pop(ticket.id, None)
        if known is not None and known[0] == round_:
            if any(_late(clock, at) for clock in known[1]):
                found.add(ticket.id)
        else:
            asked[ticket.id] = round_
    running_late = and_(SlaClock.stopped_at.is_(None), SlaClock.paused_at.is_(None),
                        SlaClock.due_at < at)
    ids = list(asked)
    for start in range(0, len(ids), 500):
        found.update(ticket_id for ticket_id, round_ in db.session.execute(
            select(SlaClock.ticket_id, SlaClock.round).where(
                SlaClock.ticket_id.in_(ids[start:start + 500]),
                or_(SlaClock.breached.is_(True), running_late)))
            if asked[ticket_id] == round_)
    return found


def _forget_rounds(session, *_args) -> None:
    session.info.pop(_SEEN_ROUNDS, None)


event.listen(Session, "after_commit", _forget_rounds)
event.listen(Session, "after_soft_rollback", _forget_rounds)


def _new_clock_row(ticket, name: str, policy: PolicyTerms, minutes: int, now: datetime,
                   department_id: int | None = None) -> dict:
    cal = calendar_for(policy.calendar_id, now)
    return dict(
        ticket_id=ticket.id, clock=name, round=ticket.reopen_count, policy_id=policy.id,
        calendar_id=policy.calendar_id,
        department_id=department_id if department_id is not None else ticket.department_id,
        target_minutes=minutes, warn_before_minutes=policy.warn_before_minutes,
        level2_after_minutes=policy.level2_after_minutes,
        level3_after_minutes=policy.level3_after_minutes,
        started_at=now, resumed_at=now, due_at=add_business_minutes(now, minutes, cal),
        paused_at=None, stopped_at=None, segment=1, breached=False,
        business_minutes_used=0.0, escalation_level=0, warned=False)


class _NewClock:
    """A clock just inserted, as its timers read it (the row's values and its id)."""

    def __init__(self, clock_id: int, row: dict):
        self.__dict__.update(row, id=clock_id)


# One multi-row INSERT: each row comes back with its name (a ticket's new clocks have
# different names), whatever the order the database returns them in.
_INSERT_CLOCKS = core_insert(SlaClock.__table__).returning(SlaClock.__table__.c.id,
                                                           SlaClock.__table__.c.clock)


def start_clocks(ticket, specs, now: datetime, live: dict | None = None) -> None:
    """Start clocks given as (name, policy, minutes, department_id), replacing any live
    clock of the same name; one INSERT for the clocks and one for their timers (one for
    both on PostgreSQL).

    `live` is the ticket's live clocks when the caller knows them ({} for a new ticket).
    The rows go in without the ORM (its flush cost more than the rest of opening a
    ticket); a later query in the transaction reads them like any other."""
    live = live_clocks(ticket) if live is None else live
    replaced = [live[name] for name, *_rest in specs if live.get(name) is not None]
    for clock in replaced:
        stop_clock(clock, now)
    if replaced:
        db.session.flush()  # one live clock of a name: the old one stops first
    rows = [_new_clock_row(ticket, name, policy, minutes, now, department_id)
            for name, policy, minutes, department_id in specs]
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # Each timer names its clock: the clock's id is known only inside the statement.
        timers = [{"clock": row["clock"], "kind": timer["kind"], "level": timer["level"],
                   "due_at": timer["due_at"]}
                  for row in rows for timer in _clock_timer_rows(_NewClock(None, row), now)]
        connection.execute(_pg_clocks_with_timers(tuple(rows[0])), {
            "clocks": json.dumps(rows, default=json_value),
            "timers": json.dumps(timers, default=json_value), "created_at": now})
        return
    ids = dict((name, clock_id) for clock_id, name in connection.execute(_INSERT_CLOCKS, rows))
    schedule_timers([row for clock in rows
                     for row in _clock_timer_rows(_NewClock(ids[clock["clock"]], clock), now)])


_CLOCKS_WITH_TIMERS: dict = {}


def _pg_clocks_with_timers(columns: tuple):
    """PostgreSQL: the clocks of one ticket and their timers in one statement (a round trip
    costs about as much as the work). Keys and data as sla_timer_key and _clock_timer_rows
    make them; a test holds the two to each other."""
    stmt = _CLOCKS_WITH_TIMERS.get(columns)
    if stmt is None:
        stmt = _CLOCKS_WITH_TIMERS[columns] = text(
            f"WITH new_clock AS (INSERT INTO sla_clocks ({', '.join(columns)}) "
            f"{json_rows('sla_clocks', columns, 'clocks')} "
            "RETURNING id, ticket_id, clock, segment) "
            "INSERT INTO timers (ticket_id, clock_id, kind, level, due_at, status, attempts, "
            "created_at, dedupe_key, data) "
            "SELECT c.ticket_id, c.id, t.kind, t.level, t.due_at, 'pending', 0, :created_at, "
            "'sla:' || c.id || ':' || c.segment || ':' || t.level, "
            "json_build_object('segment', c.segment) "
            "FROM new_clock AS c JOIN json_to_recordset(CAST(:timers AS json)) "
            "AS t(clock text, kind text, level integer, due_at timestamptz) "
            "ON t.clock = c.clock "
            "ON CONFLICT (dedupe_key) DO NOTHING")
    return stmt


def _close_segment(clock: SlaClock, now: datetime) -> None:
    cal = calendar_for(clock.calendar_id, now)
    clock.business_minutes_used += business_minutes_between(clock.resumed_at, now, cal)
    clock.resumed_at = None
    if now > clock.due_at:
        clock.breached = True


def pause_clock(clock: SlaClock, now: datetime) -> None:
    if _pause(clock, now):
        db.session.flush()
        cancel_pending_timers(clock)


def resume_clock(clock: SlaClock, now: datetime) -> None:
    if _resume(clock, now):
        db.session.flush()
        schedule_timers(_clock_timer_rows(clock, now))


def stop_clock(clock: SlaClock, now: datetime) -> None:
    if _stop(clock, now):
        db.session.flush()
        cancel_pending_timers(clock)


# In memory; True when the clock changed (its timers are then to be cancelled or placed).

def _pause(clock: SlaClock, now: datetime) -> bool:
    if clock.status != "running":
        return False
    _close_segment(clock, now)
    clock.paused_at = now
    return True


def _resume(clock: SlaClock, now: datetime) -> bool:
    """A new segment: the deadline moves by exactly the business time spent paused."""
    if clock.status != "paused":
        return False
    clock.paused_at = None
    clock.resumed_at = now
    clock.segment += 1
    remaining = clock.target_minutes - clock.business_minutes_used
    if remaining > 0:
        clock.due_at = add_business_minutes(now, remaining, calendar_for(clock.calendar_id,
                                                                              now))
    return True


def _stop(clock: SlaClock, now: datetime) -> bool:
    if clock.status == "stopped":
        return False
    if clock.status == "running":
        _close_segment(clock, now)
    clock.paused_at = None
    clock.stopped_at = now
    return True


def live_minutes_used(clock: SlaClock, now: datetime | None = None) -> float:
    """Business minutes used so far, counting the running segment up to now."""
    if clock.status != "running":
        return clock.business_minutes_used
    now = now or utcnow()
    return clock.business_minutes_used + business_minutes_between(
        clock.resumed_at, now, calendar_for(clock.calendar_id, now))


def start_named_clocks(ticket, names, now: datetime, live: dict | None = None) -> None:
    """Start the named clocks that run for the ticket's kind (workflows.tickets.CLOCKS),
    with the deadlines of the policy that matches it."""
    names = [name for name in names if ticket.kind in CLOCKS[name]["kinds"]]
    specs = []
    if any(name != "complaint_limit" for name in names):
        policy = policy_for(ticket)
        if policy is None:
            log.warning("no SLA policy matches ticket %s (%s/%s)", ticket.number, ticket.kind,
                        ticket.priority)
        else:
            minutes = {"response": policy.response_minutes,
                       "resolution": policy.resolution_minutes}
            specs += [(name, policy, minutes[name], None) for name in names if name in minutes]
    if "complaint_limit" in names:
        policy = policy_for(ticket, complaint_limit=True)
        if policy is not None:
            specs.append(("complaint_limit", policy, policy.complaint_limit_minutes,
                          ticket.department_id))
    start_clocks(ticket, specs, now, live)


def _named(which, live: dict) -> list[str]:
    """The live clocks an effect names: "all", or a list of names."""
    return list(live) if which == ALL_CLOCKS else [name for name in which or () if name in live]


# -- signal receivers (connected by the area's init_app) ---------------------------------

def on_ticket_opened(ticket, *, at: datetime | None = None, **_kwargs) -> None:
    # A new ticket has no clock yet: no need to look for live ones.
    start_named_clocks(ticket, ("response", "resolution"), at or utcnow(), live={})


def on_tickets_transitioned(event: str, *, transitions, at: datetime | None = None,
                            **_kwargs) -> None:
    """Start, pause, resume and stop clocks as the event's data says (its `clocks` effect),
    and stop the response clock at the first response: for a whole batch, one query for the
    clocks, one to cancel timers and one to place them."""
    now = at or utcnow()
    rule = EVENTS[event]["effects"].get("clocks", {})
    responding = {t.ticket.id for t in transitions
                  if responded(t.from_state, t.to_state, event)}
    if not rule and not responding:
        return
    live_of = (_live_and_round_clocks([t.ticket for t in transitions]) if rule.get("stop")
               else live_clocks_of([t.ticket.id for t in transitions]))
    ended, resumed, starting = [], [], []
    for t in transitions:
        live = live_of.get(t.ticket.id, {})
        stopping = _named(rule.get("stop"), live)
        if t.ticket.id in responding:
            stopping += [n for n in live if CLOCKS[n].get("stops_at_first_response")]
        for name in dict.fromkeys(stopping):
            clock = live.pop(name)
            if _stop(clock, now):
                ended.append(clock)
        for name in _named(rule.get("pause"), live):
            if _pause(live[name], now):
                ended.append(live[name])
        for name in _named(rule.get("resume"), live):
            if _resume(live[name], now):
                resumed.append(live[name])
        if rule.get("start"):
            starting.append((t.ticket, live))
    db.session.flush()
    # Cancel first: the resumed clocks' new timers (a new segment's keys) must survive it.
    cancel_pending_timers_of([clock.id for clock in ended])
    schedule_timers([row for clock in resumed for row in _clock_timer_rows(clock, now)])
    for ticket, live in starting:
        start_named_clocks(ticket, rule["start"], now, live)


def connect_receivers() -> None:
    """Called by the area's init_app; connecting the same receiver twice is a no-op."""
    ticket_opened.connect(on_ticket_opened, weak=False)
    tickets_transitioned.connect(on_tickets_transitioned, weak=False)
