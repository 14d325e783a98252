"""APScheduler ticks the sweep; it never holds per-ticket jobs (those are timer rows).

Two entry points start a scheduler, and only these two: `ticketing scheduler` (the production
process; run as many as you like against PostgreSQL) and `ticketing run` (beside the
development server, via RUN_HOOKS). Both run APScheduler's BackgroundScheduler.
create_app() - and so every gunicorn worker - starts none. The job store is APScheduler's
memory store, never shared between processes."""
from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext

from ticketing.extensions import db
from ticketing.timers.sweep import sweep_due_timers

log = logging.getLogger(__name__)

JOB_ID = "sweep_due_timers"
STOP_POLL_SECONDS = 0.2

# Schedulers started in this process (for tests and shutdown): started only by the two
# entry points below.
RUNNING: list = []
_running_lock = threading.Lock()


def run_sweep(app, **kwargs) -> int:
    """One scheduled tick: sweep inside a fresh app context; a failure is logged, not raised
    (the next tick tries again)."""
    with app.app_context():
        try:
            return sweep_due_timers(**kwargs)
        except Exception:
            log.exception("timer sweep failed")
            db.session.rollback()
            return 0
        finally:
            db.session.remove()


def build_scheduler(app, scheduler_class, **sweep_kwargs):
    interval = float(app.config.get("SCHEDULER_INTERVAL_SECONDS", 15))
    scheduler = scheduler_class(timezone=timezone.utc)
    # First run now: timers that fell due while nothing ran fire right after start-up.
    scheduler.add_job(run_sweep, "interval", seconds=interval, id=JOB_ID, args=[app],
                      kwargs=sweep_kwargs, max_instances=1, coalesce=True,
                      misfire_grace_time=None, next_run_time=datetime.now(timezone.utc))
    return scheduler


def _track(scheduler) -> None:
    with _running_lock:
        RUNNING.append(scheduler)


def _untrack(scheduler) -> None:
    with _running_lock:
        if scheduler in RUNNING:
            RUNNING.remove(scheduler)


def start_embedded_scheduler(app):
    """RUN_HOOKS entry for `ticketing run`: sweeps in a background thread; returns stop()."""
    from apscheduler.schedulers.background import BackgroundScheduler
    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start()
    _track(scheduler)
    log.info("embedded timer scheduler started (every %ss)",
             app.config.get("SCHEDULER_INTERVAL_SECONDS", 15))

    def stop() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        _untrack(scheduler)

    return stop


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Fire every due timer once, then exit (cron).")
@click.option("--interval", type=float, default=None,
              help="Seconds between sweeps [default: SCHEDULER_INTERVAL_SECONDS].")
@click.option("--batch-size", type=click.IntRange(1, 10000), default=None,
              help="Timers claimed per transaction [default: SCHEDULER_BATCH_SIZE].")
@click.option("--worker", default=None, help="Name stamped on claimed timers "
                                              "[default: host:pid].")
@with_appcontext
def scheduler_command(once, interval, batch_size, worker):
    """Run the timer sweeps (SLA warnings and escalations, ...) until stopped.

    Safe to run several at once against PostgreSQL: each timer fires exactly once."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        # One line per tick ("Running job ...") says nothing; the sweep logs what it fired.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    app = current_app._get_current_object()
    kwargs = {}
    if batch_size:
        kwargs["batch_size"] = batch_size
    if worker:
        kwargs["worker"] = worker
    if once:
        fired = sweep_due_timers(time_budget=float("inf"), **kwargs)
        db.session.remove()
        click.echo(f"fired {fired}")
        return
    if interval:
        app.config["SCHEDULER_INTERVAL_SECONDS"] = interval
    from apscheduler.schedulers.background import BackgroundScheduler
    scheduler = build_scheduler(app, BackgroundScheduler, **kwargs)
    stop_signals: list[int] = []

    # The handler only notes the signal; the main thread stops the scheduler. Stopping it
    # inside the handler can deadlock: a signal that comes while the scheduler's loop holds
    # its executor's (non-reentrant) lock to submit a sweep makes the handler's shutdown wait
    # on that same lock, in the same thread, for ever (a scheduler once ignored SIGTERM for
    # over a minute in the suite).
    def request_stop(signum, _frame):
        stop_signals.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    click.echo(f"timer scheduler: sweeping every "
               f"{app.config['SCHEDULER_INTERVAL_SECONDS']}s (Ctrl+C to stop)")
    _track(scheduler)
    scheduler.start()
    try:
        while not stop_signals:
            time.sleep(STOP_POLL_SECONDS)
        log.info("signal %s: stopping after the running sweep", stop_signals[0])
    finally:
        scheduler.shutdown(wait=True)
        _untrack(scheduler)
