"""The reports of SPEC §8 at the seeded scale, over a one-year range: p50/p95 of each
report's API and page (Flask test client, in process), the ticket report's CSV export of
every ticket and the callback report's of every callback of the year (seconds, rows, memory
growth).

    python bench/reports_bench.py --db sqlite --db postgresql [--requests 20] [--csv]
        [--callback-csv]

Runs against the scratch databases of bench/common.py (BENCH_SQLITE_PATH, BENCH_PG_URL), seeded
beforehand by bench/seed.py (which also builds the report rollups), e.g.
    python bench/seed.py --tickets 1000000 --database-url sqlite:////tmp/reports-bench.sqlite3
bench/run calls report_latency() as its "reports" measurement."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from common import PASSWORD, machine, make_app, percentile, rss_mb

GOAL_MS = 200


def _year() -> dict:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return {"date_from": (today - timedelta(days=364)).isoformat(),
            "date_to": today.isoformat()}


def _views() -> list[tuple[str, str, str, str]]:
    """(name, user, kind, path): every report over one year; the ticket list views first
    measured before the reports existed stay for comparison."""
    year = _year()
    week_ago = (datetime.now(timezone.utc) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api, page = "/api/v1/reports/", "/reports/"

    def q(**params):
        return "?" + urlencode({**year, **params})

    return [
        ("summary by kind (API)", "supervisor", "api", api + "summary" + q(by="kind")),
        ("summary by state (API)", "supervisor", "api", api + "summary" + q(by="state")),
        ("summary by department (API)", "supervisor", "api",
         api + "summary" + q(by="department")),
        ("summary by day (page, chart)", "supervisor", "page", page + "summary" + q(by="day")),
        ("summary by kind, one department (API, department head)", "head", "api",
         api + "summary" + q(by="kind")),
        ("call types (API)", "supervisor", "api", api + "calls" + q()),
        ("call types (page, chart)", "supervisor", "page", page + "calls" + q()),
        ("fault rates by month (API)", "supervisor", "api", api + "faults" + q()),
        ("fault rates by week (page, chart)", "supervisor", "page",
         page + "faults" + q(bucket="week")),
        ("repair statistics (API)", "supervisor", "api", api + "repairs" + q()),
        ("repair statistics (page, chart)", "supervisor", "page", page + "repairs" + q()),
        ("SLA compliance by week (API)", "supervisor", "api", api + "sla" + q()),
        ("SLA compliance by day (page, chart)", "supervisor", "page",
         page + "sla" + q(bucket="day")),
        ("satisfaction by week (API)", "supervisor", "api", api + "satisfaction" + q()),
        ("satisfaction by day (page, chart)", "supervisor", "page",
         page + "satisfaction" + q(bucket="day")),
        ("callback records, one year, first page (API)", "supervisor", "api",
         api + "callbacks" + q()),
        ("ticket query, one year, first page (API)", "supervisor", "api",
         api + "tickets" + q()),
        ("ticket query: urgent repairs with fibre faults (API)", "supervisor", "api",
         api + "tickets" + q(kind="repair", priority="urgent", fault_type="fibre_cable")),
        ("ticket query: one department's closed tickets (API, department head)", "head",
         "api", api + "tickets" + q(status="processed")),
        ("ticket query (page)", "supervisor", "page", page + "tickets" + q(kind="consult")),
        ("ticket query: text 停电 (API; the search is issue 18's other half)", "supervisor",
         "api", api + "tickets" + q(text="停电")),
        ("customer detail with history (API)", "supervisor", "api",
         api + "customer?customer_id=7"),
        ("customer detail with history (page)", "supervisor", "page",
         page + "customer?customer_id=7"),
        ("ticket list: created in the last 7 days (API)", "supervisor", "api",
         "/api/v1/tickets?" + urlencode({"created_from": week_ago, "limit": 50})),
    ]


def _login(client, user: str) -> dict:
    """A session for the pages; returns bearer-token headers for the API."""
    response = client.post("/api/v1/tokens", json={"username": user, "password": PASSWORD})
    assert response.status_code == 201, response.get_data(as_text=True)
    token = response.get_json()["token"]
    response = client.post("/login", data={"username": user, "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    return {"Authorization": f"Bearer {token}"}


def report_latency(db: str, requests: int = 20, only: str | None = None,
                   skip: str | None = None) -> list[dict]:
    from ticketing.extensions import db as sa
    app = make_app(db)
    results = []
    clients = {}
    try:
        for name, user, kind, path in _views():
            if (only and only not in name) or (skip and skip in name):
                continue
            if user not in clients:
                client = app.test_client()
                clients[user] = (client, _login(client, user))
            client, token = clients[user]
            headers = token if kind == "api" else None
            times, cpu = [], []
            for n in range(requests + 2):  # two warm-ups
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                used = (time.process_time() - started_cpu) * 1000
                assert response.status_code == 200, (path, response.status_code,
                                                     response.get_data(as_text=True)[:300])
                if n >= 2:
                    times.append(elapsed)
                    cpu.append(used)
            # CPU time of this process per request: on a loaded machine wall time mostly
            # measures the wait for a core (SQLite runs in this process; PostgreSQL's own
            # work is not in it).
            results.append({"name": name, "path": path,
                            "p50_ms": round(percentile(times, 50), 1),
                            "p95_ms": round(percentile(times, 95), 1), "requests": requests,
                            "cpu_p50_ms": round(percentile(cpu, 50), 1),
                            "cpu_p95_ms": round(percentile(cpu, 95), 1),
                            "load_average": round(os.getloadavg()[0], 1),
                            "met": percentile(times, 95) <= GOAL_MS})
            r = results[-1]
            print(f"  [{db}] {name}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms; CPU p95 "
                  f"{r['cpu_p95_ms']} ms; load {r['load_average']}", file=sys.stderr,
                  flush=True)
    finally:
        with app.app_context():
            sa.engine.dispose()
    return results


def csv_export(db: str, report: str = "tickets") -> dict:
    """Stream a report's CSV: the ticket report's of every ticket (two years back, so all of
    them) or the callback report's of every callback of the year; watch the process's
    resident memory while it runs."""
    from ticketing.extensions import db as sa
    app = make_app(db)
    client = app.test_client()
    client.post("/login", data={"username": "supervisor", "password": PASSWORD})
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    span = {"date_from": (today - timedelta(days=730)).isoformat(),
            "date_to": today.isoformat()} if report == "tickets" else _year()
    path = f"/reports/{report}/export.csv?" + urlencode(span)
    before = rss_mb()
    peak = before
    started, started_cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    assert response.status_code == 200
    size = lines = 0
    for i, chunk in enumerate(response.response):
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        size += len(data)
        lines += data.count(b"\n")
        if i % 50 == 0:
            peak = max(peak, rss_mb())
    seconds = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    peak = max(peak, rss_mb())
    with app.app_context():
        sa.engine.dispose()
    return {"rows": lines - 1, "megabytes": round(size / 2**20, 1),
            "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "rss_before_mb": round(before, 1),
            "rss_peak_mb": round(peak, 1), "rss_growth_mb": round(peak - before, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--only", help="measure only views whose name contains this")
    parser.add_argument("--skip", help="leave out views whose name contains this")
    parser.add_argument("--csv", action="store_true", help="also stream the full CSV export")
    parser.add_argument("--callback-csv", action="store_true",
                        help="also stream the callback report's CSV of the year")
    args = parser.parse_args()
    out = {"machine": machine(), "goal_p95_ms": GOAL_MS, "results": {}}
    for db in args.db or ["sqlite", "postgresql"]:
        out["results"][db] = {"latency": report_latency(db, args.requests, args.only,
                                                        args.skip)}
        if args.csv:
            out["results"][db]["csv_export"] = csv_export(db)
            print(f"  [{db}] CSV export: {out['results'][db]['csv_export']}", file=sys.stderr)
        if args.callback_csv:
            out["results"][db]["callback_csv_export"] = csv_export(db, "callbacks")
            print(f"  [{db}] callback CSV export: {out['results'][db]['callback_csv_export']}",
                  file=sys.stderr)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
