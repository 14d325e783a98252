"""The sweep fires each due timer once: warnings, then escalation levels 1-3 in order, each
once, with notifications to the right people; a failing handler does not block the others;
timers that fell due while nothing ran all fire on the first sweep; the sweep reads only due
rows through the partial index. Time is driven by ticketing.clock, never by sleeping."""
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from ticketing import clock, create_app
from ticketing.extensions import db


@pytest.fixture
def people(make_user):
    """Who gets told: a dispatcher (queue), a department head, center management."""
    return {
        "dispatcher": make_user("dispatcher", "dispatch"),
        "head": make_user("department_head", "dispatch"),
        "other_head": make_user("department_head", "operations"),
        "manager": make_user("admin", "management"),
        "agent": make_user("agent", "call_center"),
    }


def test_each_level_fires_once_and_in_order_as_time_passes(desk, sh, people):
    start = desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair")  # 24x7, response 60 min: warn 15 before, L2 +60, L3 +240
    steps = [(44, 0), (45, 1), (59, 0), (60, 1), (61, 0), (119, 0), (120, 1), (299, 0),
             (300, 1), (301, 0), (464, 0)]
    for minutes, expected in steps:
        clock.freeze(start + timedelta(minutes=minutes))
        assert desk.sweep() == expected, minutes
    # The resolution clock (480 min) warns at 465: nothing of it yet.
    assert desk.history(ticket) == [
        ("sla_warning", "response", None), ("escalated", "response", 1),
        ("escalated", "response", 2), ("escalated", "response", 3)]
    response = desk.clock(ticket, "response")
    assert response.escalation_level == 3 and response.breached and response.warned
    # Level 1 and the warning go to the department queue, 2 to its head, 3 to management.
    assert desk.notifications(people["dispatcher"].id) == [("sla_warning", None),
                                                           ("sla_escalation", 1)]
    assert desk.notifications(people["head"].id) == [("sla_warning", None),
                                                     ("sla_escalation", 1),
                                                     ("sla_escalation", 2)]
    assert desk.notifications(people["other_head"].id) == []
    assert desk.notifications(people["manager"].id) == [("sla_escalation", 3)]
    assert desk.notifications(people["agent"].id) == []


def test_responding_in_time_cancels_the_escalation(desk, sh, people):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair", customer_tier="ordinary")
    desk.advance(minutes=50)
    assert desk.sweep() == 1  # the warning
    desk.fire(ticket, "verify_customer")
    desk.advance(hours=5)
    assert desk.sweep() == 0
    assert desk.history(ticket) == [("sla_warning", "response", None)]
    assert not desk.clock(ticket, "response").breached


def test_a_clock_has_one_pending_timer_its_next_mark(desk, sh):
    start = desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair")
    response = desk.clock(ticket, "response")
    marks = []
    for minutes in (0, 45, 60, 120, 300):
        clock.freeze(start + timedelta(minutes=minutes))
        desk.sweep()
        pending = desk.timers(clock_id=response.id, status="pending")
        marks.append([(t.level, t.due_at - start) for t in pending])
    assert marks == [[(0, timedelta(minutes=45))], [(1, timedelta(minutes=60))],
                     [(2, timedelta(minutes=120))], [(3, timedelta(minutes=300))], []]


def test_a_timer_of_a_higher_level_raises_through_the_lower_ones_in_order(desk, sh, app):
    """Rows written before one-timer-per-clock may name any level: the levels below it fire
    first, once each, and a later lower one finds its work done."""
    from ticketing.timers.models import Timer
    start = desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair")
    response = desk.clock(ticket, "response")
    with app.app_context():
        db.session.execute(db.update(Timer).where(Timer.clock_id == response.id)
                           .values(due_at=start + timedelta(days=30)))
        db.session.commit()
    desk.schedule(kind="sla_escalation", level=2, ticket_id=ticket, clock_id=response.id,
                  due_at=start + timedelta(minutes=120), data={"segment": 1},
                  dedupe_key="old-style-level-2")
    clock.freeze(start + timedelta(minutes=121))
    assert desk.sweep() == 1
    assert [h for h in desk.history(ticket) if h[1] == "response"] == [
        ("escalated", "response", 1), ("escalated", "response", 2)]
    clock.freeze(start + timedelta(days=30))
    desk.sweep()  # the held-back warning finds the clock escalated: nothing; level 3 fires
    assert [h for h in desk.history(ticket) if h[1] == "response"] == [
        ("escalated", "response", 1), ("escalated", "response", 2), ("escalated", "response", 3)]


def test_timers_due_while_nothing_ran_all_fire_on_the_first_sweep_in_order(desk, sh, people):
    desk.at(sh(2026, 3, 2, 10, 0))
    tickets = [desk.open("repair") for _ in range(3)] + [desk.open("consult")]
    desk.advance(days=10)  # the scheduler was down for ten days
    # One timer per clock: each catches up with every mark of its clock, in order.
    assert desk.sweep() == 8
    assert desk.sweep() == 0
    for ticket in tickets:
        for name in ("response", "resolution"):
            # Too late to warn: recorded as skipped, then levels 1, 2, 3.
            assert [h for h in desk.history(ticket) if h[1] == name] == [
                ("sla_warning_skipped", name, None), ("escalated", name, 1),
                ("escalated", name, 2), ("escalated", name, 3)]
    assert desk.timers(status="pending") == []
    # A skipped warning tells no one: only escalations reached the department.
    assert {kind for kind, _level in desk.notifications(people["dispatcher"].id)} == {
        "sla_escalation"}


