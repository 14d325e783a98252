"""The dispatcher's board at scale (issue 17: p95 ≤ 50 ms at 1,000,000 tickets), through the
HTTP API and the page in process (Flask test client), against scratch databases of its own:
SQLite /tmp/dispatch-bench.sqlite3 and PostgreSQL bench_dispatch (never another bench's).

    python bench/dispatch_bench.py --db sqlite --tickets 20000
    python bench/dispatch_bench.py --db postgresql --tickets 1000000 --requests 200

Seeds N tickets with bench/seed.py (about 5 % of them are open repair work orders: ordered,
dispatched or working), then times GET /api/v1/dispatch/board (the default 100 work orders,
unassigned first) and GET /dispatch as the demo dispatcher, and prints the query plan the
board reads work orders with (it must be ix_tickets_state_created, never a scan)."""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.SQLITE_PATH = os.environ.get("BENCH_DISPATCH_SQLITE_PATH", "/tmp/dispatch-bench.sqlite3")
common.PG_URL = os.environ.get("BENCH_DISPATCH_PG_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/bench_dispatch")

GOAL_MS = 50


def plan(db: str) -> str:
    """The board's per-state read, explained by the database itself."""
    from sqlalchemy import select, text
    from ticketing.customers.models import Customer
    from ticketing.dispatch.queries import _COLUMNS, BOARD_LIMIT
    from ticketing.extensions import db as sa
    from ticketing.tickets.models import Ticket
    app = common.make_app(db)
    with app.app_context():
        query = (select(*_COLUMNS).outerjoin(Customer, Customer.id == Ticket.customer_id)
                 .where(Ticket.state == "repair_ordered")
                 .order_by(Ticket.created_at, Ticket.id).limit(BOARD_LIMIT))
        sql = str(query.compile(dialect=sa.engine.dialect,
                                compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if db == "sqlite" else "EXPLAIN "
        rows = sa.session.execute(text(prefix + sql)).all()
        sa.session.remove()
        sa.engine.dispose()
    return "\n".join(str(row[-1]) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--no-seed", action="store_true",
                        help="measure the database as it is (seeded by an earlier run)")
    args = parser.parse_args()
    import logging
    logging.disable(logging.WARNING)
    from pages_bench import _timed
    if not args.no_seed:
        from seed import seed
        url = common.reset_database(args.db)
        result = seed(url, args.tickets, 0, quiet=True)
        common.settle(args.db)
        print(f"seeded {args.tickets:,} tickets in {result['load_seconds']:.1f} s")
    app = common.make_app(args.db)
    with app.test_client() as client:
        response = client.post("/api/v1/tokens", json={"username": "dispatcher",
                                                       "password": common.PASSWORD})
        assert response.status_code == 201, response.get_data(as_text=True)
        headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
        board = client.get("/api/v1/dispatch/board", headers=headers).get_json()
        api = _timed(client, "/api/v1/dispatch/board", args.requests, headers)
        response = client.post("/login", data={"username": "dispatcher",
                                               "password": common.PASSWORD})
        assert response.status_code in (302, 303), response.status_code
        page = _timed(client, "/dispatch", args.requests)
    with app.app_context():
        from ticketing.extensions import db as sa
        sa.engine.dispose()
    print(f"open work orders: {board['total']:,} ({board['counts']}), shown {board['shown']} "
          f"in {len(board['groups'])} groups")
    for name, figures in (("GET /api/v1/dispatch/board", api), ("GET /dispatch", page)):
        met = "met" if figures["p95_ms"] <= GOAL_MS else "MISSED"
        print(f"{args.db}: {name} at {args.tickets:,} tickets: p50 {figures['p50_ms']} ms, "
              f"p95 {figures['p95_ms']} ms over {figures['requests']} requests "
              f"(goal p95 ≤ {GOAL_MS} ms: {met})")
    print("plan of the board's read of one state:\n" + plan(args.db))
    print(common.machine())


if __name__ == "__main__":
    main()
