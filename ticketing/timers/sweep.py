"""The sweep: claim due timers, fire each once, commit. Any number of processes may sweep
the same PostgreSQL at once.

One statement claims a batch: it selects pending, due rows in due order through the partial
index, `FOR UPDATE SKIP LOCKED`; rows another sweep holds are skipped, not waited for. The
claim writes nothing: a row this transaction has already updated must have its foreign keys
checked again on its next update (PostgreSQL re-checks a row version it made itself), and
that check would wait on a clock another (perhaps hung) sweep holds; the worker's name is
written with the row's final `fired` update instead. The claimed timers fire as
one group per handler (the areas register them in wiring.timer_handlers: fn(timers, now), a
few statements for the whole group) inside a SAVEPOINT, and are marked fired with one UPDATE.
If a group fails, its timers fire one by one, each a batch of one in its own savepoint, so a
failing timer is rolled back alone and retried later with backoff. A handler may hand back
timers whose state someone else holds right now: they are put back, due in a moment. The
batch (claims, firings, failures) commits once, so a sweep killed mid-batch leaves its rows
pending and unlocked for the next sweep.

SQLite has no row locks (SQLAlchemy drops FOR UPDATE there); the sweep opens its transaction
with BEGIN IMMEDIATE, so the claim holds the database-wide write lock until the batch commits,
which serialises sweeping processes the same way."""
from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import literal_column, select, update

from ticketing.clock import utcnow
from ticketing.dbsetup import begin_write
from ticketing.extensions import db
from ticketing.wiring import wiring
from ticketing.timers.handlers import BUSY_RETRY, among
from ticketing.timers.models import Timer

log = logging.getLogger(__name__)

# A batch costs ~16 statements whatever its size; 500 timers share them instead of 200
# (10,000 due at 1M tickets on PostgreSQL: 3.1 s against 4.2 s). On SQLite a batch of 500
# holds the write lock for about 0.2 s.
DEFAULT_BATCH_SIZE = 500
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_TIME_BUDGET = 30.0
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# A literal, not a bound parameter: only then can the planner prove the partial index's
# predicate (PostgreSQL's generic plans for prepared statements, SQLite's planner).
PENDING = literal_column("'pending'")


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def claim_statement(now: datetime, limit: int):
    return (select(Timer.id.label("claimed_id"))
            .where(Timer.status == PENDING, Timer.due_at <= now)
            .order_by(Timer.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True))


def claim_due_timers(now: datetime, limit: int) -> list[int]:
    """Lock a batch of due timers for this transaction (on SQLite, BEGIN IMMEDIATE holds the
    database's write lock instead: the claim and its savepoints in one transaction)."""
    begin_write(db.session)
    return list(db.session.scalars(claim_statement(now, limit)))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0),
                                 BACKOFF_MAX_SECONDS))


def _handler(kind: str) -> Callable:
    handler = wiring().timer_handlers.get(kind)
    if handler is None:
        raise LookupError(f"no handler for timer kind {kind!r}")
    return handler


def _put_back(ids: list[int], now: datetime) -> None:
    """Timers whose state someone else holds right now: due again in a moment, unclaimed,
    with no attempt counted (nothing failed)."""
    if ids:
        table = Timer.__table__
        db.session.execute(update(table).where(among(table.c.id, ids))
                           .values(due_at=now + BUSY_RETRY))


def _fire(handler: Callable, timers: list, now: datetime, worker: str) -> int:
    """Run a handler on timers in one savepoint and mark those it did not put back fired
    (by `worker`)."""
    with db.session.begin_nested():
        busy = set(handler(timers, now) or ())
        db.session.flush()
        done = [t.id for t in timers if t.id not in busy]
        table = Timer.__table__
        if done:
            db.session.execute(update(table).where(among(table.c.id, done))
                               .values(status="fired", fired_at=now, claimed_by=worker))
        _put_back(sorted(busy), now)
    return len(done)


def _fire_alone(timer, now: datetime, max_attempts: int, worker: str) -> int:
    """One timer as a batch of one, after its batch failed: on failure count the attempt and
    retry later with backoff (or give up: failed), so a bad timer never holds back others."""
    try:
        return _fire(_handler(timer.kind), [timer], now, worker)
    except Exception as exc:  # one failing handler must not lose the others
        log.exception("timer %s (%s) failed", timer.id, timer.kind)
        attempts = timer.attempts + 1
        values = {"attempts": attempts, "last_error": f"{type(exc).__name__}: {exc}"[:2000]}
        if attempts >= max_attempts:
            values["status"] = "failed"
        else:
            values["due_at"] = now + backoff(attempts)
        db.session.execute(update(Timer.__table__).where(Timer.__table__.c.id == timer.id)
                           .values(**values))
        return 0


def _fire_group(handler: Callable, timers: list, now: datetime, max_attempts: int,
                worker: str) -> int:
    """Fire timers (read-only rows) of one handler as one batch; if anything in it fails,
    fire them one by one instead, each a batch of one."""
    try:
        return _fire(handler, timers, now, worker)
    except Exception:
        log.warning("batch of %d timer(s) (%s) failed, firing them one by one",
                    len(timers), ", ".join(sorted({t.kind for t in timers})), exc_info=True)
        return sum(_fire_alone(timer, now, max_attempts, worker) for timer in timers)


# What a handler gets of each timer: its row, not an ORM instance (cheaper to load).
BATCH_COLUMNS = ("id", "kind", "level", "ticket_id", "clock_id", "due_at", "status",
                 "attempts", "data")


def _fire_claimed(ids: list[int], now: datetime, max_attempts: int,
                  after_each: Callable[[object], None] | None, worker: str) -> int:
    """Fire the claimed timers in due order, one group per handler (at the place of its
    first timer)."""
    table = Timer.__table__
    rows = db.session.execute(select(*(table.c[name] for name in BATCH_COLUMNS))
                              .where(among(table.c.id, ids))
                              .order_by(table.c.due_at, table.c.id)).all()
    groups: dict[Callable, list] = {}
    fired = 0
    for row in rows:
        if row.status != "pending":  # cannot happen while the claim holds: be sure anyway
            continue
        try:
            groups.setdefault(_handler(row.kind), []).append(row)
        except LookupError:
            fired += _fire_alone(row, now, max_attempts, worker)  # a failed attempt
    for handler, timers in groups.items():
        fired += _fire_group(handler, timers, now, max_attempts, worker)
        if after_each is not None:
            for timer in timers:
                after_each(timer)
    return fired


def sweep_due_timers(now: datetime | None = None, batch_size: int | None = None,
                     worker: str | None = None, time_budget: float | None = None,
                     after_each: Callable[[object], None] | None = None) -> int:
    """Fire every due timer, batch by batch, until none is due or the time budget is spent.

    One commit per batch. Returns how many timers fired (failures are not counted)."""
    config = current_app.config
    batch_size = batch_size or int(config.get("SCHEDULER_BATCH_SIZE", DEFAULT_BATCH_SIZE))
    budget = time_budget if time_budget is not None else float(
        config.get("SWEEP_TIME_BUDGET_SECONDS", DEFAULT_TIME_BUDGET))
    max_attempts = int(config.get("TIMER_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    worker = worker or default_worker()
    started = time.monotonic()
    fired = 0
    while True:
        at = now or utcnow()
        try:
            ids = claim_due_timers(at, batch_size)
            if not ids:
                db.session.rollback()
                break
            fired += _fire_claimed(ids, at, max_attempts, after_each, worker)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        if len(ids) < batch_size or time.monotonic() - started >= budget:
            break
    if fired:
        log.info("fired %d timer(s) as %s", fired, worker)
    return fired
