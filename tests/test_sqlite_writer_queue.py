"""SQLite writers of this app queue on a file lock (ticketing.dbsetup.QueuedWriterConnection)
instead of sleeping in SQLite's busy handler: a second writer waits for the first one's
commit or rollback and then writes; readers never wait; a writer that waits too long gets
SQLite's own "database is locked"."""
import sqlite3
import threading

import pytest

from ticketing import dbsetup
from ticketing.dbsetup import QueuedWriterConnection


@pytest.fixture
def path(tmp_path):
    path = str(tmp_path / "queue.sqlite3")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, who TEXT)")
    return path


def _connect(path):
    conn = sqlite3.connect(path, factory=QueuedWriterConnection, check_same_thread=False,
                           timeout=0.05)  # SQLite's own wait: short, so it cannot hide one
    return conn


def _writer(path, who, done: list, errors: list):
    conn = _connect(path)
    try:
        conn.execute("INSERT INTO rows (who) VALUES (?)", (who,))
        conn.commit()
        done.append(who)
    except sqlite3.Error as error:  # pragma: no cover - the assertion below reports it
        errors.append(error)
    finally:
        conn.close()


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_a_second_writer_waits_for_the_first_to_end_then_writes(path, end):
    first = _connect(path)
    first.execute("INSERT INTO rows (who) VALUES ('first')")  # holds the write lock now
    done, errors = [], []
    second = threading.Thread(target=_writer, args=(path, "second", done, errors))
    second.start()
    second.join(0.3)  # SQLite alone would have failed it after 50 ms
    assert second.is_alive() and done == [] and errors == []
    # A reader does not queue.
    reader = _connect(path)
    assert reader.execute("SELECT count(*) FROM rows").fetchone() == (0,)
    reader.close()
    getattr(first, end)()
    second.join(10)
    assert not second.is_alive() and errors == [] and done == ["second"]
    rows = [who for (who,) in first.execute("SELECT who FROM rows ORDER BY id")]
    assert rows == (["first", "second"] if end == "commit" else ["second"])
    first.close()


def test_a_writer_that_waits_too_long_is_told_the_database_is_locked(path, monkeypatch):
    monkeypatch.setattr(dbsetup, "WRITER_WAIT_SECONDS", 0.2)
    first = _connect(path)
    first.execute("INSERT INTO rows (who) VALUES ('first')")
    second = _connect(path)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO rows (who) VALUES ('second')")
    first.commit()
    second.execute("INSERT INTO rows (who) VALUES ('second')")  # its turn now
    second.commit()
    assert second.execute("SELECT count(*) FROM rows").fetchone() == (2,)
    first.close()
    second.close()


def test_the_app_uses_the_queue_on_a_sqlite_file_only():
    options = {"pool_pre_ping": True}
    queued = dbsetup.sqlite_engine_options("sqlite:////tmp/x.sqlite3", options)
    assert queued["connect_args"]["factory"] is QueuedWriterConnection
    assert queued["pool_pre_ping"] is True and "connect_args" not in options
    for uri in ("sqlite://", "sqlite:///:memory:", "postgresql+psycopg://u@h/db"):
        assert dbsetup.sqlite_engine_options(uri, options) == options


def test_a_writer_checkpoints_the_log_itself_after_leaving_the_queue(path):
    """SQLite's automatic checkpoint ran inside a commit, holding the queue through its
    fsyncs; this app's connections turn it off and checkpoint every CHECKPOINT_EVERY of
    their commits, after leaving the queue."""
    conn = _connect(path)

    def rows_in_the_database_file():  # not in the log: the file as it is on disk
        disk = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return disk.execute("SELECT count(*) FROM rows").fetchone()[0]
        except sqlite3.OperationalError:  # the table itself is still only in the log
            return 0
        finally:
            disk.close()

    for n in range(dbsetup.CHECKPOINT_EVERY - 1):
        conn.execute("INSERT INTO rows (who) VALUES (?)", (f"w{n}",))
        conn.commit()
    assert rows_in_the_database_file() == 0  # all in the log so far
    conn.execute("INSERT INTO rows (who) VALUES ('last')")
    conn.commit()
    assert rows_in_the_database_file() == dbsetup.CHECKPOINT_EVERY
    assert not conn._queued  # the queue was left before the checkpoint
    conn.close()
