"""Timers under stress, with the real `ticketing scheduler` processes on PostgreSQL (reusing the
helpers of tests/timers/test_timers_processes.py):

- 10,000 due timers, three schedulers, one SIGKILLed mid-sweep: every timer fired exactly once
  (> 30 s: runs only with RUN_SLOW=1);
- a scheduler stopped for an hour of controllable-clock time: on start it fires everything
  that fell due in that hour and nothing that is not due yet (normal suite, PostgreSQL).

    RUN_SLOW=1 TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_stress \\
        python -m pytest tests/stress/test_stress_timers.py -n 0
"""
import importlib.util
import os
import signal
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text

from ticketing import clock
from ticketing.extensions import db

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SHANGHAI = ZoneInfo("Asia/Shanghai")
_spec = importlib.util.spec_from_file_location(
    "timers_processes", Path(__file__).resolve().parents[1] / "timers" / "test_timers_processes.py")
procs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(procs)


@pytest.fixture
def schedulers(database_url, tmp_path):
    running = procs.Schedulers(database_url, tmp_path)
    yield running
    running.close()  # only the processes this fixture started


@pytest.fixture(autouse=True)
def unfreeze():
    yield
    clock.freeze(None)


@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="takes > 30 s: set RUN_SLOW=1")
def test_ten_thousand_timers_three_schedulers_one_killed_each_fired_once(app, schedulers,
                                                                         database_url):
    now = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    clock.freeze(now)
    total = procs.bulk_due_timers(app, 3334, now)
    assert total >= 10000
    engine = create_engine(database_url)
    try:
        frozen = {"TICKETING_FROZEN_NOW": now.isoformat()}
        victim = schedulers.start("--batch-size", "100", "--worker", "victim",
                                  TICKETING_TEST_SWEEP_DELAY="0.002", **frozen)
        others = [schedulers.start("--batch-size", "100", "--worker", f"s{i}",
                                   TICKETING_TEST_SWEEP_DELAY="0.002", **frozen)
                  for i in range(2)]
        procs.wait_until(lambda: procs.counts(engine).get("fired", 0) >= total // 4,
                         timeout=120, what="a quarter fired")
        victim.send_signal(signal.SIGKILL)  # mid-sweep: it holds a claimed batch
        victim.wait(timeout=10)
        procs.wait_until(lambda: procs.counts(engine).get("fired") == total, timeout=240,
                         what="all timers fired")
        for proc in others:
            assert schedulers.stop(proc) == 0, schedulers.output(proc)
        workers = procs.assert_each_fired_exactly_once(engine, total)
    finally:
        engine.dispose()
    assert sum(workers.values()) == total and set(workers) <= {"victim", "s0", "s1"}


def test_a_scheduler_stopped_for_an_hour_fires_everything_due_on_start(app, schedulers,
                                                                       database_url):
    """Timers fall due throughout an hour while no scheduler runs; one started at the end of
    the hour (its clock pinned there) fires exactly those, and none due later."""
    from ticketing.timers.models import Timer
    stop = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    clock.freeze(stop)
    procs.bulk_due_timers(app, 60, stop)
    with app.app_context():
        timers = db.session.scalars(select(Timer).order_by(Timer.id)).all()
        # Spread them over the hour of downtime, and a few past its end.
        for i, timer in enumerate(timers):
            timer.due_at = stop + timedelta(minutes=i % 70)
        db.session.commit()
        start = stop + timedelta(hours=1)
        due = sum(1 for t in timers if t.due_at <= start)
        later = len(timers) - due
        db.session.remove()
    assert due and later
    engine = create_engine(database_url)
    try:
        proc = schedulers.start("--batch-size", "25", TICKETING_FROZEN_NOW=start.isoformat())
        procs.wait_until(lambda: procs.counts(engine).get("fired") == due, timeout=60,
                         what="every timer due in the hour fired")
        assert schedulers.stop(proc) == 0, schedulers.output(proc)
        assert procs.counts(engine) == {"fired": due, "pending": later}
        with engine.connect() as conn:
            late = conn.execute(text("SELECT count(*) FROM timers WHERE status = 'fired' "
                                     "AND due_at > :start"), {"start": start}).scalar()
        assert late == 0
    finally:
        engine.dispose()
