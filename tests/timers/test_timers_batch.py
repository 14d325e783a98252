"""SLA timers fire as batches: the sweep hands a claimed batch to the one SLA handler (a few
statements for the whole batch). What users see is the same as when each timer fires as a
batch of one: the same history rows and notifications, levels once each and in order, nothing
for stopped, paused or superseded clocks; and a timer that fails in a batch is retried alone
while the rest of the batch fires."""
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from ticketing import clock
from ticketing.auth.models import User
from ticketing.extensions import db
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.timers import handlers, sweep
from ticketing.timers.clocks import ESCALATION, WARNING
from ticketing.timers.models import Notification, SlaClock, Timer
from ticketing.wiring import wiring


@pytest.fixture
def people(make_user):
    return {
        "dispatcher": make_user("dispatcher", "dispatch"),
        "dispatcher2": make_user("dispatcher", "dispatch"),
        "head": make_user("department_head", "dispatch"),
        "other_head": make_user("department_head", "operations"),
        "manager": make_user("admin", "management"),
        "agent": make_user("agent", "call_center"),
        "gone": make_user("dispatcher", "dispatch"),
        "assignee": make_user("agent", "operations"),  # not of the ticket's department
    }


@pytest.fixture
def batch_calls(app, monkeypatch):
    """The SLA batch handler's calls, (timers, "ok" or "failed") each; one spy for both kinds,
    as the sweep makes one group per batch handler."""
    calls = []

    def spy(timers, now):
        try:
            busy = handlers.fire_sla_timers(timers, now)
        except Exception:
            calls.append((len(timers), "failed"))
            raise
        calls.append((len(timers), "ok"))
        return busy

    registry = wiring(app).timer_handlers
    monkeypatch.setitem(registry, WARNING, spy)
    monkeypatch.setitem(registry, ESCALATION, spy)
    return calls


def _set(app, model, where, **values):
    with app.app_context():
        db.session.execute(update(model).where(*where).values(**values))
        db.session.commit()


def build_scenario(app, desk, people, start) -> list[int]:
    """Tickets whose clocks cover every case; returns their ids in a fixed order."""
    desk.at(start)
    plain = desk.open("repair")
    assigned = desk.open("repair")
    assigned_inactive = desk.open("repair")
    stopped = desk.open("repair")
    paused = desk.open("repair")
    old_segment = desk.open("repair")
    held_back = desk.open("repair")
    consult = desk.open("consult")
    limit = desk.open("repair")
    _set(app, Ticket, [Ticket.id == assigned], assignee_id=people["assignee"].id)
    _set(app, Ticket, [Ticket.id == assigned_inactive], assignee_id=people["gone"].id)
    _set(app, User, [User.id == people["gone"].id], active=False)
    response = {t: desk.clock(t, "response").id for t in (stopped, paused, old_segment,
                                                          held_back)}
    # A clock stopped (or paused) while its timers stayed pending: they must do nothing.
    _set(app, SlaClock, [SlaClock.id == response[stopped]], stopped_at=start,
         resumed_at=None)
    _set(app, SlaClock, [SlaClock.id == response[paused]], paused_at=start, resumed_at=None)
    # Timers of a segment a pause closed: their replacement (not made here) carries on.
    _set(app, SlaClock, [SlaClock.id == response[old_segment]], segment=2)
    # A complaint time limit belongs to the department it was assigned to (not the ticket's).
    _set(app, SlaClock, [SlaClock.id == desk.clock(limit, "response").id],
         clock="complaint_limit", department_id=desk.department_id("operations"))
    # Its one timer held back (as if failing and retried): it catches up at 200 minutes.
    _set(app, Timer, [Timer.clock_id == response[held_back]],
         due_at=start + timedelta(minutes=200))
    return [plain, assigned, assigned_inactive, stopped, paused, old_segment, held_back,
            consult, limit]


SWEEPS = [44, 46, 61, 130, 200, 600, 60 * 24 * 3]  # minutes after the start


