"""Working-hours arithmetic (workflows.business_time): each test names the rule it proves."""

from __future__ import annotations

import math
import pickle
import random
from datetime import date, datetime, time, timedelta, timezone

import pytest
from zoneinfo import ZoneInfo

from workflows.business_time import (
    MAX_CLOSED_DAYS,
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    china_holidays,
    is_open,
    next_open,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc

LUNCH = ((time(9), time(12)), (time(13, 30), time(18)))  # 7.5 h a day

# Mon-Fri 09:00-18:00, no public holidays.
OFFICE = BusinessCalendar.standard(public_holidays=False)
# Mon-Fri 09:00-12:00 + 13:30-18:00, no public holidays.
OFFICE_LUNCH = BusinessCalendar.standard(hours=LUNCH, public_holidays=False)
# Mon-Fri 09:00-18:00 with China's 2026 public holidays and 调休 from `holidays`.
CHINA_2026 = BusinessCalendar.standard([2026])
CHINA_2026_LUNCH = BusinessCalendar.standard([2026], hours=LUNCH)
BERLIN_OFFICE = BusinessCalendar.standard(timezone="Europe/Berlin", public_holidays=False)
BERLIN_ALL_DAY = BusinessCalendar(
    timezone="Europe/Berlin", weekly_hours={wd: ((time(0), time(0)),) for wd in range(7)}
)
NIGHT_SHIFT = BusinessCalendar(
    weekly_hours={4: ((time(22), time(0)),), 5: ((time(0), time(6)),)}  # Fri 22:00 - Sat 06:00
)
ALWAYS = BusinessCalendar.twenty_four_seven()
NEVER = BusinessCalendar()


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


# --- add_business_minutes: the basic rules ----------------------------------------------------


def test_deadline_within_one_open_interval_is_start_plus_minutes():
    # 2026-03-04 is a Wednesday.
    assert add_business_minutes(sh(2026, 3, 4, 10, 0), 90, OFFICE) == sh(2026, 3, 4, 11, 30)


def test_deadline_rolls_over_the_night_to_next_morning():
    assert add_business_minutes(sh(2026, 3, 4, 17, 0), 120, OFFICE) == sh(2026, 3, 5, 10, 0)


def test_lunch_break_is_not_counted():
    assert add_business_minutes(sh(2026, 3, 4, 11, 0), 120, OFFICE_LUNCH) == sh(2026, 3, 4, 14, 30)


def test_weekend_is_skipped():
    # Friday 17:00 + 2 h -> Monday 10:00.
    assert add_business_minutes(sh(2026, 3, 6, 17, 0), 120, OFFICE) == sh(2026, 3, 9, 10, 0)


def test_deadline_exactly_at_closing_time_is_the_closing_instant():
    assert add_business_minutes(sh(2026, 3, 4, 17, 0), 60, OFFICE) == sh(2026, 3, 4, 18, 0)


def test_start_before_opening_counts_from_opening():
    assert add_business_minutes(sh(2026, 3, 4, 6, 15), 30, OFFICE) == sh(2026, 3, 4, 9, 30)


def test_start_after_closing_counts_from_next_opening():
    assert add_business_minutes(sh(2026, 3, 4, 20, 0), 30, OFFICE) == sh(2026, 3, 5, 9, 30)


def test_start_in_lunch_break_counts_from_afternoon_opening():
    assert add_business_minutes(sh(2026, 3, 4, 12, 10), 30, OFFICE_LUNCH) == sh(2026, 3, 4, 14, 0)


def test_start_on_a_holiday_counts_from_next_working_day():
    # 2026-10-02 is a National Day holiday (a Friday); next working day is Thursday 10-08.
    assert add_business_minutes(sh(2026, 10, 2, 10, 0), 30, CHINA_2026) == sh(2026, 10, 8, 9, 30)


def test_zero_minutes_returns_start_unchanged_even_when_closed():
    for start in (sh(2026, 3, 4, 10, 0), sh(2026, 3, 7, 3, 0)):  # open Wednesday, closed Saturday
        result = add_business_minutes(start, 0, OFFICE)
        assert result == start and result.tzinfo is UTC


def test_fractional_minutes_are_supported():
    assert add_business_minutes(sh(2026, 3, 4, 10, 0), 1.5, OFFICE) == sh(2026, 3, 4, 10, 1, 30)


def test_thirty_business_day_deadline_skips_four_weekends():
    # Monday 2026-03-02 09:00 + 30 days x 9 h -> Friday 2026-04-10 18:00 (no holidays in OFFICE).
    assert add_business_minutes(sh(2026, 3, 2, 9, 0), 30 * 9 * 60, OFFICE) == sh(2026, 4, 10, 18, 0)


def test_night_shift_across_midnight_is_one_continuous_stretch():
    # Friday 23:00 + 2 h -> Saturday 01:00; Saturday 05:00 + 2 h -> next Friday 23:00.
    assert add_business_minutes(sh(2026, 3, 6, 23, 0), 120, NIGHT_SHIFT) == sh(2026, 3, 7, 1, 0)
    assert add_business_minutes(sh(2026, 3, 7, 5, 0), 120, NIGHT_SHIFT) == sh(2026, 3, 13, 23, 0)
    assert business_minutes_between(sh(2026, 3, 6, 0, 0), sh(2026, 3, 8, 0, 0), NIGHT_SHIFT) == 480


def test_results_are_utc_and_inputs_in_any_zone_are_accepted():
    start_utc = sh(2026, 3, 4, 17, 0).astimezone(UTC)
    start_ny = start_utc.astimezone(ZoneInfo("America/New_York"))
    for start in (start_utc, start_ny):
        result = add_business_minutes(start, 120, OFFICE)
        assert result.tzinfo is UTC
        assert result == datetime(2026, 3, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


# --- Chinese public holidays and adjusted working days -----------------------------------------


def test_china_holidays_library_lists_national_day_2026_as_oct_1_to_7():
    off, on = china_holidays(2026)
    national_week = [date(2026, 10, d) for d in range(1, 8)]
    # The library lists 10-01..10-07 except Sunday 10-04, which is a weekend day anyway.
    assert set(national_week) - off == {date(2026, 10, 4)}
    assert not any(CHINA_2026.is_business_day(d) for d in national_week)
    assert date(2026, 9, 30) not in off and date(2026, 10, 8) not in off
    # 调休: Sunday 09-20 and Saturday 10-10 are working days paying for the golden week.
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= on
    assert all(d.year == 2026 for d in off | on)


def test_national_day_golden_week_is_skipped():
    # Wed 09-30 17:00 + 2 h: 1 h on 09-30, closed 10-01..10-07, 1 h on Thu 10-08.
    assert add_business_minutes(sh(2026, 9, 30, 17, 0), 120, CHINA_2026_LUNCH) == sh(2026, 10, 8, 10, 0)
    assert business_minutes_between(sh(2026, 9, 30, 0, 0), sh(2026, 10, 9, 0, 0), CHINA_2026_LUNCH) == (
        2 * 7.5 * 60  # 09-30 and 10-08
    )


def test_adjusted_working_saturday_from_library_is_open():
    # Friday 10-09 17:00 + 2 h -> Saturday 10-10 (调休) 10:00 with the normal weekday hours.
    assert is_open(sh(2026, 10, 10, 9, 0), CHINA_2026)
    assert add_business_minutes(sh(2026, 10, 9, 17, 0), 120, CHINA_2026) == sh(2026, 10, 10, 10, 0)
    # Sunday 09-20 is a 调休 working day too; the plain office calendar is closed then.
    assert is_open(sh(2026, 9, 20, 12, 0), CHINA_2026)
    assert not is_open(sh(2026, 9, 20, 12, 0), OFFICE)


def test_admin_entered_workday_opens_a_weekend_day_with_makeup_hours():
    cal = BusinessCalendar.standard(
        public_holidays=False,
        extra_workdays=[date(2026, 3, 7)],  # a Saturday
        makeup_hours=((time(10), time(16)),),
    )
    assert cal.hours_on(date(2026, 3, 7)) == ((time(10), time(16)),)
    assert add_business_minutes(sh(2026, 3, 6, 17, 0), 120, cal) == sh(2026, 3, 7, 11, 0)


def test_workday_on_a_weekend_defaults_to_monday_hours():
    cal = BusinessCalendar(
        weekly_hours={0: ((time(8), time(17)),), 2: ((time(10), time(12)),)},
        workdays=frozenset({date(2026, 3, 8)}),  # a Sunday
    )
    assert cal.hours_on(date(2026, 3, 8)) == ((time(8), time(17)),)
    # A workday on a weekday keeps that weekday's own hours.
    cal2 = BusinessCalendar(weekly_hours=cal.weekly_hours, workdays=frozenset({date(2026, 3, 4)}))
    assert cal2.hours_on(date(2026, 3, 4)) == ((time(10), time(12)),)


def test_workday_overrides_a_holiday_on_the_same_date():
    cal = BusinessCalendar(
        weekly_hours={wd: ((time(9), time(18)),) for wd in range(5)},
        holidays=frozenset({date(2026, 3, 4)}),
        workdays=frozenset({date(2026, 3, 4)}),
    )
    assert is_open(sh(2026, 3, 4, 10, 0), cal)


def test_admin_extra_holiday_closes_a_day_and_beats_a_library_workday():
    cal = BusinessCalendar.standard(
        [2026], extra_holidays=[date(2026, 3, 4), date(2026, 10, 10)]
    )
    assert not is_open(sh(2026, 3, 4, 10, 0), cal)
    assert not is_open(sh(2026, 10, 10, 10, 0), cal)  # the library's 调休 Saturday, cancelled
    assert add_business_minutes(sh(2026, 3, 3, 17, 0), 120, cal) == sh(2026, 3, 5, 10, 0)


def test_admin_extra_workday_reopens_a_library_holiday():
    cal = BusinessCalendar.standard([2026], extra_workdays=["2026-10-02"])
    assert is_open(sh(2026, 10, 2, 10, 0), cal)
    assert not is_open(sh(2026, 10, 2, 10, 0), CHINA_2026)


def test_same_date_as_extra_holiday_and_extra_workday_is_refused():
    with pytest.raises(ValueError):
        BusinessCalendar.standard(extra_holidays=[date(2026, 3, 4)], extra_workdays=[date(2026, 3, 4)])


# --- 24x7 --------------------------------------------------------------------------------------


def test_always_open_calendar_is_plain_timedelta_arithmetic():
    start = sh(2026, 10, 1, 23, 0)  # a holiday night: irrelevant for 24x7
    assert add_business_minutes(start, 150, ALWAYS) == start + timedelta(minutes=150)
    assert business_minutes_between(start, start + timedelta(days=3), ALWAYS) == 3 * 24 * 60
    assert is_open(start, ALWAYS) and next_open(start, ALWAYS) == start


def test_always_open_calendar_counts_real_minutes_across_dst():
    cal = BusinessCalendar.twenty_four_seven("Europe/Berlin")
    start = berlin(2026, 3, 29, 1, 0)
    assert add_business_minutes(start, 120, cal) == berlin(2026, 3, 29, 4, 0)  # 02:00 does not exist


# --- business_minutes_between ------------------------------------------------------------------


def test_between_counts_only_open_minutes():
    # Friday 17:00 -> Monday 10:00 = 1 h + 1 h.
    assert business_minutes_between(sh(2026, 3, 6, 17, 0), sh(2026, 3, 9, 10, 0), OFFICE) == 120
    # Across lunch: 11:00 -> 14:30 = 1 h + 1 h.
    assert business_minutes_between(sh(2026, 3, 4, 11, 0), sh(2026, 3, 4, 14, 30), OFFICE_LUNCH) == 120


def test_between_is_zero_when_end_is_not_after_start():
    a = sh(2026, 3, 4, 10, 0)
    assert business_minutes_between(a, a, OFFICE) == 0
    assert business_minutes_between(a, a - timedelta(hours=1), OFFICE) == 0


def test_between_is_half_open_and_returns_a_float():
    result = business_minutes_between(sh(2026, 3, 4, 17, 59, 30), sh(2026, 3, 5, 9, 0, 30), OFFICE)
    assert isinstance(result, float) and result == 1.0


def _random_cases(n: int, seed: int):
    rng = random.Random(seed)
    calendars = [OFFICE, OFFICE_LUNCH, CHINA_2026_LUNCH, BERLIN_OFFICE, BERLIN_ALL_DAY, NIGHT_SHIFT, ALWAYS]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(n):
        cal = rng.choice(calendars)
        start = base + timedelta(seconds=rng.randrange(360 * 86400))
        minutes = rng.choice([rng.randrange(1, 60 * 24 * 20), round(rng.uniform(0.01, 5000), 3)])
        yield cal, start, minutes


@pytest.mark.parametrize("cal,start,minutes", list(_random_cases(150, seed=20261001)))
def test_between_is_the_inverse_of_add(cal, start, minutes):
    deadline = add_business_minutes(start, minutes, cal)
    assert deadline > start
    assert math.isclose(business_minutes_between(start, deadline, cal), minutes, abs_tol=1e-6)
    # No open time is skipped: the deadline is open, or is the end of an open stretch.
    assert is_open(deadline - timedelta(microseconds=1), cal)


@pytest.mark.parametrize("cal,start,minutes", list(_random_cases(60, seed=7)))
def test_between_is_additive_over_a_split_point(cal, start, minutes):
    end = start + timedelta(minutes=minutes * 3)
    mid = start + timedelta(minutes=minutes)
    whole = business_minutes_between(start, end, cal)
    parts = business_minutes_between(start, mid, cal) + business_minutes_between(mid, end, cal)
    assert math.isclose(whole, parts, abs_tol=1e-6)


# --- is_open / next_open -----------------------------------------------------------------------


def test_open_intervals_are_half_open():
    assert is_open(sh(2026, 3, 4, 9, 0), OFFICE_LUNCH)
    assert not is_open(sh(2026, 3, 4, 12, 0), OFFICE_LUNCH)
    assert is_open(sh(2026, 3, 4, 13, 30), OFFICE_LUNCH)
    assert not is_open(sh(2026, 3, 4, 18, 0), OFFICE_LUNCH)
    assert not is_open(sh(2026, 3, 7, 10, 0), OFFICE_LUNCH)  # Saturday


def test_next_open_is_at_itself_when_open_else_the_next_opening():
    assert next_open(sh(2026, 3, 4, 10, 0), OFFICE_LUNCH) == sh(2026, 3, 4, 10, 0)
    assert next_open(sh(2026, 3, 4, 12, 30), OFFICE_LUNCH) == sh(2026, 3, 4, 13, 30)
    assert next_open(sh(2026, 3, 6, 18, 0), OFFICE_LUNCH) == sh(2026, 3, 9, 9, 0)
    assert next_open(sh(2026, 9, 30, 18, 0), CHINA_2026) == sh(2026, 10, 8, 9, 0)
    assert next_open(sh(2026, 3, 4, 10, 0), OFFICE).tzinfo is UTC


# --- DST zones ---------------------------------------------------------------------------------


def test_dst_spring_forward_keeps_local_office_hours():
    # Europe/Berlin switches CET -> CEST on Sunday 2026-03-29.
    # Friday 17:00 CET (16:00 UTC) + 2 h -> Monday 10:00 CEST (08:00 UTC).
    deadline = add_business_minutes(berlin(2026, 3, 27, 17, 0), 120, BERLIN_OFFICE)
    assert deadline == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert deadline == berlin(2026, 3, 30, 10, 0)
    # The same weekday hours map to different UTC instants before and after the change.
    assert next_open(berlin(2026, 3, 27, 0, 0), BERLIN_OFFICE) == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert next_open(berlin(2026, 3, 30, 0, 0), BERLIN_OFFICE) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_dst_change_day_has_its_real_length_in_business_minutes():
    # A calendar open 00:00-24:00: the spring-forward day lasts 23 h, the fall-back day 25 h.
    assert business_minutes_between(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0), BERLIN_ALL_DAY) == 23 * 60
    assert business_minutes_between(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0), BERLIN_ALL_DAY) == 25 * 60
    assert add_business_minutes(berlin(2026, 3, 29, 0, 0), 23 * 60, BERLIN_ALL_DAY) == berlin(2026, 3, 30, 0, 0)


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda dt: add_business_minutes(dt, 10, OFFICE),
        lambda dt: add_business_minutes(dt, 10, ALWAYS),
        lambda dt: business_minutes_between(dt, dt, OFFICE),
        lambda dt: business_minutes_between(sh(2026, 3, 4, 9, 0), dt, OFFICE),
        lambda dt: is_open(dt, OFFICE),
        lambda dt: next_open(dt, ALWAYS),
    ],
    ids=["add", "add-24x7", "between-start", "between-end", "is_open", "next_open"],
)
def test_naive_datetime_is_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime(2026, 3, 4, 10, 0))


