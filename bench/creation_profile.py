#!/usr/bin/env python3
"""Ticket creation in process, timed and optionally profiled (issue 14): `open_ticket` +
commit, and `POST /api/v1/tickets` through the Flask test client with a bearer token, each
on a fresh scratch database built by the migrations and the demo's reference data.

    python bench/creation_profile.py --db sqlite --tickets 2000
    python bench/creation_profile.py --db postgresql --what api --profile   # pyinstrument
    python bench/creation_profile.py --db sqlite --statements               # one creation's SQL
    python bench/creation_profile.py --db postgresql --driver    # time inside the driver
    python bench/creation_profile.py --without search,reports,clocks   # what each part costs

Prints the mean milliseconds per creation after 50 warm-up ones (with --profile, the
pyinstrument tree first; its own overhead roughly doubles the figures; with --driver, also the
part spent inside the database driver's execute, commit and ping calls: SQLite's own work, or
PostgreSQL's round trips, which no change to our Python can remove). --without disconnects,
in this process only, the named areas' receivers of a new ticket (its search row, its report
facts, its SLA clocks and timers): an experiment, to see what each costs; the product never
runs so)."""
from __future__ import annotations

import argparse
import time

import common
from seed import prepare

TIMING = [False]  # inside the timed part of a creation: --driver counts only these calls


def _open_ticket_loop(app, tickets: int):
    from sqlalchemy import select
    from ticketing.auth.models import User
    from ticketing.extensions import db
    from ticketing.tickets.operations import open_ticket
    with app.app_context():
        actor_id = db.session.scalar(select(User.id).where(User.username == "admin"))

    def create(n: int) -> float:
        with app.app_context():
            actor = db.session.get(User, actor_id)
            started = time.perf_counter()
            TIMING[0] = True
            open_ticket(actor, kind="consult", caller_phone="13900000000",
                        description=f"压测工单 {n}：客户来电反映信号问题")
            db.session.commit()
            TIMING[0] = False
            return time.perf_counter() - started
    return create


def _api_loop(app):
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "agent",
                                                "password": common.PASSWORD}).get_json()
    headers = {"Authorization": "Bearer " + token["token"]}

    def create(n: int) -> float:
        started = time.perf_counter()
        TIMING[0] = True
        response = client.post("/api/v1/tickets", headers=headers, json={
            "kind": ("consult", "repair", "complaint")[n % 3],
            "caller_phone": f"13900000{n % 100:02d}",
            "description": f"压测工单 {n}：客户来电反映信号问题"})
        TIMING[0] = False
        if response.status_code != 201:
            raise RuntimeError(response.get_data(as_text=True)[:300])
        return time.perf_counter() - started
    return create


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--what", choices=("open", "api"), default="open")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--driver", action="store_true")
    parser.add_argument("--without", default="",
                        help="comma-separated: search, reports, clocks")
    args = parser.parse_args()
    prepare(common.reset_database(args.db))
    app = common.make_app(args.db)
    _disconnect_opening_receivers(set(filter(None, args.without.split(","))))
    create = _api_loop(app) if args.what == "api" else _open_ticket_loop(app, args.tickets)
    for n in range(50):
        create(n)
    if args.statements:
        from sqlalchemy import event
        from ticketing.extensions import db
        with app.app_context():
            engine = db.engine
        seen = []
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_a: seen.append(" ".join(statement.split())))
        create(0)
        print(f"{len(seen)} statements:")
        print("\n".join(f"  {s[:110]}" for s in seen))
        return
    in_driver = _time_driver_calls(app) if args.driver else None
    profiler = None
    if args.profile:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.0002)
        profiler.start()
    seconds = sum(create(n) for n in range(args.tickets))
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False))
    print(f"{args.what} [{args.db}]: {seconds / args.tickets * 1000:.3f} ms per creation "
          f"({args.tickets} after 50 warm-up)")
    if in_driver is not None:
        print(f"  of which inside the driver: {in_driver[0] / args.tickets * 1000:.3f} ms "
              f"({in_driver[1] / args.tickets:.1f} calls per creation)")


AREAS = {"search": "ticketing.search", "reports": "ticketing.reports",
         "clocks": "ticketing.timers"}


def _disconnect_opening_receivers(areas: set) -> None:
    from ticketing.signals import ticket_opened
    unknown = areas - set(AREAS)
    if unknown:
        raise SystemExit(f"--without: unknown area(s) {', '.join(sorted(unknown))}")
    for receiver in list(ticket_opened.receivers.values()):
        if any(receiver.__module__.startswith(AREAS[area]) for area in areas):
            ticket_opened.disconnect(receiver)


def _time_driver_calls(app) -> list:
    """Wrap the dialect's calls into the DB-API driver (execute, commit, ping) with a clock:
    [seconds inside them, number of calls]."""
    from ticketing.extensions import db
    with app.app_context():
        dialect = db.engine.dialect
    totals = [0.0, 0]

    def timed(name):
        original = getattr(dialect, name)

        def call(*args, **kwargs):
            if not TIMING[0]:
                return original(*args, **kwargs)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[0] += time.perf_counter() - started
                totals[1] += 1
        setattr(dialect, name, call)
    for name in ("do_execute", "do_executemany", "do_execute_no_params", "do_commit",
                 "do_rollback", "do_ping"):
        timed(name)
    return totals


if __name__ == "__main__":
    main()
