"""Ticket list API and work-queue page latency (Flask test client, in process).

Both read the department queue of `staff` (the page takes ?queue= like the API), 50 rows
newest first along ix_tickets_department_created: a page costs the same at 20,000 and at
1,000,000 tickets."""
from __future__ import annotations

import time

from common import PASSWORD, make_app, percentile


def _timed(client, path: str, requests: int, headers=None) -> dict:
    for _ in range(5):  # warm-up: imports, template compilation, plan caches
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code,
                                              response.get_data(as_text=True)[:300])
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return {"p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2),
            "requests": requests}


def list_latency(db: str, requests: int = 200, user: str = "staff") -> dict:
    from ticketing.extensions import db as sa
    app = make_app(db)
    results = {}
    with app.test_client() as client:
        response = client.post("/api/v1/tokens", json={"username": user, "password": PASSWORD})
        assert response.status_code == 201, response.get_data(as_text=True)
        headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
        results["api"] = _timed(client, "/api/v1/tickets?queue=department&limit=50",
                                requests, headers)
        response = client.post("/login", data={"username": user, "password": PASSWORD})
        assert response.status_code in (302, 303), response.status_code
        results["page"] = _timed(client, "/tickets?queue=department", requests)
    with app.app_context():
        sa.engine.dispose()
    return results
