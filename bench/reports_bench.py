"""Report-like views at the seeded scale: what a supervisor opens to look across all tickets.

SPEC §8's reports (repair statistics, fault rates, SLA compliance, …) are not built yet (their
issue is deferred); what exists and must stay fast at 1,000,000 tickets is measured here:
the home page, the escalation queue, and the ticket query (the list API with the filters a
report would use, across all departments), each p50/p95 over a few requests (Flask test
client, in process)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from common import PASSWORD, make_app, percentile


def _views() -> list[tuple[str, str, str]]:
    week_ago = (datetime.now(timezone.utc) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = "/api/v1/tickets?"
    return [
        ("home page (supervisor)", "page", "/"),
        ("escalation queue (supervisor)", "page", "/escalations"),
        ("ticket query: open repairs, all departments", "api",
         query + urlencode({"kind": "repair", "status": "processing", "limit": 50})),
        ("ticket query: created in the last 7 days", "api",
         query + urlencode({"created_from": week_ago, "limit": 50})),
        ("ticket query: one customer's tickets", "api",
         query + urlencode({"customer_id": 7, "limit": 50})),
        ("ticket query: text in the description", "api",
         query + urlencode({"text": "停电", "limit": 50})),
    ]


def report_latency(db: str, requests: int = 20, user: str = "supervisor") -> list[dict]:
    from ticketing.extensions import db as sa
    app = make_app(db)
    results = []
    with app.test_client() as client:
        response = client.post("/api/v1/tokens", json={"username": user, "password": PASSWORD})
        assert response.status_code == 201, response.get_data(as_text=True)
        token = {"Authorization": f"Bearer {response.get_json()['token']}"}
        response = client.post("/login", data={"username": user, "password": PASSWORD})
        assert response.status_code in (302, 303), response.status_code
        for name, kind, path in _views():
            headers = token if kind == "api" else None
            times = []
            for n in range(requests + 2):  # two warm-ups
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (path, response.status_code)
                if n >= 2:
                    times.append(elapsed)
            results.append({"name": name, "path": path,
                            "p50_ms": round(percentile(times, 50), 1),
                            "p95_ms": round(percentile(times, 95), 1), "requests": requests})
    with app.app_context():
        sa.engine.dispose()
    return results