def test_a_warning_whose_deadline_passed_is_skipped_the_same_way_every_time(desk, sh, people):
    start = desk.at(sh(2026, 3, 2, 10, 0))
    late, on_time = desk.open("repair"), desk.open("repair")
    clock.freeze(start + timedelta(minutes=50))
    desk.sweep(batch_size=1, time_budget=0)  # one timer only (the earliest: a warning)
    clock.freeze(start + timedelta(minutes=61))
    desk.sweep()
    outcomes = sorted(tuple(h[0] for h in desk.history(t) if h[1] == "response")
                      for t in (late, on_time))
    assert outcomes == [("sla_warning", "escalated"), ("sla_warning_skipped", "escalated")]


def test_a_failing_handler_does_not_block_the_others(desk, sh, app):
    from ticketing.tickets.models import Ticket
    from ticketing.tickets.operations import record_system_notes
    from ticketing.timers.sweep import backoff

    def fine(timers, now):
        record_system_notes([(db.session.get(Ticket, t.ticket_id), "test_fine", {})
                             for t in timers], now)

    def boom(timers, now):
        record_system_notes([(db.session.get(Ticket, t.ticket_id), "test_boom", {})
                             for t in timers], now)
        raise RuntimeError("handler exploded")

    desk.handle("test_fine", fine)
    desk.handle("test_boom", boom)
    start = desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("consult")
    for i, kind in enumerate(["test_fine", "test_boom", "test_fine", "test_fine"]):
        desk.schedule(kind=kind, due_at=start, dedupe_key=f"t{i}", ticket_id=ticket)
    assert desk.sweep(batch_size=10) == 3
    boom_timer, = desk.timers(kind="test_boom")
    assert boom_timer.status == "pending" and boom_timer.attempts == 1
    assert boom_timer.last_error == "RuntimeError: handler exploded"
    assert boom_timer.due_at == start + backoff(1)
    assert [t.status for t in desk.timers(kind="test_fine")] == ["fired"] * 3
    assert desk.history(ticket, events=("test_fine", "test_boom")) == [
        ("test_fine", None, None)] * 3  # the failed handler's own write was rolled back
    for attempt in range(2, 6):
        clock.freeze(desk.timers(kind="test_boom")[0].due_at)
        assert desk.sweep() == 0
    boom_timer, = desk.timers(kind="test_boom")
    assert boom_timer.status == "failed" and boom_timer.attempts == 5


def test_creating_the_same_timer_twice_is_a_no_op(app, desk, sh):
    start = desk.at(sh(2026, 3, 2, 10, 0))
    desk.schedule(kind="test", due_at=start, dedupe_key="same")
    desk.schedule(kind="test", due_at=start + timedelta(hours=1), dedupe_key="same")
    assert [t.due_at for t in desk.timers(dedupe_key="same")] == [start]


def test_the_sweep_touches_only_due_pending_timers(app, desk, sh):
    from ticketing.timers.models import Timer
    seen = []
    desk.handle("test", lambda timers, now: seen.extend(t.id for t in timers))
    now = desk.at(sh(2026, 3, 2, 10, 0))
    for i, (offset, status) in enumerate([(-60, "pending"), (0, "pending"), (1, "pending"),
                                          (-60, "cancelled"), (-60, "failed")]):
        desk.schedule(kind="test", due_at=now + timedelta(seconds=offset), dedupe_key=f"k{i}")
        with app.app_context():
            db.session.execute(db.update(Timer).where(Timer.dedupe_key == f"k{i}")
                               .values(status=status))
            db.session.commit()
    assert desk.sweep(worker="me") == 2
    rows = {t.dedupe_key: (t.status, t.claimed_by) for t in desk.timers()}
    assert rows == {"k0": ("fired", "me"), "k1": ("fired", "me"), "k2": ("pending", None),
                    "k3": ("cancelled", None), "k4": ("failed", None)}
    assert len(seen) == 2


def test_a_claim_lasts_only_as_long_as_its_transaction(app, desk, sh):
    """A sweep that dies before committing leaves its timers unclaimed for the next one (on
    SQLite too: there the claim opens the write transaction, it does not commit by itself)."""
    from ticketing.timers.sweep import claim_due_timers
    start = desk.at(sh(2026, 3, 2, 10, 0))
    desk.open("repair")
    now = desk.at(start + timedelta(days=1))
    with app.app_context():
        assert len(claim_due_timers(now, 100)) == 2  # one per clock
        db.session.rollback()
    assert {t.claimed_by for t in desk.timers()} == {None}
    assert desk.sweep(worker="next") == 2
    assert {t.claimed_by for t in desk.timers()} == {"next"}


