"""Policies and calendars are kept per process (timers.policies), yet an edit is seen by the
very next ticket: made by another process, made here at a frozen time, or rolled back."""
from datetime import date, timedelta

from sqlalchemy import select

from ticketing import create_app
from ticketing.extensions import db
from ticketing.timers.models import Calendar, CalendarDay, SlaPolicy


def _consult_policy_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(SlaPolicy.id).where(
            SlaPolicy.kind == "consult", SlaPolicy.priority.is_(None),
            SlaPolicy.customer_tier.is_(None)))


def _target(desk, ticket) -> int:
    return desk.clock(ticket, "resolution").target_minutes


def test_another_process_editing_a_policy_is_seen_by_the_next_ticket(app, desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    before = _target(desk, desk.open("consult"))
    policy_id = _consult_policy_id(app)
    # Another worker's edit: its own app, session and copy of the configuration.
    other = create_app(dict(app.config))
    with other.app_context():
        db.session.get(SlaPolicy, policy_id).resolution_minutes = before + 77
        db.session.commit()
        db.engine.dispose()
    assert _target(desk, desk.open("consult")) == before + 77


def test_an_edit_at_a_frozen_time_is_seen_in_the_process_that_made_it(app, desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    before = _target(desk, desk.open("consult"))
    with app.app_context():
        policy = db.session.get(SlaPolicy, _consult_policy_id(app))
        policy.resolution_minutes = before + 5  # updated_at left as it was
        db.session.commit()
    assert _target(desk, desk.open("consult")) == before + 5


def test_a_rolled_back_edit_is_used_by_no_one(app, desk, sh):
    from ticketing.tickets.operations import open_ticket
    desk.at(sh(2026, 3, 2, 10, 0))
    before = _target(desk, desk.open("consult"))
    with app.app_context():
        policy = db.session.get(SlaPolicy, _consult_policy_id(app))
        policy.resolution_minutes = before + 9
        db.session.flush()
        # Its own transaction sees its edit ...
        ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                             description="同一事务")
        from ticketing.timers.clocks import live_clocks
        assert live_clocks(ticket)["resolution"].target_minutes == before + 9
        db.session.rollback()
    # ... and once rolled back, nobody does.
    assert _target(desk, desk.open("consult")) == before


def test_a_new_holiday_moves_the_next_deadline(app, desk, sh):
    desk.at(sh(2026, 3, 2, 17, 0))  # Monday, an hour before the office closes
    first = desk.clock(desk.open("consult"), "resolution").due_at
    with app.app_context():
        calendar = db.session.scalar(select(Calendar).where(Calendar.always_open.is_(False)))
        db.session.add(CalendarDay(calendar=calendar, day=date(2026, 3, 3), kind="holiday"))
        db.session.commit()
    second = desk.clock(desk.open("consult"), "resolution").due_at
    assert second - first == timedelta(days=1)  # Tuesday is off now: a day later