@pytest.mark.parametrize("minutes", [-1, -0.5, math.nan, math.inf])
def test_negative_or_non_finite_minutes_are_refused(minutes):
    with pytest.raises(ValueError):
        add_business_minutes(sh(2026, 3, 4, 10, 0), minutes, OFFICE)


def test_never_open_calendar_is_refused_instead_of_looping():
    start = sh(2026, 3, 4, 10, 0)
    with pytest.raises(ValueError, match="never open"):
        add_business_minutes(start, 1, NEVER)
    with pytest.raises(ValueError, match="never open"):
        next_open(start, NEVER)
    # Queries over a bounded range are fine.
    assert not is_open(start, NEVER)
    assert business_minutes_between(start, start + timedelta(days=10), NEVER) == 0


def test_calendar_open_only_on_past_workdays_is_refused():
    cal = BusinessCalendar(workdays=frozenset({date(2025, 5, 5)}), makeup_hours=((time(9), time(18)),))
    with pytest.raises(ValueError, match="never open"):
        add_business_minutes(sh(2026, 3, 4, 10, 0), 1, cal)


def test_closure_longer_than_the_search_bound_is_refused():
    start = date(2026, 3, 1)
    closed = frozenset(start + timedelta(days=i) for i in range(MAX_CLOSED_DAYS + 10))
    cal = BusinessCalendar(weekly_hours={0: ((time(9), time(18)),)}, holidays=closed)
    with pytest.raises(ValueError, match="no open time"):
        add_business_minutes(sh(2026, 3, 1, 10, 0), 1, cal)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weekly_hours": {0: ((time(18), time(9)),)}},  # crosses midnight
        {"weekly_hours": {0: ((time(9), time(9)),)}},  # empty
        {"weekly_hours": {0: ((time(9), time(13)), (time(12), time(18)))}},  # overlap
        {"weekly_hours": {7: ((time(9), time(18)),)}},  # no such weekday
        {"timezone": "Mars/Olympus_Mons"},
    ],
    ids=["crosses-midnight", "empty", "overlap", "bad-weekday", "bad-timezone"],
)
def test_invalid_calendar_definitions_are_refused(kwargs):
    with pytest.raises(ValueError):
        BusinessCalendar(**kwargs)


