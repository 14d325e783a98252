"""Full-text search at the seeded scale (issue 18): p50/p95 of text queries.

    python bench/search_bench.py --db sqlite|postgresql [--requests 20] [--output FILE]

On a database seeded by bench/seed.py (its text: symptoms, notes, Chinese names and
addresses; the search index built as the migration builds it). Runs, in process through the
Flask test client with a bearer token, a mix of what agents type: two-character Chinese
words (common and rarer), one character (prefix), English words, mixed Chinese and English,
a customer's name, an address, a ticket number, a phone number, a word that matches
nothing. Each query is asked of the ranked search API (`GET /api/v1/search/tickets`) and the
ticket list's text filter (`GET /api/v1/tickets?text=`), as a supervisor (every ticket) and
as department staff (visibility filter), 2 warm-ups then N timed requests. Prints one line
per query and the p95 over the whole mix; the goal is p95 <= 50 ms at 1,000,000 tickets."""
from __future__ import annotations

import argparse
import json
import sys
import time

from common import PASSWORD, make_app, percentile

GOAL_MS = 50.0


def _samples(app) -> dict:
    """A customer name, an address fragment, a ticket number and a caller phone that exist."""
    from sqlalchemy import text
    from ticketing.extensions import db
    with app.app_context():
        conn = db.session.connection()
        middle = conn.scalar(text("SELECT MAX(id) FROM tickets")) // 2
        ticket = conn.execute(text(
            "SELECT t.number, t.caller_phone, c.name, c.address FROM tickets t "
            "JOIN customers c ON c.id = t.customer_id WHERE t.id >= :id ORDER BY t.id LIMIT 1"),
            {"id": middle}).one()
        db.session.remove()
    street = ticket.address[ticket.address.index("区") + 1:ticket.address.index("号") + 1]
    return {"number": ticket.number, "phone": ticket.caller_phone, "name": ticket.name,
            "street": street}


def queries(samples: dict) -> list[tuple[str, str]]:
    return [
        ("2 chars, common (信号)", "信号"),
        ("2 chars (掉线)", "掉线"),
        ("2 chars, in notes too (光猫)", "光猫"),
        ("1 char, prefix (停)", "停"),
        ("1 char, prefix (猫)", "猫"),
        ("English word (wifi)", "wifi"),
        ("English words (router rebooting)", "router rebooting"),
        ("mixed (光猫 红灯)", "光猫 红灯"),
        ("mixed (WiFi 连不上)", "WiFi 连不上"),
        ("phrase (遥控器失灵 独居)", "遥控器失灵 独居"),
        (f"customer name ({samples['name']})", samples["name"]),
        (f"address ({samples['street']})", samples["street"]),
        ("ticket number", samples["number"]),
        ("phone number", samples["phone"]),
        ("no match (xyzzy)", "xyzzy"),
    ]


def search_latency(db: str, requests: int = 20) -> dict:
    from urllib.parse import urlencode
    from ticketing.extensions import db as sa
    app = make_app(db)
    samples = _samples(app)
    results, every = [], {}
    with app.test_client() as client:
        for user in ("supervisor", "staff"):
            response = client.post("/api/v1/tokens", json={"username": user,
                                                           "password": PASSWORD})
            assert response.status_code == 201, response.get_data(as_text=True)
            headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
            for name, query in queries(samples):
                for how, path in (
                        ("search", "/api/v1/search/tickets?" + urlencode({"q": query,
                                                                          "limit": 20})),
                        ("list", "/api/v1/tickets?" + urlencode({"text": query,
                                                                 "limit": 50}))):
                    times, found, capped = [], 0, False
                    for n in range(requests + 2):
                        started = time.perf_counter()
                        response = client.get(path, headers=headers)
                        elapsed = (time.perf_counter() - started) * 1000
                        assert response.status_code == 200, (path, response.status_code)
                        if n >= 2:
                            times.append(elapsed)
                    body = response.get_json()
                    found, capped = len(body["items"]), body.get("capped", False)
                    every.setdefault((how, user), []).extend(times)
                    results.append({"query": name, "how": how, "user": user, "found": found,
                                    "capped": capped,
                                    "p50_ms": round(percentile(times, 50), 1),
                                    "p95_ms": round(percentile(times, 95), 1)})
                    print(f"  {db:10} {how:6} {user:10} {name:40} {found:3} "
                          f"{'capped' if capped else '      '} p50 {results[-1]['p50_ms']:7.1f}"
                          f" p95 {results[-1]['p95_ms']:7.1f} ms", file=sys.stderr)
    with app.app_context():
        tickets = sa.session.scalar(sa.text("SELECT count(*) FROM tickets"))
        sa.session.remove()
        sa.engine.dispose()
    overall = {f"{how} as {user}": round(percentile(times, 95), 1)
               for (how, user), times in every.items()}
    return {"db": db, "tickets": tickets, "requests_per_query": requests, "goal_ms": GOAL_MS,
            "p95_over_the_mix_ms": overall, "queries": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--output")
    args = parser.parse_args()
    result = search_latency(args.db, args.requests)
    print(json.dumps(result["p95_over_the_mix_ms"], ensure_ascii=False))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(result, handle, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
