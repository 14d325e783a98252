#!/usr/bin/env python3
"""django-helpdesk side by side (issue 9): ticket creation through its ORM path and its
`escalate_tickets` command, at a given scale, on SQLite or PostgreSQL.

    python bench/helpdesk_peer.py [--db sqlite|postgresql] [--tickets 20000] [--create 2000]
                                  [--due-percent 1]

Creates bench/.peer-venv (gitignored) with `pip install django-helpdesk` from PyPI on first
use, then re-runs itself there. The Django project is written to a temporary directory.
Prints one JSON object. PostgreSQL uses database `bench_peer` on 127.0.0.1 (created if
missing; emptied first)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".peer-venv")
PEER_PY = os.path.join(VENV, "bin", "python")
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres", "name": "bench_peer"}

SETTINGS = '''
SECRET_KEY = "bench"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
ALLOWED_HOSTS = ["*"]
SITE_ID = 1
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages",
                  "django.contrib.staticfiles", "django.contrib.sites",
                  "django.contrib.humanize", "rest_framework", "helpdesk"]
MIDDLEWARE = []
ROOT_URLCONF = "peer_urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
              "APP_DIRS": True, "OPTIONS": {"context_processors": [
                  "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages",
                  "django.template.context_processors.request"]}}]
STATIC_URL = "/static/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HELPDESK_TEAMS_MODE_ENABLED = False
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {"default": %(database)r}
'''


def ensure_venv() -> None:
    if not os.path.exists(PEER_PY):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    probe = subprocess.run([PEER_PY, "-c", "import helpdesk, psycopg"], capture_output=True)
    if probe.returncode:
        subprocess.run([PEER_PY, "-m", "pip", "install", "-q", "django-helpdesk",
                        "psycopg[binary]"], check=True)


def reset_pg() -> None:
    base = ["-h", PG["host"], "-p", PG["port"], "-U", PG["user"]]
    subprocess.run(["createdb", *base, PG["name"]], capture_output=True)
    subprocess.run(["psql", *base, "-q", "-d", PG["name"], "-c",
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"], check=True,
                   capture_output=True)


def inner(args) -> dict:
    project = tempfile.mkdtemp(prefix="helpdesk-peer-")
    if args.db == "sqlite":
        database = {"ENGINE": "django.db.backends.sqlite3",
                    "NAME": os.path.join(project, "peer.sqlite3")}
    else:
        database = {"ENGINE": "django.db.backends.postgresql", "NAME": PG["name"],
                    "USER": PG["user"], "HOST": PG["host"], "PORT": PG["port"]}
    with open(os.path.join(project, "peer_settings.py"), "w") as fh:
        fh.write(SETTINGS % {"database": database})
    with open(os.path.join(project, "peer_urls.py"), "w") as fh:
        fh.write("from django.urls import include, path\n"
                 "urlpatterns = [path('helpdesk/', include('helpdesk.urls'))]\n")
    sys.path.insert(0, project)
    os.environ["DJANGO_SETTINGS_MODULE"] = "peer_settings"
    import django
    django.setup()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from helpdesk.models import FollowUp, Queue, Ticket

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - started
    user = get_user_model().objects.create_user("agent", "agent@example.com", "pw")
    queue = Queue.objects.create(title="Repairs", slug="repairs", escalate_days=1,
                                 email_address="repairs@example.com")
    # 1. creation through the ORM path, one ticket + its first follow-up per transaction
    times = []
    t0 = time.perf_counter()
    for i in range(args.create):
        s = time.perf_counter()
        with transaction.atomic():
            ticket = Ticket.objects.create(
                title=f"压测工单 {i}", queue=queue, submitter_email=f"c{i}@example.com",
                description="客户来电反映信号问题", priority=3, assigned_to=user)
            FollowUp.objects.create(ticket=ticket, title="Ticket Opened",
                                    comment="客户来电反映信号问题", public=True, user=user)
        times.append((time.perf_counter() - s) * 1000)
    create_seconds = time.perf_counter() - t0
    times.sort()
    # 2. fill up to --tickets (bulk, not timed): --due-percent of them old enough to escalate
    now = timezone.now()
    rest = max(0, args.tickets - args.create)
    due = int(args.tickets * args.due_percent / 100)
    batch = []
    for i in range(rest):
        created = now - timedelta(days=10) if i < due else now - timedelta(hours=1)
        batch.append(Ticket(title=f"due{i}" if i < due else f"t{i}", queue=queue, submitter_email="x@example.com",
                            description="d", priority=3, created=created, modified=created,
                            status=Ticket.OPEN_STATUS))
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    if batch:
        Ticket.objects.bulk_create(batch)
    # `created` is auto_now_add (bulk_create too): age the due ones with an UPDATE; the
    # rest are new and not due (last_escalation None, created just now)
    Ticket.objects.filter(title__startswith="due").update(created=now - timedelta(days=10),
                                                          last_escalation=None)
    total = Ticket.objects.count()
    t0 = time.perf_counter()
    call_command("escalate_tickets")
    escalate_seconds = time.perf_counter() - t0
    escalated = Ticket.objects.filter(priority=2).count()
    t0 = time.perf_counter()
    call_command("escalate_tickets")  # again, nothing due now (last_escalation just set)
    escalate_zero_seconds = time.perf_counter() - t0
    import django as dj
    return {"db": args.db, "vendor": connection.vendor, "django": dj.get_version(),
            "helpdesk": _version("django-helpdesk"),
            "migrate_seconds": round(migrate_seconds, 1),
            "create": {"tickets": args.create, "per_second": round(args.create / create_seconds, 1),
                       "p50_ms": round(times[len(times) // 2], 2),
                       "p99_ms": round(times[int(len(times) * 0.99) - 1], 2)},
            "escalate": {"tickets": total, "due": due, "escalated": escalated,
                         "seconds": round(escalate_seconds, 3),
                         "seconds_zero_due": round(escalate_zero_seconds, 3)}}


def _version(dist: str) -> str:
    from importlib.metadata import version
    return version(dist)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--create", type=int, default=2_000)
    parser.add_argument("--due-percent", type=float, default=1.0)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(inner(args), ensure_ascii=False))
        return 0
    ensure_venv()
    if args.db == "postgresql":
        reset_pg()
    cmd = [PEER_PY, os.path.abspath(__file__), "--inner", "--db", args.db, "--tickets",
           str(args.tickets), "--create", str(args.create), "--due-percent",
           str(args.due_percent)]
    return subprocess.run(cmd, timeout=3600).returncode


if __name__ == "__main__":
    sys.exit(main())
