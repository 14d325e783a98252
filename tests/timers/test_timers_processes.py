"""The real `ticketing scheduler` command in separate processes: it sweeps at start-up and
on its interval, stops cleanly on SIGTERM, and on PostgreSQL several of them fire each of
thousands of timers exactly once - even when one is SIGKILLed in the middle of a batch."""
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, insert, select, text

from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.timers.models import Calendar, SlaClock, Timer
from ticketing.timers.operations import ALWAYS_OPEN

# The production command, started through a launcher that freezes its clock when told to.
LAUNCHER = os.path.join(os.path.dirname(__file__), "scheduler_process.py")
pytestmark = pytest.mark.slow


READY = "timer scheduler: sweeping every"  # printed once its signal handlers are installed


class Schedulers:
    """Starts `ticketing scheduler` processes against the test database; kills leftovers."""

    def __init__(self, url, tmp_path):
        self.url, self.tmp_path, self.procs = url, tmp_path, []

    def start(self, *args, **env):
        log = open(self.tmp_path / f"scheduler{len(self.procs)}.log", "w")
        environment = {**os.environ, "DATABASE_URL": self.url, "SECRET_KEY": "test",
                       "SCHEDULER_INTERVAL_SECONDS": "0.3", **env}
        proc = subprocess.Popen([sys.executable, LAUNCHER, "scheduler", *args], env=environment,
                                stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = log.name
        log.close()
        self.procs.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM) -> int:
        # Signal only a scheduler that has installed its handlers (it says so once they are):
        # a survivor still importing when the others finished the work died of the signal.
        wait_until(lambda: proc.poll() is not None or READY in self.output(proc),
                   what="the scheduler to be ready to stop")
        proc.send_signal(sig)
        return proc.wait(timeout=60)

    def output(self, proc) -> str:
        with open(proc.log_path) as handle:
            return handle.read()

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def schedulers(database_url, tmp_path):
    running = Schedulers(database_url, tmp_path)
    yield running
    running.close()


def wait_until(predicate, timeout=120.0, what="condition"):
    pause = threading.Event()
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return
        pause.wait(0.1)  # other processes are working; poll the database
    raise AssertionError(f"timed out waiting for {what}")


def bulk_due_timers(app, tickets: int, due) -> int:
    """`tickets` repair tickets each with a response clock whose levels 1-3 are all due."""
    with app.app_context():
        calendar_id = db.session.scalar(select(Calendar.id).where(Calendar.name == ALWAYS_OPEN))
        started = due - timedelta(days=1)
        db.session.execute(insert(Ticket), [
            {"number": f"BULK{i:07d}", "kind": "repair", "state": "repair_new",
             "description": "bulk", "created_at": started, "updated_at": started}
            for i in range(tickets)])
        ticket_ids = db.session.scalars(select(Ticket.id).order_by(Ticket.id)).all()
        db.session.execute(insert(SlaClock), [
            {"ticket_id": t, "clock": "response", "calendar_id": calendar_id,
             "target_minutes": 60, "started_at": started, "resumed_at": started,
             "due_at": started + timedelta(minutes=60)} for t in ticket_ids])
        clocks = db.session.execute(select(SlaClock.id, SlaClock.ticket_id)).all()
        db.session.execute(insert(Timer), [
            {"ticket_id": ticket_id, "clock_id": clock_id, "kind": "sla_escalation",
             "level": level, "due_at": due - timedelta(minutes=4 - level),
             "dedupe_key": f"sla:{clock_id}:1:{level}", "data": {"segment": 1}}
            for clock_id, ticket_id in clocks for level in (1, 2, 3)])
        db.session.commit()
        return len(clocks) * 3