def run_scenario(app, desk, people, start, **sweep_kwargs) -> list[int]:
    tickets = build_scenario(app, desk, people, start)
    desk.at(start + timedelta(minutes=10))
    desk.schedule(kind="test_plain", due_at=start + timedelta(minutes=59),  # another area's
                  dedupe_key=f"plain{tickets[0]}", ticket_id=tickets[0])
    for minutes in SWEEPS:
        clock.freeze(start + timedelta(minutes=minutes))
        desk.sweep(**sweep_kwargs)
    return tickets


def outcome(app, tickets: list[int]) -> dict:
    """Everything a user could see, with ids and numbers replaced by positions."""
    position = {t: i for i, t in enumerate(tickets)}
    with app.app_context():
        clocks = db.session.scalars(select(SlaClock).where(SlaClock.ticket_id.in_(tickets))
                                    .order_by(SlaClock.id)).all()
        clock_pos = {c.id: (position[c.ticket_id], c.clock) for c in clocks}
        numbers = dict(db.session.execute(select(Ticket.number, Ticket.id)
                                          .where(Ticket.id.in_(tickets))).all())

        def data(d):
            d = dict(d or {})
            if "clock_id" in d:
                d["clock_id"] = clock_pos[d["clock_id"]]
            if "ticket_number" in d:
                d["ticket_number"] = position[numbers[d["ticket_number"]]]
            return d

        history = [(position[e.ticket_id], e.event + ("_skipped" if (e.data or {}).get(
                    "skipped") else ""), e.from_state, e.to_state, e.note,
                    data(e.data), e.at, e.actor_id)
                   for e in db.session.scalars(select(TicketEvent).where(
                       TicketEvent.ticket_id.in_(tickets),
                       TicketEvent.event.in_(("escalated", "sla_warning", "test_plain")))
                       .order_by(TicketEvent.id))]
        notifications = [(n.user_id, position[n.ticket_id], n.kind, data(n.data),
                          n.created_at, n.read_at)
                         for n in db.session.scalars(select(Notification).where(
                             Notification.ticket_id.in_(tickets)).order_by(Notification.id))]
        clock_rows = [(clock_pos[c.id], c.status, c.escalation_level, c.breached, c.warned)
                      for c in clocks]
        timers = [(position[t.ticket_id], clock_pos.get(t.clock_id), t.kind, t.level,
                   t.status, t.attempts, t.fired_at)
                  for t in db.session.scalars(select(Timer).where(
                      Timer.ticket_id.in_(tickets)).order_by(Timer.id))]
    return {"history": history, "notifications": notifications, "clocks": clock_rows,
            "timers": timers}


def test_a_batch_writes_what_firing_each_timer_alone_writes(app, desk, sh, people,
                                                            batch_calls, monkeypatch, caplog):
    from ticketing.tickets.operations import record_system_notes

    def plain(timers, now):
        record_system_notes([(db.session.get(Ticket, t.ticket_id), "test_plain", {})
                             for t in timers], now)

    desk.handle("test_plain", plain)
    start = sh(2026, 3, 2, 10, 0)
    batched = outcome(app, run_scenario(app, desk, people, start))
    # The batch path really ran, in groups, and never fell back to one by one.
    assert batch_calls and max(batch_calls)[0] > 5
    assert {outcome for _n, outcome in batch_calls} == {"ok"}
    assert not [r for r in caplog.records if "one by one" in r.getMessage()]
    with monkeypatch.context() as m:  # the same again, each timer as a batch of one
        m.setattr(sweep, "_fire_group", lambda handler, timers, now, max_attempts, worker: sum(
            sweep._fire_alone(timer, now, max_attempts, worker) for timer in timers))
        one_by_one = outcome(app, run_scenario(app, desk, people, start))
    assert batched == one_by_one
    # ...and that is the expected behaviour, not just the same one.
    by_ticket = {}
    for row in batched["history"]:
        by_ticket.setdefault(row[0], []).append((row[1], row[5].get("clock"),
                                                 row[5].get("level")))
    levels = [("escalated", "response", level) for level in (1, 2, 3)]
    response = {t: [h for h in rows if h[1] == "response"] for t, rows in by_ticket.items()}
    for ticket in (0, 1, 2):  # warned at 45 (swept at 46), then each level in order
        assert response[ticket] == [("sla_warning", "response", None)] + levels
    # Too late to warn when swept (held back to 200 minutes; the consult's warning fell
    # between two sweeps): recorded as skipped, then the levels in order.
    for ticket in (6, 7):
        assert response[ticket] == [("sla_warning_skipped", "response", None)] + levels
    assert ("test_plain", None, None) in by_ticket[0]
    assert response[3] == response[4] == response[5] == []  # stopped, paused, old segment
    # Level 1 of the assigned ticket tells its assignee first, then the department queue;
    # an inactive assignee is left out.
    first = {}
    for user_id, ticket, kind, data, *_ in batched["notifications"]:
        if kind == ESCALATION and data["level"] == 1 and data["clock"] == "response":
            first.setdefault(ticket, []).append(user_id)
    assert first[1] == [people["assignee"].id] + first[0]
    assert people["gone"].id not in first[2]
    assert people["agent"].id not in {n[0] for n in batched["notifications"]}
    limit_heads = {n[0] for n in batched["notifications"]
                   if n[1] == 8 and n[3]["clock"] == "complaint_limit" and n[3].get("level") == 2}
    assert limit_heads == {people["other_head"].id}
    skipped = [n for n in batched["notifications"] if n[1] == 6 and n[2] == WARNING
               and n[3]["clock"] == "response"]
    assert skipped == []  # a skipped warning tells no one
    statuses = {(t[2], t[4]) for t in batched["timers"]}
    assert ("sla_escalation", "failed") not in statuses
    assert not any(t[4] == "pending" and t[6] is not None for t in batched["timers"])


