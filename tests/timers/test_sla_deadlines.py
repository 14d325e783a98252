"""Deadlines come from the most specific policy and its business calendar: office-hours
clocks skip nights, weekends and Chinese public holidays and run on adjusted workdays (调休);
repairs run 24×7. All with the default policies `ticketing init` installs."""
from datetime import date

import pytest

from ticketing.extensions import db


def _due(desk, ticket_id, name):
    return desk.clock(ticket_id, name).due_at


def test_consult_opened_late_on_friday_is_due_on_monday_morning(desk, sh):
    desk.at(sh(2026, 3, 6, 17, 50))  # Friday, 10 minutes before closing
    ticket = desk.open("consult")
    # Response 30 business minutes: 10 on Friday, 20 on Monday.
    assert _due(desk, ticket, "response") == sh(2026, 3, 9, 9, 20)
    # Resolution one working day (540 min): 10 on Friday, 530 on Monday.
    assert _due(desk, ticket, "resolution") == sh(2026, 3, 9, 17, 50)


def test_consult_opened_at_night_starts_counting_at_opening(desk, sh):
    desk.at(sh(2026, 3, 3, 22, 0))  # Tuesday night
    ticket = desk.open("consult")
    assert _due(desk, ticket, "response") == sh(2026, 3, 4, 9, 30)


def test_national_day_holidays_do_not_count(desk, sh):
    desk.at(sh(2026, 9, 30, 17, 0))  # the eve of National Day (Oct 1-7 closed)
    ticket = desk.open("consult")
    assert _due(desk, ticket, "response") == sh(2026, 9, 30, 17, 30)
    # 60 minutes on Sep 30, the remaining 480 on Thursday Oct 8.
    assert _due(desk, ticket, "resolution") == sh(2026, 10, 8, 17, 0)


def test_adjusted_saturday_workday_counts(desk, sh):
    desk.at(sh(2026, 10, 9, 17, 30))  # Friday; Saturday Oct 10 is a 调休 workday
    ticket = desk.open("consult")
    # A deadline landing on closing time is that closing instant.
    assert _due(desk, ticket, "response") == sh(2026, 10, 9, 18, 0)
    assert _due(desk, ticket, "resolution") == sh(2026, 10, 10, 17, 30)


def test_repairs_run_around_the_clock(desk, sh):
    desk.at(sh(2026, 10, 1, 23, 0))  # a public holiday, at night
    ticket = desk.open("repair")
    assert _due(desk, ticket, "response") == sh(2026, 10, 2, 0, 0)
    assert _due(desk, ticket, "resolution") == sh(2026, 10, 2, 7, 0)


def test_vip_customers_get_the_tighter_policy(desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    ordinary = desk.open("repair", customer_tier="ordinary")
    vip = desk.open("repair", customer_tier="vip")
    assert _due(desk, ordinary, "response") == sh(2026, 3, 2, 11, 0)
    assert _due(desk, vip, "response") == sh(2026, 3, 2, 10, 30)
    assert desk.clock(vip, "resolution").target_minutes == 240


def test_on_a_tie_priority_outranks_customer_tier(desk, sh, app):
    from ticketing.timers.clocks import matching_policies
    with app.app_context():
        names = [p.name for p in matching_policies("repair", "urgent", "vip")]
    # "Repair urgent" (kind + priority) and "Repair VIP" (kind + tier) both match two fields.
    assert names == ["报修（紧急）", "报修（VIP）", "报修", "默认"]


def test_an_admin_holiday_moves_the_deadline_at_once(desk, sh, app):
    from ticketing.timers.models import Calendar
    from ticketing.timers.operations import OFFICE_HOURS, add_calendar_day
    desk.at(sh(2026, 3, 6, 17, 50))
    before = desk.open("consult")
    with app.app_context():
        calendar = db.session.scalar(db.select(Calendar).where(Calendar.name == OFFICE_HOURS))
        add_calendar_day(calendar, date(2026, 3, 9), "holiday", "typhoon day")
        db.session.commit()
    after = desk.open("consult")
    assert _due(desk, before, "response") == sh(2026, 3, 9, 9, 20)  # already running: kept
    assert _due(desk, after, "response") == sh(2026, 3, 10, 9, 20)  # Monday now closed


def test_an_admin_workday_opens_a_sunday(desk, sh, app):
    from ticketing.timers.models import Calendar
    from ticketing.timers.operations import OFFICE_HOURS, add_calendar_day
    with app.app_context():
        calendar = db.session.scalar(db.select(Calendar).where(Calendar.name == OFFICE_HOURS))
        add_calendar_day(calendar, date(2026, 3, 8), "workday")
        db.session.commit()
    desk.at(sh(2026, 3, 6, 17, 50))
    ticket = desk.open("consult")
    assert _due(desk, ticket, "response") == sh(2026, 3, 8, 9, 20)


def test_no_matching_policy_means_no_clock(desk, sh, app):
    from ticketing.timers.models import SlaPolicy
    with app.app_context():
        db.session.execute(db.update(SlaPolicy).values(active=False))
        db.session.commit()
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("consult")
    assert desk.clocks(ticket) == []
    assert desk.timers() == []


@pytest.mark.parametrize("kind, response, resolution", [
    ("consult", 30, 540), ("repair", 60, 480), ("complaint", 60, 1620)])
def test_default_policies_per_kind(desk, sh, kind, response, resolution):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open(kind)
    assert desk.clock(ticket, "response").target_minutes == response
    assert desk.clock(ticket, "resolution").target_minutes == resolution


def test_deadline_texts_are_in_each_readers_language(app):
    """The texts are asked of the catalogue once per request (timers.deadlines.deadline_texts),
    never served in the language of an earlier reader."""
    from datetime import datetime, timezone
    from ticketing.timers.deadlines import Deadline
    due = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    late = Deadline("resolution", due, -(2 * 3600 + 15 * 60), 15, True, True)
    soon = Deadline("response", due, 7 * 60 + 30, 15, False, False)
    for _round in range(2):
        with app.test_request_context(headers={"Accept-Language": "zh"}):
            assert late.text == "已超时 2小时15分"
            assert soon.text == "剩余 7分钟"
        with app.test_request_context(headers={"Accept-Language": "en"}):
            assert late.text == "Overdue by 2 h 15 min"
            assert soon.text == "7 min left"
