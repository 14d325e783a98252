"""Business calendars: from database rows to workflows.business_time.BusinessCalendar.

Building one costs a holidays lookup per year and its day cache is worth keeping, so built
calendars are cached per process, keyed on the row's content (hours, flags, days): an edit
is a new key, in this process and in every other one on its next read of the row."""
from __future__ import annotations

import threading
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from ticketing.timers.models import Calendar
from workflows.business_time import BusinessCalendar, china_holidays

if TYPE_CHECKING:  # policies imports this module
    from ticketing.timers.policies import CalendarTerms

_cache: dict[tuple, BusinessCalendar] = {}
_lock = threading.Lock()
_CACHE_LIMIT = 256


def years_around(at: datetime) -> tuple[int, ...]:
    """Deadlines reach at most a year or two ahead; a year back covers late resumes."""
    return tuple(range(at.year - 1, at.year + 3))


def _days_of(row) -> tuple[tuple[date, str], ...]:
    """(day, kind) of the admin's days: CalendarDay rows, or timers.policies' plain tuples."""
    return tuple(sorted(d if isinstance(d, tuple) else (d.day, d.kind) for d in row.days))


def business_calendar(row: Calendar | CalendarTerms, around: datetime) -> BusinessCalendar:
    """The calendar of a row or of timers.policies.CalendarTerms (the same attributes)."""
    years = years_around(around)
    days = _days_of(row)
    key = (row.timezone, row.always_open, row.china_holidays,
           tuple(sorted((int(day), tuple(map(tuple, hours)))
                        for day, hours in (row.weekly_hours or {}).items())),
           days, years)
    with _lock:
        built = _cache.get(key)
    if built is not None:
        return built
    built = build_calendar(row, days, years)
    with _lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = built
    return built


def build_calendar(row, days, years) -> BusinessCalendar:
    if row.always_open:
        return BusinessCalendar(timezone=row.timezone, always_open=True)
    extra_off = {day for day, kind in days if kind == "holiday"}
    extra_on = {day for day, kind in days if kind == "workday"}
    off: frozenset[date] = frozenset()
    on: frozenset[date] = frozenset()
    if row.china_holidays:
        off, on = china_holidays(years)
    # The admin's own days win over the library's (as in BusinessCalendar.standard).
    return BusinessCalendar(
        timezone=row.timezone,
        weekly_hours=weekly_hours_from_json(row.weekly_hours),
        holidays=(off - extra_on) | extra_off,
        workdays=(on - extra_off) | extra_on,
    )


def weekly_hours_from_json(data: dict) -> dict[int, list[tuple[str, str]]]:
    return {int(day): [(start, end) for start, end in intervals]
            for day, intervals in (data or {}).items() if intervals}


def parse_hours(text: str) -> list[list[str]]:
    """"09:00-12:00, 13:30-18:00" -> [["09:00", "12:00"], ["13:30", "18:00"]]; "" is closed.

    Raises ValueError with a short reason; the interval rules are BusinessCalendar's."""
    intervals = []
    for part in (text or "").replace("，", ",").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.replace("–", "-").replace("~", "-").partition("-")
        if not sep:
            raise ValueError(part)
        start, end = start.strip(), end.strip()
        for value in (start, end):
            if value not in ("24:00",):
                time.fromisoformat(value)  # raises ValueError on a bad time
        intervals.append([_hhmm(start), _hhmm(end)])
    # Let the calendar validate order, overlaps and crossing midnight.
    BusinessCalendar(weekly_hours={0: intervals})
    return intervals


def _hhmm(value: str) -> str:
    return "24:00" if value == "24:00" else time.fromisoformat(value).strftime("%H:%M")


def format_hours(intervals) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals or [])