# --- calendar object ---------------------------------------------------------------------------


def test_hours_accept_strings_and_midnight_end_means_end_of_day():
    cal = BusinessCalendar(weekly_hours={0: [("09:00", "12:00"), ("20:00", "24:00")]})
    assert cal.weekly_hours[0] == ((time(9), time(12)), (time(20), time(0)))
    assert business_minutes_between(sh(2026, 3, 2, 0, 0), sh(2026, 3, 3, 0, 0), cal) == 7 * 60


def test_calendar_is_immutable_hashable_and_picklable():
    cal = CHINA_2026_LUNCH
    assert hash(cal) == hash(BusinessCalendar.standard([2026], hours=LUNCH))
    assert cal == BusinessCalendar.standard([2026], hours=LUNCH)
    assert pickle.loads(pickle.dumps(cal)) == cal
    with pytest.raises(TypeError):
        cal.weekly_hours[6] = ((time(9), time(10)),)  # type: ignore[index]


def test_thirty_day_deadline_spans_six_working_weeks():
    cal = BusinessCalendar.standard([2026], hours=LUNCH)  # fresh: no memoised days
    start = sh(2026, 1, 5, 9, 0)
    deadline = add_business_minutes(start, 30 * 7.5 * 60, cal)
    # 30 working days from Monday 01-05 (no holidays in January) end Friday 02-13 18:00.
    assert deadline == sh(2026, 2, 13, 18, 0)
