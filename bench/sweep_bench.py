"""Timer sweep cost: sweep_due_timers against a seeded database, with 0 due (p50 of 20
sweeps) and with D due (one full sweep, timed)."""
from __future__ import annotations

import time

from common import make_app, median


def sweep_zero_due(db: str, sweeps: int = 20) -> dict:
    """p50 / max of `sweeps` sweeps that find nothing due (ms)."""
    from ticketing.extensions import db as sa
    from ticketing.timers.sweep import sweep_due_timers
    app = make_app(db)
    with app.app_context():
        sweep_due_timers(time_budget=600)  # anything due is fired first (not timed)
        times, fired = [], 0
        for _ in range(sweeps):
            started = time.perf_counter()
            fired += sweep_due_timers(time_budget=600)
            times.append((time.perf_counter() - started) * 1000)
        sa.session.remove()
        sa.engine.dispose()
    return {"p50_ms": round(median(times), 3), "max_ms": round(max(times), 3), "fired": fired}


def sweep_due(db: str) -> dict:
    """One sweep that fires every due timer (batches of SCHEDULER_BATCH_SIZE), seconds."""
    from sqlalchemy import func, select
    from ticketing.extensions import db as sa
    from ticketing.clock import utcnow
    from ticketing.timers.models import Timer
    from ticketing.timers.sweep import sweep_due_timers
    app = make_app(db)
    with app.app_context():
        due = sa.session.scalar(select(func.count(Timer.id)).where(
            Timer.status == "pending", Timer.due_at <= utcnow()))
        sa.session.rollback()
        started = time.perf_counter()
        fired = sweep_due_timers(time_budget=3600)
        seconds = time.perf_counter() - started
        sa.session.remove()
        sa.engine.dispose()
    return {"due": due, "fired": fired, "seconds": round(seconds, 3),
            "per_second": int(fired / seconds) if seconds else 0}
