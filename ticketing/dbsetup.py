"""Per-connection settings: SQLite gets WAL, foreign keys and a busy timeout."""
import json
from datetime import date, datetime

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from ticketing.extensions import db


def configure_engine_events(engine: Engine, lock_timeout_ms: int = 3000,
                            idle_in_transaction_timeout_ms: int = 60000) -> None:
    if engine.dialect.name == "postgresql":
        _postgres_timeouts(engine, lock_timeout_ms, idle_in_transaction_timeout_ms)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; busy_timeout makes writers queue.
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _postgres_timeouts(engine: Engine, lock_ms: int, idle_ms: int) -> None:
    """No process waits on another's locks without a bound: a statement that waits longer
    than lock_timeout fails (a request answers 503 with Retry-After), and a session left idle
    inside a transaction (a stopped scheduler, a paused VM) is ended by the server after
    idle_in_transaction_session_timeout, releasing its locks."""

    @event.listens_for(engine, "connect")
    def _timeouts(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(lock_ms)}")
            cursor.execute(f"SET idle_in_transaction_session_timeout = {int(idle_ms)}")
        dbapi_connection.commit()


def begin_write(session) -> None:
    """Open the session's transaction now, with the write lock, on SQLite.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE/REPLACE statements, so a
    SAVEPOINT or a `WITH … UPDATE` issued first runs outside one: the statement commits on its
    own and each RELEASE SAVEPOINT is a commit. Code that needs savepoints or a claim held
    until its commit (the timer sweep, the CSV import) calls this first. PostgreSQL always
    runs inside the transaction SQLAlchemy began: nothing to do."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and \
            not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_rows(table, rows: list[dict]) -> None:
    """Insert plain rows in the session's transaction: on PostgreSQL one INSERT of all of
    them from a single JSON parameter (a sweep batch writes thousands of history and
    notification rows, and executemany spent most of its time binding them one by one);
    executemany on SQLite (which loops in C).

    Not COPY, though it is as fast: a COPY is one statement the client feeds row by row, so
    a sweep process paused mid-COPY (SIGSTOP, a frozen VM) kept its transaction "active"
    and its locks held with no timeout ending it (idle_in_transaction_session_timeout
    applies only between statements, and statement_timeout waits for the client's next
    bytes). An INSERT is sent whole before it runs."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(table.insert(), rows)
        return
    columns = ", ".join(rows[0])
    connection.execute(text(
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} "
        f"FROM json_populate_recordset(NULL::{table.name}, CAST(:rows AS json))"),
        {"rows": json.dumps(rows, default=_json_value)})


def _json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
