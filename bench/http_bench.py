"""API ticket creation under gunicorn (2 workers, 127.0.0.1) with a bounded threaded load
generator, against the framework ceiling (bench/ceiling_app.py) served the same way."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

from common import PASSWORD, ROOT, db_url, free_port, percentile

GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
START_TIMEOUT = 30.0


class Server:
    """gunicorn started with subprocess; stopped by its recorded PID, within bounded time."""

    def __init__(self, app: str, database_url: str, workers: int = 2):
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="bench",
                   PYTHONPATH=ROOT + os.pathsep + os.path.join(ROOT, "bench"),
                   RATELIMIT_STORAGE_URI="memory://")
        self.proc = subprocess.Popen(
            [GUNICORN, "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--log-level",
             "warning", "--timeout", "60", app],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {app} exited: "
                                   f"{self.proc.stderr.read().decode()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {app} did not start in {START_TIMEOUT}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def request(port: int, method: str, path: str, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload,
                     headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def load(port: int, path: str, make_body, headers, threads: int, per_thread: int,
         expect: int = 201) -> dict:
    """threads x per_thread POSTs, one connection each (gunicorn sync workers close them)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        mine = []
        for i in range(per_thread):
            started = time.perf_counter()
            try:
                status, body = request(port, "POST", path, make_body(t, i), headers)
            except OSError as exc:
                status, body = -1, str(exc).encode()
            mine.append((time.perf_counter() - started) * 1000)
            if status != expect:
                with lock:
                    errors.append(f"{status}: {body[:200]!r}")
        with lock:
            latencies.extend(mine)

    # warm-up: each worker process loads its code paths once
    for i in range(4):
        request(port, "POST", path, make_body(-1, i), headers)
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=300)
    seconds = time.perf_counter() - started
    done = len(latencies)
    return {"requests": done, "errors": len(errors), "first_error": errors[0] if errors else None,
            "seconds": round(seconds, 2), "per_second": round((done - len(errors)) / seconds, 1),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1)}


def creation(db: str, threads: int = 8, per_thread: int = 50, user: str = "agent") -> dict:
    """Ticket creation through POST /api/v1/tickets, and the ceiling, in the same run."""
    url = db_url(db)
    results = {}
    with Server("ticketing.wsgi:app", url) as server:
        status, body = request(server.port, "POST", "/api/v1/tokens",
                               {"username": user, "password": PASSWORD})
        if status != 201:
            raise RuntimeError(f"token: {status} {body[:300]!r}")
        headers = {"Authorization": "Bearer " + json.loads(body)["token"]}

        def ticket(t, i):
            return {"kind": ("consult", "repair", "complaint")[(t + i) % 3],
                    "caller_phone": f"1390000{t:02d}{i % 100:02d}",
                    "description": f"压测工单 {t}-{i}：客户来电反映信号问题"}
        results["app"] = load(server.port, "/api/v1/tickets", ticket, headers, threads,
                              per_thread)
        results["app"]["server_pid"] = server.pid
    # the ceiling's table first, so the two workers do not race to create it
    from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table,
                            create_engine)
    metadata = MetaData()
    Table("ceiling_rows", metadata, Column("id", Integer, primary_key=True),
          Column("title", String(200), nullable=False),
          Column("created_at", DateTime, nullable=False))
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    with Server("ceiling_app:app", url) as server:
        results["ceiling"] = load(server.port, "/rows",
                                  lambda t, i: {"title": f"压测 {t}-{i}"}, {}, threads,
                                  per_thread)
        results["ceiling"]["server_pid"] = server.pid
    results["ratio"] = round(results["app"]["per_second"] / results["ceiling"]["per_second"], 3)
    return results