def test_one_failing_timer_does_not_hold_back_its_batch(app, desk, sh, people, batch_calls,
                                                        monkeypatch):
    from ticketing.timers.sweep import backoff
    start = desk.at(sh(2026, 3, 2, 10, 0))
    tickets = [desk.open("repair") for _ in range(4)]
    with app.app_context():
        bad_number = db.session.get(Ticket, tickets[1]).number
    real_payload = handlers._payload

    def payload(clock, ticket, step, skipped=False):  # both paths build the payload here
        if ticket.number == bad_number:
            raise RuntimeError("payload exploded")
        return real_payload(clock, ticket, step, skipped)

    monkeypatch.setattr(handlers, "_payload", payload)
    now = desk.at(start + timedelta(minutes=46))  # each: the response warning
    assert desk.sweep() == 3
    assert batch_calls == [(4, "failed"), (1, "ok"), (1, "failed"), (1, "ok"), (1, "ok")]
    for ticket in (tickets[0], tickets[2], tickets[3]):
        assert desk.history(ticket) == [("sla_warning", "response", None)]
    assert desk.history(tickets[1]) == []
    bad, = [t for t in desk.timers(ticket_id=tickets[1], status="pending")
            if t.due_at <= now + backoff(1)]
    assert (bad.kind, bad.level, bad.attempts, bad.last_error) == (
        "sla_warning", 0, 1, "RuntimeError: payload exploded")
    assert bad.due_at == now + backoff(1)
    # Fixed: the retry fires it once, and the next mark follows.
    monkeypatch.setattr(handlers, "_payload", real_payload)
    desk.at(now + backoff(1))
    assert desk.sweep() == 1
    assert desk.history(tickets[1]) == [("sla_warning", "response", None)]
    assert desk.sweep() == 0
    assert len(desk.notifications(people["head"].id)) == 4  # 4 tickets x the warning


def test_a_batch_costs_the_same_few_statements_whatever_its_size(app, desk, sh, people,
                                                                 batch_calls):
    """Statements per sweep do not grow with the due timers in a batch (nor the tickets)."""
    start = desk.at(sh(2026, 3, 2, 10, 0))
    counts = []
    for n in (2, 12):
        tickets = [desk.open("repair") for _ in range(n)]
        desk.at(start + timedelta(days=1))  # each: 2 clocks x (warning + 3 levels) due
        statements = []
        with app.app_context():
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                assert sweep.sweep_due_timers() == 2 * n  # one timer per clock
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        assert batch_calls[-1] == (2 * n, "ok")
        counts.append(len(statements))
        for ticket in tickets:
            assert len(desk.history(ticket)) == 8
        desk.at(start)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 20, counts
