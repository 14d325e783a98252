"""A closing writes its callback task and its audit with their overdue timers in the
closing's own statements (on PostgreSQL each row and its timer is one INSERT): the timers are
exactly the rows the areas define in Python, and a batch keeps its order."""
from sqlalchemy import select

from ticketing.extensions import db


def _timers(kind):
    from ticketing.timers.models import Timer
    return {t.dedupe_key: t for t in db.session.scalars(select(Timer).where(Timer.kind == kind))}


def _same_timer(timer, expected: dict) -> None:
    assert {name: getattr(timer, name) for name in expected} == expected


def test_a_closings_callback_and_audit_timers_are_the_rows_their_areas_define(
        app, desk, sh):
    from ticketing.audits.operations import overdue_timer_row as audit_timer_row
    from ticketing.callbacks.operations import overdue_timer_row as callback_timer_row
    closed_at = desk.at(sh(2026, 3, 2, 10, 0))
    tickets = [desk.open("complaint") for _ in range(3)]
    for ticket in tickets:
        desk.handle_complaint(ticket)
    with app.app_context():
        callback_timers, audit_timers = _timers("callback_overdue"), _timers("audit_overdue")
        assert len(callback_timers) == len(audit_timers) == 3
        for ticket in tickets:
            [callback] = desk.callbacks(ticket)
            [audit] = desk.audits(ticket)
            assert (callback.round, callback.status, callback.version) == (0, "pending", 1)
            assert (audit.round, audit.status, audit.version) == (0, "open", 1)
            expected = callback_timer_row(callback.id, ticket, 0, callback.due_at, closed_at)
            _same_timer(callback_timers[expected["dedupe_key"]], expected)
            expected = audit_timer_row(audit.id, ticket, audit.due_at, closed_at)
            _same_timer(audit_timers[expected["dedupe_key"]], expected)


def test_rows_and_timers_of_a_batch_keep_their_order(app, desk, sh):
    from ticketing.audits.models import Audit
    from ticketing.audits.operations import OVERDUE_TIMER
    from ticketing.timers.clocks import insert_with_timers
    at = desk.at(sh(2026, 3, 2, 10, 0))
    tickets = [desk.open("repair") for _ in range(4)]
    with app.app_context():
        rows = [{"ticket_id": ticket, "round": 0, "trigger": "closing", "reasons": "sample",
                 "rule_version": 1, "status": "open", "created_at": at,
                 "due_at": at.replace(hour=11 + n)} for n, ticket in enumerate(reversed(tickets))]
        ids = insert_with_timers(Audit, rows, OVERDUE_TIMER, at)
        audits = {a.id: a for a in db.session.scalars(select(Audit))}
        assert [audits[i].ticket_id for i in ids] == [row["ticket_id"] for row in rows]
        timers = _timers("audit_overdue")
        for audit_id, row in zip(ids, rows):
            _same_timer(timers[f"audit:{audit_id}"], OVERDUE_TIMER.row(
                audit_id, row["ticket_id"], row["due_at"], at))
        db.session.rollback()
