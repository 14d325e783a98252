"""SLA clocks follow the ticket: signal receivers start, pause, resume and stop them inside
the transition's own unit of work, and schedule or cancel their timer rows with it.

A clock runs in segments: started_at/resumed_at opens one, a pause or stop closes it and adds
its business minutes to business_minutes_used. Timers are placed at business-minute offsets
from the start (warning at target - warn_before, level 1 at target, level 2 at target +
level2_after, level 3 at target + level3_after), so suspended time never counts."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select, update

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.signals import ticket_opened, ticket_transitioned
from ticketing.timers.calendars import business_calendar
from ticketing.timers.models import SlaClock, SlaPolicy, Timer
from workflows.business_time import add_business_minutes, business_minutes_between
from workflows.tickets import responded

log = logging.getLogger(__name__)

WARNING = "sla_warning"
ESCALATION = "sla_escalation"


# -- timer rows --------------------------------------------------------------------------

def schedule_timer(*, kind: str, due_at: datetime, dedupe_key: str, ticket_id: int | None = None,
                   clock_id: int | None = None, level: int | None = None,
                   data: dict | None = None) -> bool:
    """Insert a pending timer unless one with the same key exists (then a no-op).

    INSERT ... ON CONFLICT DO NOTHING, so two schedulers creating the same timer at once
    cannot both succeed or fail: one row, no error. Returns True if this call inserted it."""
    values = dict(kind=kind, due_at=due_at, dedupe_key=dedupe_key, ticket_id=ticket_id,
                  clock_id=clock_id, level=level, data=data or {}, status="pending",
                  attempts=0, created_at=utcnow())
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two supported databases are above
        raise RuntimeError(f"unsupported database {dialect}")
    stmt = (insert(Timer).values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Timer.id))
    return db.session.execute(stmt).scalar() is not None


def cancel_pending_timers(clock: SlaClock) -> None:
    """Cancel the clock's pending timers that no sweep holds right now.

    A timer a sweep has claimed is skipped, not waited for (no lock cycle with the sweep,
    which locks timers then the clock): its handler locks the clock after this transaction
    commits, sees the clock stopped or its segment stale, and does nothing."""
    pending = (select(Timer.id).where(Timer.clock_id == clock.id, Timer.status == "pending")
               .with_for_update(skip_locked=True))
    db.session.execute(update(Timer).where(Timer.id.in_(pending.scalar_subquery()))
                       .values(status="cancelled")
                       .execution_options(synchronize_session="fetch"))


def _schedule_clock_timers(clock: SlaClock, now: datetime) -> None:
    """Timers for the marks this clock has not reached yet, from `now` on."""
    cal = business_calendar(clock.calendar, now)
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
    for kind, level, offset in marks:
        due = add_business_minutes(now, max(offset - used, 0), cal)
        schedule_timer(kind=kind, level=level, due_at=due, ticket_id=clock.ticket_id,
                       clock_id=clock.id, data={"segment": clock.segment},
                       dedupe_key=f"sla:{clock.id}:{clock.segment}:{level}")


# -- policies ----------------------------------------------------------------------------

def customer_tier(ticket) -> str:
    return ticket.customer.tier if ticket.customer is not None else "ordinary"


def matching_policies(kind: str, priority: str, tier: str) -> list[SlaPolicy]:
    """Active policies that apply, most specific first (NULL fields match anything)."""
    rows = db.session.scalars(select(SlaPolicy).where(
        SlaPolicy.active.is_(True),
        or_(SlaPolicy.kind.is_(None), SlaPolicy.kind == kind),
        or_(SlaPolicy.priority.is_(None), SlaPolicy.priority == priority),
        or_(SlaPolicy.customer_tier.is_(None), SlaPolicy.customer_tier == tier))).all()
    return sorted(rows, key=lambda p: (tuple(-x for x in p.specificity), p.id))


def policy_for(ticket, *, complaint_limit: bool = False) -> SlaPolicy | None:
    for policy in matching_policies(ticket.kind, ticket.priority, customer_tier(ticket)):
        if not complaint_limit or policy.complaint_limit_minutes:
            return policy
    return None


# -- clock lifecycle ---------------------------------------------------------------------

def live_clocks(ticket) -> dict[str, SlaClock]:
    rows = db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id,
                                                     SlaClock.stopped_at.is_(None)))
    return {clock.clock: clock for clock in rows}


def start_clock(ticket, name: str, policy: SlaPolicy, minutes: int, now: datetime,
                department_id: int | None = None) -> SlaClock:
    existing = live_clocks(ticket).get(name)
    if existing is not None:
        stop_clock(existing, now)
    cal = business_calendar(policy.calendar, now)
    clock = SlaClock(
        ticket_id=ticket.id, clock=name, round=ticket.reopen_count, policy_id=policy.id,
        calendar_id=policy.calendar_id, calendar=policy.calendar,
        department_id=department_id if department_id is not None else ticket.department_id,
        target_minutes=minutes, warn_before_minutes=policy.warn_before_minutes,
        level2_after_minutes=policy.level2_after_minutes,
        level3_after_minutes=policy.level3_after_minutes,
        started_at=now, resumed_at=now, due_at=add_business_minutes(now, minutes, cal),
        segment=1, breached=False, business_minutes_used=0.0, escalation_level=0,
        warned=False)
    db.session.add(clock)
    db.session.flush()
    _schedule_clock_timers(clock, now)
    return clock


def _close_segment(clock: SlaClock, now: datetime) -> None:
    cal = business_calendar(clock.calendar, now)
    clock.business_minutes_used += business_minutes_between(clock.resumed_at, now, cal)
    clock.resumed_at = None
    if now > clock.due_at:
        clock.breached = True


def pause_clock(clock: SlaClock, now: datetime) -> None:
    if clock.status != "running":
        return
    _close_segment(clock, now)
    clock.paused_at = now
    db.session.flush()
    cancel_pending_timers(clock)


def resume_clock(clock: SlaClock, now: datetime) -> None:
    """A new segment: the deadline moves by exactly the business time spent paused."""
    if clock.status != "paused":
        return
    clock.paused_at = None
    clock.resumed_at = now
    clock.segment += 1
    remaining = clock.target_minutes - clock.business_minutes_used
    if remaining > 0:
        clock.due_at = add_business_minutes(now, remaining, business_calendar(clock.calendar,
                                                                              now))
    db.session.flush()
    _schedule_clock_timers(clock, now)


def stop_clock(clock: SlaClock, now: datetime) -> None:
    if clock.status == "stopped":
        return
    if clock.status == "running":
        _close_segment(clock, now)
    clock.paused_at = None
    clock.stopped_at = now
    db.session.flush()
    cancel_pending_timers(clock)


def live_minutes_used(clock: SlaClock, now: datetime | None = None) -> float:
    """Business minutes used so far, counting the running segment up to now."""
    if clock.status != "running":
        return clock.business_minutes_used
    now = now or utcnow()
    return clock.business_minutes_used + business_minutes_between(
        clock.resumed_at, now, business_calendar(clock.calendar, now))


def start_ticket_clocks(ticket, now: datetime, names=("response", "resolution")) -> list:
    policy = policy_for(ticket)
    if policy is None:
        log.warning("no SLA policy matches ticket %s (%s/%s)", ticket.number, ticket.kind,
                    ticket.priority)
        return []
    minutes = {"response": policy.response_minutes, "resolution": policy.resolution_minutes}
    return [start_clock(ticket, name, policy, minutes[name], now) for name in names]


def start_complaint_limit(ticket, now: datetime) -> SlaClock | None:
    policy = policy_for(ticket, complaint_limit=True)
    if policy is None:
        return None
    return start_clock(ticket, "complaint_limit", policy, policy.complaint_limit_minutes, now,
                       department_id=ticket.department_id)


# -- signal receivers (connected once, at import) ----------------------------------------

def on_ticket_opened(ticket, *, at: datetime | None = None, **_kwargs) -> None:
    start_ticket_clocks(ticket, at or utcnow())


def on_ticket_transitioned(ticket, *, event: str, from_state: str, to_state: str,
                           at: datetime | None = None, **_kwargs) -> None:
    now = at or utcnow()
    live = live_clocks(ticket)
    if event == "reclassify":
        for clock in live.values():
            stop_clock(clock, now)
        start_ticket_clocks(ticket, now)
        return
    if "response" in live and responded(from_state, to_state):
        stop_clock(live.pop("response"), now)
    if to_state == "closed":
        for clock in live.values():
            stop_clock(clock, now)
        return
    if to_state == "suspended" and from_state != "suspended":
        for clock in live.values():
            pause_clock(clock, now)
    elif from_state == "suspended" and to_state != "suspended":
        for clock in live.values():
            resume_clock(clock, now)
    if event == "reopen":
        start_ticket_clocks(ticket, now, names=("resolution",))
        if to_state == "complaint_assigned":
            start_complaint_limit(ticket, now)
    elif event == "assign":
        start_complaint_limit(ticket, now)
    elif event == "handle" and "complaint_limit" in live:
        stop_clock(live["complaint_limit"], now)


ticket_opened.connect(on_ticket_opened, weak=False)
ticket_transitioned.connect(on_ticket_transitioned, weak=False)
