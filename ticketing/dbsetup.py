"""Per-connection settings: SQLite gets WAL, foreign keys, a busy timeout and a queue for
its one writer; PostgreSQL bounded lock waits."""
import fcntl
import json
import os
import sqlite3
import time
from datetime import date, datetime

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

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


# -- SQLite: writers queue ------------------------------------------------------------------
#
# SQLite lets one connection write at a time. A writer that finds the lock taken waits in
# SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, ... ms between tries: with
# two web workers creating tickets, the second slept on long after the first had committed
# (creation p99 281 ms against 12 ms for a one-row insert). This app's connections queue on
# an advisory lock of a file beside the database instead, taken just before a transaction's
# first write (pysqlite begins a transaction there) and released at its commit or rollback:
# a waiting writer looks again within a quarter of a millisecond and then takes SQLite's
# lock at once.
# Anything else writing the file (the sqlite3 shell, a script) still meets SQLite's own lock.

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN")
WRITER_WAIT_SECONDS = 10.0  # as busy_timeout: then "database is locked" (a 503)


def _starts_a_write(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(_WRITES)


class _QueuedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        self.connection.queue_for_write(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection.leave_queue_if_done()

    def executemany(self, sql, seq_of_parameters):
        self.connection.queue_for_write(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection.leave_queue_if_done()


# SQLite copies the write-ahead log back into the database (a checkpoint, with its fsyncs)
# inside the commit that takes the log past 1,000 pages: that commit held the queue while
# the other writers waited. This app's connections checkpoint after leaving the queue
# instead (PASSIVE: it waits for no one, and writers go on meanwhile), every
# CHECKPOINT_EVERY commits of each connection (a ticket's creation writes ~25 pages).
CHECKPOINT_EVERY = 40


class QueuedWriterConnection(sqlite3.Connection):
    """A pysqlite connection whose writes wait their turn on `<database>-writer`, and which
    checkpoints the log after leaving that queue."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        path = os.fspath(database)
        self._queue_fd = None
        self._commits = 0
        if path not in ("", ":memory:") and not path.startswith("file:"):
            self._queue_fd = os.open(path + "-writer", os.O_RDWR | os.O_CREAT, 0o600)
            super().execute("PRAGMA wal_autocheckpoint=0")  # see checkpoint_if_due
        self._queued = False

    def cursor(self, factory=_QueuedCursor):
        return super().cursor(factory)

    # The shortcuts make a plain cursor in C: route them through the queue too.
    def execute(self, sql, parameters=()):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        return self.cursor().executemany(sql, seq_of_parameters)

    def queue_for_write(self, sql: str) -> None:
        if self._queue_fd is None or self._queued or self.in_transaction \
                or not _starts_a_write(sql):
            return
        deadline, pause = time.monotonic() + WRITER_WAIT_SECONDS, 0.0001
        while True:
            try:
                fcntl.flock(self._queue_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.00025)
        self._queued = True

    def leave_queue_if_done(self) -> None:
        if self._queued and not self.in_transaction:
            self._leave_queue()

    def _leave_queue(self) -> None:
        if self._queued:
            fcntl.flock(self._queue_fd, fcntl.LOCK_UN)
            self._queued = False

    def commit(self):
        wrote = self._queued
        try:
            super().commit()
        finally:
            self.leave_queue_if_done()
        if wrote:
            self._commits += 1
            if self._commits % CHECKPOINT_EVERY == 0 and not self.in_transaction:
                super().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.leave_queue_if_done()

    def close(self):
        try:
            super().close()
        finally:
            self._leave_queue()
            if self._queue_fd is not None:
                os.close(self._queue_fd)
                self._queue_fd = None


def sqlite_engine_options(uri: str, options: dict) -> dict:
    """The engine options with the writer queue for a SQLite file database."""
    if not uri.startswith("sqlite") or uri in ("sqlite://", "sqlite:///:memory:"):
        return options
    return {**options, "connect_args": {**options.get("connect_args", {}),
                                        "factory": QueuedWriterConnection}}


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
        f"INSERT INTO {table.name} ({columns}) {json_rows(table.name, rows[0], 'rows')}"),
        {"rows": json.dumps(rows, default=json_value)})


def json_rows(table_name: str, columns, parameter: str) -> str:
    """PostgreSQL: a SELECT of `columns` from the rows of `table_name` passed as one JSON
    array in `:parameter` (json.dumps with json_value), in the array's order."""
    names = ", ".join(columns)
    return (f"SELECT {names} FROM json_populate_recordset("
            f"NULL::{table_name}, CAST(:{parameter} AS json))")


def as_loaded(model, values: dict):
    """The row `values` (every column) as an object of the session, as if a query had
    loaded it, without one: the one the session holds already, if any."""
    session = db.session()
    held = session.identity_map.get(identity_key(model, values["id"]))
    if held is not None:
        return held
    # The mapper's bare instance with the row put straight into its __dict__, as a query's
    # loader does: the constructor's per-attribute events cost more than the row's INSERT.
    obj = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def json_value(value):
    """json.dumps default for the values rows hold: dates and times as ISO 8601."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