def test_the_claim_reads_through_the_partial_index(app, is_postgres):
    from datetime import datetime, timezone
    from ticketing.timers.sweep import claim_statement
    statement = claim_statement(datetime.now(timezone.utc), 100)
    with app.app_context():
        compiled = statement.compile(dialect=db.engine.dialect)
        if is_postgres:
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql(
                "EXPLAIN " + str(compiled), compiled.params))
        else:
            params = [compiled.params[name] for name in compiled.positiontup]
            raw = db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled),
                tuple(p.replace(tzinfo=None) if hasattr(p, "tzinfo") else p for p in params))
            plan = "\n".join(str(row[-1]) for row in raw)
        db.session.rollback()
    assert "ix_timers_pending_due" in plan, plan


def test_sweeping_cost_follows_due_timers_not_history(app, desk, sh, monkeypatch):
    """Thousands of fired timers and tickets in the table: the sweep still reads only the
    pending ones (SQLite's plan searches the partial index by due_at, no table scan)."""
    from ticketing.timers.models import Timer
    desk.handle("test", lambda timers, now: None)
    now = desk.at(sh(2026, 3, 2, 10, 0))
    with app.app_context():
        db.session.execute(db.insert(Timer), [
            {"kind": "test", "due_at": now - timedelta(days=1), "status": "fired",
             "fired_at": now, "dedupe_key": f"old{i}", "data": {}} for i in range(5000)])
        db.session.execute(db.insert(Timer), [
            {"kind": "test", "due_at": now - timedelta(minutes=i), "status": "pending",
             "dedupe_key": f"due{i}", "data": {}} for i in range(3)])
        db.session.commit()
    statements = []
    from sqlalchemy import event
    with app.app_context():
        engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            from ticketing.timers.sweep import sweep_due_timers
            assert sweep_due_timers() == 3
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    claims = [s for s in statements if "AS claimed_id" in s]
    assert len(claims) == 1  # one batch: the 5000 fired rows were never looked at


def test_create_app_starts_no_scheduler(database_url):
    from ticketing.timers.scheduler import RUNNING
    before = {t.ident for t in threading.enumerate()}
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "t"})
    assert app is not None
    new = [t for t in threading.enumerate() if t.ident not in before]
    assert not [t for t in new if "APScheduler" in t.name], new
    assert RUNNING == []


def test_the_embedded_scheduler_sweeps_at_once_on_start(app, desk, sh):
    """`ticketing run` starts it as a run service; its first sweep runs immediately, so
    timers that fell due while nothing ran fire right after start-up."""
    from ticketing.timers.scheduler import RUNNING, start_embedded_scheduler
    from ticketing.wiring import wiring
    assert start_embedded_scheduler in wiring(app).run_services
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair")
    desk.advance(days=1)
    app.config["SCHEDULER_INTERVAL_SECONDS"] = 3600
    stop = start_embedded_scheduler(app)
    try:
        assert RUNNING, "the hook registers its scheduler"
        waited = threading.Event()
        for _ in range(200):  # the sweep runs on the scheduler's thread: wait for it
            if len([h for h in desk.history(ticket) if h[0] == "escalated"]) == 6:
                break
            waited.wait(0.05)
    finally:
        stop()
    assert RUNNING == []
    assert len([h for h in desk.history(ticket) if h[0] == "escalated"]) == 6


def test_scheduler_once_from_the_command_line(app, runner, desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    desk.open("repair")
    desk.advance(days=1)
    result = runner.invoke(args=["scheduler", "--once", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert "fired 2" in result.output  # one timer per clock, each catching up


@pytest.mark.postgres
def test_a_transition_does_not_wait_for_a_sweep_holding_its_clocks_timers(app, desk, sh):
    """The sweep locks timers then the clock; a transition locks the clock then cancels
    timers with SKIP LOCKED. So neither waits for the other in a cycle: the suspension
    commits while the sweep holds a claim, and the claimed timer then finds its clock paused
    and does nothing."""
    from ticketing.tickets.models import Ticket
    from ticketing.tickets.operations import fire_event
    from ticketing.timers.sweep import _fire_claimed, claim_due_timers
    start = desk.at(sh(2026, 3, 2, 10, 0))
    ticket_id = desk.open("repair")
    now = desk.at(start + timedelta(minutes=61))  # warning and level 1 of response are due
    with app.app_context():  # the sweep, mid-batch
        ids = claim_due_timers(now, 10)
        assert len(ids) == 1  # the response clock's one timer
        with app.app_context():  # a request on the same ticket, meanwhile
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            fire_event(None, db.session.get(Ticket, ticket_id), "suspend", {"reason": "等待"})
            db.session.commit()
        assert _fire_claimed(ids, now, 5, None, "sweeper") == 1
        db.session.commit()
    assert desk.history(ticket_id) == []  # the clocks were paused first: nothing to escalate
    statuses = Counter(t.status for t in desk.timers())
    assert statuses == {"fired": 1, "cancelled": 1}
