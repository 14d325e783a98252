"""Per-connection settings: SQLite gets WAL, foreign keys and a busy timeout."""
from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine_events(engine: Engine) -> None:
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
