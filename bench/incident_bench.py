"""Release of an incident with N linked repair tickets in ONE request (issue 17: 1,000 in
≤ 2 s on both databases), through the HTTP API in-process (Flask test client), against
scratch databases of its own: SQLite /tmp/incidents-bench.sqlite3 and PostgreSQL
bench_incidents (never another bench's database).

    python bench/incident_bench.py --db sqlite --tickets 1000
    python bench/incident_bench.py --db postgresql --tickets 1000 --runs 3

Each run builds a fresh incident: N customers in one area, a repair ticket each, linked in
bulk (all_open_in_area), the fault cleared; then times POST /incidents/<id>/release alone and
checks every ticket is closed and the announcement withdrawn."""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.SQLITE_PATH = "/tmp/incidents-bench.sqlite3"
common.PG_URL = os.environ.get("BENCH_INCIDENTS_PG_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/bench_incidents")


def _token(client, username: str) -> dict:
    response = client.post("/api/v1/tokens", json={"username": username,
                                                   "password": common.PASSWORD})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def prepare(db: str) -> None:
    from ticketing.auth.operations import create_user
    from ticketing.cli import add_reference_data, migrate_database
    from ticketing.extensions import db as sa
    common.reset_database(db)
    app = common.make_app(db)
    with app.app_context():
        migrate_database()
        add_reference_data()
        create_user("bench_dispatcher", common.PASSWORD, ["dispatcher"], "dispatch")
        create_user("bench_repair_head", common.PASSWORD, ["department_head"], "repair")
        sa.session.commit()
        sa.engine.dispose()


PROFILE = False


def _profiler():
    """pyinstrument (pip install pyinstrument) over the release request alone."""
    from pyinstrument import Profiler
    profiler = Profiler(interval=0.001)
    profiler.start()
    return profiler


def one_run(db: str, tickets: int, run: int) -> float:
    from sqlalchemy import func, insert, select
    from ticketing.announcements.models import Announcement
    from ticketing.customers.models import Customer
    from ticketing.extensions import db as sa
    from ticketing.tickets.models import Ticket
    from ticketing.tickets.operations import open_ticket
    app = common.make_app(db)
    area = f"压测区{run}"
    with app.app_context():
        sa.session.execute(insert(Customer), [
            {"account_no": f"B{run:02d}{n:07d}", "name": f"客户{n}", "area": area,
             "address": "", "tier": "ordinary", "notes": ""} for n in range(tickets)])
        ids = sa.session.scalars(select(Customer.id).where(Customer.area == area)).all()
        for customer_id in ids:
            open_ticket(None, kind="repair", customer_id=customer_id, description="无信号")
        sa.session.commit()
    client = app.test_client()
    dispatcher, head = _token(client, "bench_dispatcher"), _token(client, "bench_repair_head")
    incident = client.post("/api/v1/incidents", headers=dispatcher, json={
        "name": f"光缆中断{run}", "areas": [area], "fault_category": "fibre_cable"}).get_json()
    linked = client.post(f"/api/v1/incidents/{incident['id']}/links", headers=dispatcher,
                         json={"all_open_in_area": True})
    assert linked.status_code == 201 and linked.get_json()["linked"] == tickets, linked.json
    assert client.post(f"/api/v1/incidents/{incident['id']}/clear", headers=head,
                       json={}).status_code == 200
    profiler = _profiler() if PROFILE else None
    started = time.perf_counter()
    response = client.post(f"/api/v1/incidents/{incident['id']}/release", headers=dispatcher,
                           json={"note": "信号已恢复"})
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    assert response.status_code == 200 and response.get_json()["resolved"] == tickets
    with app.app_context():
        open_left = sa.session.scalar(select(func.count(Ticket.id)).join(
            Customer, Customer.id == Ticket.customer_id).where(
            Customer.area == area, Ticket.state != "closed"))
        announcement = sa.session.get(Announcement, incident["announcement_id"]).state
        sa.session.remove()
        sa.engine.dispose()
    assert open_left == 0 and announcement == "revoked", (open_left, announcement)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true",
                        help="print a pyinstrument profile of each release request")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    prepare(args.db)
    times = [one_run(args.db, args.tickets, run) for run in range(args.runs)]
    print(f"{args.db}: release of {args.tickets} linked tickets in one request: "
          + ", ".join(f"{t:.2f}" for t in times) + f" s (median {common.median(times):.2f} s)")
    print(common.machine())


if __name__ == "__main__":
    main()
