"""Closing a ticket now against closing it in another checkout (issue 16: "closing a ticket
stays within 10 % of today's transition time", today being the code before callbacks and
audits existed: main at 892c670, before their merge).

    git worktree add /tmp/then 892c670
    python bench/close_compare.py /tmp/then 150 /tmp/close-then.sqlite3
    python bench/close_compare.py .         150 /tmp/close-now.sqlite3
    python bench/close_compare.py /tmp/then 150 postgresql+psycopg://postgres@127.0.0.1:5432/close_then

Imports `ticketing` from the given checkout (its own migrations build a fresh database: the
SQLite file is removed, the PostgreSQL database dropped and made again), seeds the demo
reference data, then per round: a consult's `transfer` and `reply` (an ordinary transition)
and a complaint's `resolve` (its closing: a callback task and an audit now), each fired in
process and committed on its own, 10 warm-up rounds first. Prints one JSON line: mean and
p50 ms of the closing and of the ordinary transition. STMTS=1 also prints the statements of
the last closing. Run the two checkouts alternately, on a quiet machine."""
import json
import os
import statistics
import sys
import time

root, rounds, database = os.path.abspath(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, root)

if database.startswith("postgresql"):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    url = make_url(database)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    uri = database
else:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(database + suffix)
        except FileNotFoundError:
            pass
    uri = f"sqlite:///{database}"

import logging  # noqa: E402

logging.disable(logging.WARNING)
import ticketing  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

assert ticketing.__file__.startswith(root), f"ticketing comes from {ticketing.__file__}"
from ticketing import create_app  # noqa: E402
from ticketing.cli import migrate_database  # noqa: E402
from ticketing.demo import seed_demo  # noqa: E402
from ticketing.extensions import db  # noqa: E402

app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench",
                  "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
with app.app_context():
    migrate_database()
    seed_demo(customers=5)
    db.session.commit()
    from ticketing.auth.models import Department, User
    from ticketing.tickets.operations import fire_event, open_ticket
    actor_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    department = dict(db.session.execute(select(Department.code, Department.id)).all())
    statements: list[str] = []
    recording = [False]

    @event.listens_for(db.engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, parameters, context, executemany):
        if recording[0]:
            statements.append(" ".join(statement.split())[:150])

    def actor():
        return db.session.get(User, actor_id)

    def prepared(kind, steps):
        ticket = open_ticket(actor(), kind=kind, caller_phone="13900000000",
                             description="bench close")
        db.session.commit()
        for name, fields in steps:
            fire_event(actor(), ticket, name, fields)
            db.session.commit()
        return ticket

    def timed(ticket, name, fields):
        who = actor()
        statements.clear()
        recording[0] = True
        started = time.perf_counter()
        fire_event(who, ticket, name, fields)
        db.session.commit()
        recording[0] = False
        return (time.perf_counter() - started) * 1000

    complaint_steps = [("send_to_inspection", {}), ("analyse", {"note": "已调查"}),
                       ("assign", {"department_id": department["operations"]}),
                       ("handle", {"note": "已处理", "receipt_person": "王先生",
                                   "satisfaction": 4})]
    closing, ordinary = [], []
    for n in range(rounds + 10):
        consult = prepared("consult", [])
        complaint = prepared("complaint", complaint_steps)
        moves = [timed(consult, "transfer", {"department_id": department["operations"]}),
                 timed(consult, "reply", {"note": "已答复客户"})]
        closed = timed(complaint, "resolve", {"note": "已解决"})
        if n >= 10:
            ordinary += moves
            closing.append(closed)
        db.session.expunge_all()
    if os.environ.get("STMTS"):
        print("\n".join(statements))
    db.engine.dispose()
print(json.dumps({"checkout": root, "database": uri.split(":")[0].split("+")[0],
                  "close_mean_ms": round(statistics.mean(closing), 2),
                  "close_p50_ms": round(statistics.median(closing), 2),
                  "ordinary_mean_ms": round(statistics.mean(ordinary), 2),
                  "ordinary_p50_ms": round(statistics.median(ordinary), 2)}))
