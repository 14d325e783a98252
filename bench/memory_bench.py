"""Resident memory while many seeded tickets are loaded and transitioned in one process.

One shared workflow machine serves every ticket (no Machine per row), so memory must stay
flat however many tickets pass through. The script walks the seeded database by id, loads
each ticket, fires one event its state allows (suspend, resume, reopen or close), commits
every `--batch` tickets, empties the session, and prints the resident set size at 25 %,
50 % and 100 % as one JSON line:

    python bench/memory_bench.py --db sqlite --tickets 100000
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import time

from common import make_app, rss_mb

# What an event needs, by field name; each event takes the fields it declares.
FIELDS = {"reason": "压测：客户要求暂缓", "note": "压测：已处理"}
CANDIDATES = ("suspend", "resume", "reopen", "close")


def walk(db: str, tickets: int, batch: int = 200) -> dict:
    from sqlalchemy import select
    from ticketing.auth.models import User
    from ticketing.extensions import db as sa
    from ticketing.tickets.models import Ticket
    from ticketing.tickets.operations import fire_event
    from workflows.errors import WorkflowError
    from workflows.machine import ticket_workflow
    from workflows.tickets import EVENTS
    app = make_app(db)
    marks = {tickets // 4: "25%", tickets // 2: "50%", tickets: "100%"}
    memory, fired, refused, seen, last_id = {}, 0, 0, 0, 0
    with app.app_context():
        actor_id = sa.session.scalar(select(User.id).where(User.username == "admin"))
        gc.collect()
        start_mb = rss_mb()
        started = time.perf_counter()
        while seen < tickets:
            ids = sa.session.scalars(select(Ticket.id).where(Ticket.id > last_id)
                                     .order_by(Ticket.id).limit(batch)).all()
            if not ids:
                break
            actor = sa.session.get(User, actor_id)
            for ticket_id in ids:
                ticket = sa.session.get(Ticket, ticket_id)
                allowed = ticket_workflow.allowed_events(ticket.state)
                event = next((e for e in CANDIDATES if e in allowed), None)
                if event is not None:
                    fields = {k: v for k, v in FIELDS.items() if k in EVENTS[event]["fields"]}
                    try:
                        with sa.session.begin_nested():
                            fire_event(actor, ticket, event, fields, system=True)
                        fired += 1
                    except WorkflowError:
                        refused += 1  # a guard said no (e.g. suspend twice): nothing changed
                seen += 1
                if seen in marks:
                    sa.session.commit()
                    sa.session.expunge_all()
                    gc.collect()
                    memory[marks[seen]] = round(rss_mb(), 1)
                    actor = sa.session.get(User, actor_id)
                if seen >= tickets:
                    break
            last_id = ids[-1]
            sa.session.commit()
            sa.session.expunge_all()  # nothing is kept per ticket between batches
        seconds = time.perf_counter() - started
        sa.session.remove()
        sa.engine.dispose()
    return {"tickets": seen, "fired": fired, "refused_by_guard": refused,
            "seconds": round(seconds, 1), "per_second": int(seen / seconds) if seconds else 0,
            "rss_start_mb": round(start_mb, 1), "rss_mb": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(json.dumps(walk(args.db, args.tickets, args.batch)))


if __name__ == "__main__":
    main()
