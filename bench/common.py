"""Shared helpers for bench/: database URLs, resetting a scratch database, the machine
description, percentiles, the app factory with benchmark settings."""
from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SQLITE_PATH = os.environ.get("BENCH_SQLITE_PATH", "/tmp/ticketing-bench.sqlite3")
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
PASSWORD = "demo-pass-2026"


def db_url(name: str) -> str:
    return f"sqlite:///{SQLITE_PATH}" if name == "sqlite" else PG_URL


def reset_database(name: str) -> str:
    """Empty the scratch database (SQLite file removed; PostgreSQL schema public recreated)."""
    if name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(SQLITE_PATH + suffix)
            except FileNotFoundError:
                pass
    else:
        from sqlalchemy import create_engine
        ensure_pg_database()
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    return db_url(name)


def make_app(name: str, **extra):
    from ticketing import create_app
    config = {"SQLALCHEMY_DATABASE_URI": db_url(name), "SECRET_KEY": "bench",
              "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, **extra}
    return create_app(config)


def ensure_pg_database() -> None:
    """Create the scratch PostgreSQL database if it does not exist yet (a fresh machine)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    url = make_url(PG_URL)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": url.database}).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    finally:
        engine.dispose()


def settle(name: str) -> float:
    """Bring a freshly bulk-loaded PostgreSQL database to the state a real one of that size is
    in: VACUUM (ANALYZE), as autovacuum would have, then CHECKPOINT. Otherwise autovacuum
    and the checkpointer write out the gigabytes just loaded during the measurements (a
    10,000-timer sweep took 5.4-7.6 s right after the load, 3.3 s once written out).
    Returns its seconds."""
    if name != "postgresql":
        return 0.0
    import time
    from sqlalchemy import create_engine
    started = time.perf_counter()
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
        conn.exec_driver_sql("CHECKPOINT")
    engine.dispose()
    return round(time.perf_counter() - started, 1)


def percentile(values, p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def median(values) -> float:
    return statistics.median(values)


def rss_mb() -> float:
    """Current resident set size (psutil if installed, else /proc/self/status)."""
    try:
        import psutil
        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 2**20:.1f} GiB"
    except OSError:
        pass
    pg = ""
    try:
        from sqlalchemy import create_engine
        ensure_pg_database()
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            pg = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - report, do not fail
        pg = f"unavailable ({type(exc).__name__})"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "load_average": load,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "postgresql": pg, "platform": platform.platform()}


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=5).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""
