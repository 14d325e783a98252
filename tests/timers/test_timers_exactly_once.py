"""Exactly-once counted where it matters: in the handler, not by the rows it leaves behind.

The SLA handlers are safe to run twice, so their results cannot show a timer fired twice; an
SMS, an e-mail or a callback task would go out again. Here a test-only timer kind, registered
through the sweep's handler registry, counts every call of its handler, and several sweeps run
at once over many due timers (PostgreSQL: row locks; SQLite serialises sweeps with its
database-wide write lock, so there is nothing concurrent to test there).

- Each handler runs exactly once: fails if the claim loses `FOR UPDATE SKIP LOCKED` and the
  status re-check after it (every sweep then fires the same batch).
- The sweeps do not wait on one another: the first handler call of each sweep holds its
  claimed batch uncommitted until every sweep is inside a handler with a batch of its own,
  which only happens when each claim skips the rows the others hold. A claim that waits for
  another sweep's locks (`FOR UPDATE` without `SKIP LOCKED`) never gets there.
"""
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from ticketing.extensions import db
from ticketing.timers.models import Timer
from ticketing.timers.sweep import sweep_due_timers
from ticketing.wiring import wiring

pytestmark = pytest.mark.postgres

KIND = "test_counted"
SWEEPS = 4
BATCH = 25
TIMERS = 400  # > SWEEPS * BATCH: every sweep claims a batch while the others hold theirs
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
ALL_IN_TIMEOUT = 30.0  # seconds the first handler of a sweep waits for the other sweeps
JOIN_TIMEOUT = 120.0


class CountingHandler:
    """The handler of KIND: counts calls per timer and per sweep (thread-safe)."""

    def __init__(self, sweeps: int):
        self.lock = threading.Lock()
        self.calls: Counter = Counter()  # timer id -> handler calls
        self.by_sweep: Counter = Counter()  # worker name -> handler calls
        self.started: set[str] = set()
        self.all_in = threading.Barrier(sweeps)
        self.waited: list[str] = []  # sweeps whose first call never saw the others arrive
        self.pause = threading.Event()  # never set: wait() is a short, bounded pause

    def __call__(self, timers: list, now: datetime) -> None:
        sweep = threading.current_thread().name  # each sweep runs on a thread of its name
        with self.lock:
            for timer in timers:
                self.calls[timer.id] += 1
                self.by_sweep[sweep] += 1
            first = sweep not in self.started
            self.started.add(sweep)
        if first:
            try:
                self.all_in.wait(timeout=ALL_IN_TIMEOUT)
            except threading.BrokenBarrierError:
                with self.lock:
                    self.waited.append(sweep)
        # A handler that takes a moment (as sending a message does): batches overlap.
        self.pause.wait(0.001)


@pytest.fixture
def counted(app):
    """KIND registered through the sweep's registry (this test's app only)."""
    handler = CountingHandler(SWEEPS)
    wiring(app).timer_handlers[KIND] = handler
    return handler


def _due_timers(app, n: int) -> list[int]:
    with app.app_context():
        db.session.execute(insert(Timer), [
            {"kind": KIND, "due_at": NOW - timedelta(minutes=1 + i % 30),
             "dedupe_key": f"{KIND}:{i}", "data": {"n": i}} for i in range(n)])
        db.session.commit()
        ids = list(db.session.scalars(select(Timer.id).where(Timer.kind == KIND)))
        db.session.remove()
    return ids


def _sweep_concurrently(app, sweeps: int) -> dict:
    """`sweeps` threads, each with its own app context (so its own session and connection),
    start together and sweep until nothing is due. Returns {worker: fired}."""
    start = threading.Barrier(sweeps, timeout=30)
    fired, errors = {}, []

    def run(worker: str) -> None:
        try:
            with app.app_context():
                start.wait()
                try:
                    fired[worker] = sweep_due_timers(now=NOW, batch_size=BATCH, worker=worker,
                                                     time_budget=float("inf"))
                finally:
                    db.session.remove()
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append((worker, repr(exc)))

    threads = [threading.Thread(target=run, args=(f"sweep{i}",), name=f"sweep{i}")
               for i in range(sweeps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a sweep hung"
    assert errors == []
    return fired


def test_concurrent_sweeps_run_each_handler_exactly_once_without_waiting(app, counted):
    ids = _due_timers(app, TIMERS)
    assert len(ids) == TIMERS

    fired = _sweep_concurrently(app, SWEEPS)

    twice = {timer_id: n for timer_id, n in counted.calls.items() if n != 1}
    assert twice == {}, (f"{len(twice)} handler(s) ran more than once, e.g. "
                         f"{list(twice.items())[:5]}")
    assert set(counted.calls) == set(ids), "every due timer's handler ran"
    assert sum(fired.values()) == TIMERS
    with app.app_context():
        statuses = dict(db.session.execute(select(Timer.status, func.count())
                                           .group_by(Timer.status)).all())
        claimed = Counter(db.session.scalars(select(Timer.claimed_by)))
        db.session.remove()
    assert statuses == {"fired": TIMERS}
    assert claimed == counted.by_sweep  # each timer fired by the sweep that claimed it
    # Every sweep was inside a handler holding its own batch at the same moment.
    assert counted.waited == [], f"sweeps waited on one another: {counted.waited}"
    assert len(counted.by_sweep) == SWEEPS, counted.by_sweep
