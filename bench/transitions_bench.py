"""In-process transitions with history rows (fire_event, one commit per transition) and the
resident memory while tickets are loaded and transitioned (checked at 25/50/100 %)."""
from __future__ import annotations

import gc
import time

from common import make_app, rss_mb

# consult: new -> handling -> replied -> closed, each event committed on its own.
STEPS = [("transfer", "department"), ("reply", {"note": "已答复客户"}),
         ("relay", {"note": "已回复客户"})]


def transitions(db: str, tickets: int) -> dict:
    from sqlalchemy import select
    from ticketing.auth.models import Department, User
    from ticketing.extensions import db as sa
    from ticketing.tickets.operations import fire_event, open_ticket
    app = make_app(db)
    marks = {max(1, tickets // 4): "25%", max(1, tickets // 2): "50%", tickets: "100%"}
    memory, fired = {}, 0
    with app.app_context():
        actor = sa.session.scalar(select(User).where(User.username == "admin"))
        department_id = sa.session.scalar(select(Department.id).where(
            Department.code == "operations"))
        actor_id = actor.id
        rss_start = rss_mb()
        started = time.perf_counter()
        transition_seconds = open_seconds = 0.0
        for n in range(1, tickets + 1):
            actor = sa.session.get(User, actor_id)
            t0 = time.perf_counter()
            ticket = open_ticket(actor, kind="consult", caller_phone="13900000000",
                                 description=f"bench {n}")
            sa.session.commit()
            open_seconds += time.perf_counter() - t0
            for event, fields in STEPS:
                if fields == "department":
                    fields = {"department_id": department_id}
                t0 = time.perf_counter()
                fire_event(actor, ticket, event, fields)
                sa.session.commit()
                transition_seconds += time.perf_counter() - t0
                fired += 1
            sa.session.expunge_all()  # nothing is kept per ticket between iterations
            if n in marks:
                gc.collect()
                memory[marks[n]] = round(rss_mb(), 1)
        seconds = time.perf_counter() - started
        sa.session.remove()
        sa.engine.dispose()
    return {"tickets": tickets, "transitions": fired,
            "transitions_per_second": int(fired / transition_seconds),
            "opened_per_second": round(tickets / open_seconds, 1),
            "tickets_per_second_incl_open": round(tickets / seconds, 1),
            "rss_start_mb": round(rss_start, 1), "rss_mb": memory}