def counts(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM timers GROUP BY status")).all()
    return dict(rows)


def assert_each_fired_exactly_once(engine, total: int) -> Counter:
    with engine.connect() as conn:
        statuses = dict(conn.execute(text(
            "SELECT status, count(*) FROM timers GROUP BY status")).all())
        escalations = conn.execute(text(
            "SELECT ticket_id, data->>'level' FROM ticket_events "
            "WHERE event = 'escalated'")).all()
        levels = conn.execute(text("SELECT escalation_level, count(*) FROM sla_clocks "
                                   "GROUP BY escalation_level")).all()
        workers = Counter(conn.execute(text("SELECT claimed_by FROM timers")).scalars())
    assert statuses == {"fired": total}
    assert len(escalations) == total  # one history row per timer...
    assert len(set(escalations)) == total  # ...and never two for the same level
    assert levels == [(3, total // 3)]
    return workers


def test_the_scheduler_command_sweeps_at_start_and_stops_on_sigterm(app, desk, sh, schedulers,
                                                                    database_url):
    """Timers that fell due while nothing ran fire on the first sweep; the clock of the
    scheduler process is pinned with TICKETING_FROZEN_NOW (the test launcher's)."""
    desk.at(sh(2030, 1, 7, 10, 0))  # in the future: only the frozen clock makes these due
    tickets = [desk.open("repair") for _ in range(3)]
    frozen = sh(2030, 1, 8, 10, 0).isoformat()
    proc = schedulers.start("--batch-size", "5", TICKETING_FROZEN_NOW=frozen)
    engine = create_engine(database_url)
    try:
        # One timer per clock, each catching up with every mark: 3 tickets x 2 clocks.
        wait_until(lambda: counts(engine).get("fired") == 6, what="6 timers fired")
        assert schedulers.stop(proc) == 0, schedulers.output(proc)
    finally:
        engine.dispose()
    for ticket in tickets:
        assert len([h for h in desk.history(ticket) if h[0] == "escalated"]) == 6


@pytest.mark.postgres
def test_three_scheduler_processes_fire_thousands_of_timers_exactly_once(app, desk, sh,
                                                                         schedulers,
                                                                         database_url):
    desk.at(sh(2026, 3, 2, 10, 0))
    total = bulk_due_timers(app, 1000, sh(2026, 3, 2, 10, 0))
    assert total == 3000
    procs = [schedulers.start("--batch-size", "50", "--worker", f"w{i}",
                              TICKETING_FROZEN_NOW=sh(2026, 3, 2, 10, 0).isoformat(),
                              TICKETING_TEST_SWEEP_DELAY="0.002")
             for i in range(3)]
    engine = create_engine(database_url)
    try:
        wait_until(lambda: counts(engine).get("fired") == total, what="all timers fired")
        for proc in procs:
            assert schedulers.stop(proc) == 0, schedulers.output(proc)
        workers = assert_each_fired_exactly_once(engine, total)
    finally:
        engine.dispose()
    assert set(workers) <= {"w0", "w1", "w2"} and sum(workers.values()) == total
    assert len(workers) >= 2, workers  # they really ran side by side


def _locked_pending_ids(engine) -> set:
    """Pending timers some other transaction holds locked (a sweep mid-batch)."""
    with engine.connect() as conn:
        pending = set(conn.execute(text("SELECT id FROM timers WHERE status = 'pending'"))
                      .scalars())
        free = set(conn.execute(text("SELECT id FROM timers WHERE status = 'pending' "
                                     "FOR UPDATE SKIP LOCKED")).scalars())
        conn.rollback()
    return pending - free


@pytest.mark.postgres
def test_a_scheduler_killed_mid_batch_loses_no_timer_and_duplicates_none(app, desk, sh,
                                                                         schedulers,
                                                                         database_url):
    desk.at(sh(2026, 3, 2, 10, 0))
    total = bulk_due_timers(app, 200, sh(2026, 3, 2, 10, 0))
    engine = create_engine(database_url)
    try:
        victim = schedulers.start("--batch-size", "20", "--worker", "victim",
                                  TICKETING_TEST_SWEEP_DELAY="0.05")
        held = set()

        def mid_batch():
            nonlocal held
            # Count first, then sample: sampling first could catch the batch about to commit.
            if counts(engine).get("fired", 0) < 20:
                return False
            held = _locked_pending_ids(engine)
            return len(held) >= 5

        wait_until(mid_batch, what="the victim to commit a batch and hold the next")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        fired_by_victim = counts(engine).get("fired", 0)
        assert fired_by_victim < total
        with engine.connect() as conn:
            # The batch may still have committed between the sample and the signal.
            held = set(conn.execute(select(Timer.id).where(
                Timer.id.in_(held), Timer.status == "pending")).scalars())
        survivors = [schedulers.start("--batch-size", "50", "--worker", f"s{i}")
                     for i in range(2)]
        wait_until(lambda: counts(engine).get("fired") == total, what="survivors finish")
        for proc in survivors:
            assert schedulers.stop(proc) == 0, schedulers.output(proc)
        workers = assert_each_fired_exactly_once(engine, total)
        with engine.connect() as conn:
            held_by = Counter(conn.execute(select(Timer.claimed_by).where(
                Timer.id.in_(held))).scalars())
    finally:
        engine.dispose()
    # What the victim held uncommitted was released by its death and fired by a survivor.
    assert held and set(held_by) <= {"s0", "s1"}, held_by
    assert workers["victim"] % 20 == 0  # only whole batches of the victim committed
    assert workers["victim"] + workers["s0"] + workers["s1"] == total


def _sla_clock_row_locks(engine) -> int:
    """Transactions holding sla_clocks rows FOR UPDATE right now (a sweep in a batch)."""
    with engine.connect() as conn:
        return conn.scalar(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'sla_clocks' AND l.mode = 'RowShareLock' "
            "AND l.pid <> pg_backend_pid()"))


@pytest.mark.postgres
def test_a_stopped_scheduler_holds_up_neither_the_others_nor_a_request(app, desk, sh,
                                                                      schedulers,
                                                                      database_url):
    """A scheduler SIGSTOPped mid-batch (a paused VM) keeps its transaction open: the other
    schedulers skip what it holds and go on firing, a request on a ticket whose clock it
    holds answers 503 with Retry-After within seconds (lock_timeout), and once the server
    ends the stopped session (idle_in_transaction_session_timeout) its timers fire too,
    each exactly once."""
    from ticketing.tickets.models import Ticket
    now = sh(2026, 3, 2, 10, 0)
    desk.at(now)
    total = bulk_due_timers(app, 300, now)
    with app.app_context():  # the first ticket's timers due earliest: in the first batch
        first = db.session.scalar(select(Ticket.id).order_by(Ticket.id))
        version = db.session.get(Ticket, first).version
        db.session.execute(db.update(Timer).where(Timer.ticket_id == first)
                           .values(due_at=now - timedelta(hours=1)))
        db.session.commit()
    engine = create_engine(database_url)
    try:  # real time: every bulk timer is long due, and put-back ones come due again
        stopped = schedulers.start("--batch-size", "30", "--worker", "stopped",
                                   TICKETING_TEST_SWEEP_DELAY="0.5",
                                   DB_IDLE_IN_TRANSACTION_TIMEOUT_MS="20000")
        client = app.test_client()
        agent = desk_token(app, client)
        wait_until(lambda: _sla_clock_row_locks(engine) > 0, what="the first batch's locks")
        stopped.send_signal(signal.SIGSTOP)
        # A request meeting the held clock is answered quickly, with Retry-After.
        started = time.monotonic()
        answer = client.post(f"/api/v1/tickets/{first}/transitions", headers=agent,
                             json={"event": "suspend", "version": version,
                                   "fields": {"reason": "power cut"}})
        waited = time.monotonic() - started
        assert waited < 5, waited
        assert answer.status_code == 503, answer.get_json()
        assert answer.headers["Retry-After"] and answer.get_json()["error"] == "busy"
        # The others fire everything the stopped one does not hold, while it still holds it.
        others = [schedulers.start("--batch-size", "50", "--worker", f"w{i}")
                  for i in range(2)]
        wait_until(lambda: counts(engine).get("fired", 0) >= total - 3 * 30, timeout=50,
                   what="the other schedulers to fire the rest")
        assert _sla_clock_row_locks(engine) > 0, "the stopped scheduler still holds its batch"
        # The server ends the stopped session; its claims roll back and the others fire them.
        wait_until(lambda: counts(engine).get("fired", 0) == total, timeout=120,
                   what="the stopped scheduler's timers to fire elsewhere")
        workers = assert_each_fired_exactly_once(engine, total)
        assert "stopped" not in workers
        stopped.send_signal(signal.SIGCONT)
        for proc in [stopped, *others]:
            schedulers.stop(proc)
    finally:
        engine.dispose()


def desk_token(app, client) -> dict:
    from ticketing.auth.operations import create_user
    with app.app_context():
        create_user("stopagent", "correct-horse-9", ["agent"], "call_center")
        db.session.commit()
    token = client.post("/api/v1/tokens", json={"username": "stopagent",
                                                "password": "correct-horse-9"}).get_json()
    return {"Authorization": f"Bearer {token['token']}"}
