"""Working-hours arithmetic over business calendars (SPEC §3: SLA timers).

Pure Python: only the standard library (``zoneinfo``) and the ``holidays``
package.  Nothing here knows about Flask, SQLAlchemy or tickets; the SLA code
builds a :class:`BusinessCalendar` from its configuration and calls the
functions below to get deadlines and elapsed business minutes.

Conventions
-----------
* **Instants** passed in must be timezone-aware ``datetime`` objects (any
  zone; naive ones raise ``ValueError``).  Every returned instant is in UTC
  (``tzinfo=datetime.timezone.utc``).
* **Opening hours** are local wall-clock times in ``calendar.timezone``.  An
  interval ``(start, end)`` is half-open ``[start, end)``.  An *end* of
  ``time(0, 0)`` means **midnight at the end of that day** (24:00), so
  ``(time(0), time(0))`` is the whole day and ``(time(22), time(0))`` is
  22:00-24:00.  ``time(23, 59, 59)`` is taken literally (the last second is
  closed).  An interval cannot cross midnight: split a night shift into
  ``Fri 22:00-24:00`` + ``Sat 00:00-06:00``; adjacent intervals join
  seamlessly.  Times may also be given as ``"HH:MM"`` / ``"HH:MM:SS"``
  strings, with ``"24:00"`` accepted as an end.
* **Business minutes are real elapsed minutes** while the calendar is open.
  On a DST-change day an interval spanning the change is one hour shorter
  (spring) or longer (autumn) than its wall-clock length.  Wall times that do
  not exist (spring gap) or exist twice (autumn overlap) resolve the way
  ``zoneinfo`` does with ``fold=0``: a nonexistent time is shifted forward by
  the gap, an ambiguous one means its first occurrence.
* **Day precedence**: a date in ``workdays`` is open even if it is a weekend
  day or also listed in ``holidays`` (China's adjusted working days, 调休).
  Such a day keeps its own weekday's hours if that weekday has any, otherwise
  it uses ``makeup_hours`` (default: Monday's hours, or the first weekday that
  has hours).  Otherwise a date in ``holidays`` is closed all day, and any
  other date uses ``weekly_hours[date.weekday()]`` (0 = Monday).
* ``always_open`` (24x7) calendars ignore hours, holidays and workdays: plain
  ``timedelta`` arithmetic.
* :func:`add_business_minutes` with ``minutes == 0`` returns ``start``
  unchanged (converted to UTC), open or not.  For ``minutes > 0`` counting
  starts at ``start`` if open, else at the next opening.  A deadline that
  lands exactly at a closing time is that closing instant (e.g. 18:00), not
  the next opening.
* :func:`business_minutes_between` returns a ``float`` number of minutes
  (microsecond precision) open in ``[start, end)``; ``0.0`` if
  ``end <= start``.  Callers that store integers should round explicitly.
* Searches forward are bounded: if no open time exists within
  :data:`MAX_CLOSED_DAYS` (about 3 years) the functions raise ``ValueError``
  instead of looping forever (e.g. a calendar with no hours at all).
"""

from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

__all__ = [
    "MAX_CLOSED_DAYS",
    "BusinessCalendar",
    "Hours",
    "add_business_minutes",
    "business_minutes_between",
    "china_holidays",
    "is_open",
    "next_open",
]

UTC = dt_timezone.utc
MIDNIGHT = time(0, 0)
ONE_DAY = timedelta(days=1)
ONE_MINUTE = timedelta(minutes=1)
#: Longest run of closed days tolerated while searching forward.
MAX_CLOSED_DAYS = 3 * 366

#: Opening intervals of one day, e.g. ``((time(9), time(12)), (time(13, 30), time(18)))``.
Hours = tuple[tuple[time, time], ...]

_DAY_CACHE_SIZE = 4096  # local dates memoised per calendar

DEFAULT_HOURS: Hours = ((time(9, 0), time(18, 0)),)


# ---------------------------------------------------------------------------
# validation / normalisation helpers
# ---------------------------------------------------------------------------

def _parse_time(value: time | str, *, is_end: bool) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"opening hours must be naive local times, got {value!r}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if is_end and text in ("24:00", "24:00:00"):
            return MIDNIGHT
        try:
            return time.fromisoformat(text)
        except ValueError:
            raise ValueError(f"invalid time of day {value!r}") from None
    raise TypeError(f"expected datetime.time or 'HH:MM', got {type(value).__name__}")


def _seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def _normalise_hours(intervals: Iterable, *, where: str) -> Hours:
    """Validate one day's intervals; return them sorted as a tuple of tuples."""
    if isinstance(intervals, (str, bytes)):
        raise TypeError(f"{where}: expected a sequence of (start, end) pairs")
    parsed: list[tuple[time, time]] = []
    for pair in intervals:
        try:
            start_raw, end_raw = pair
        except (TypeError, ValueError):
            raise TypeError(f"{where}: expected (start, end) pairs, got {pair!r}") from None
        start = _parse_time(start_raw, is_end=False)
        end = _parse_time(end_raw, is_end=True)
        end_s = 86400.0 if end == MIDNIGHT else _seconds(end)
        if _seconds(start) >= end_s:
            raise ValueError(
                f"{where}: interval {start.isoformat()}-{end.isoformat()} is empty or "
                "crosses midnight (split it in two; an end of 00:00 means 24:00)"
            )
        parsed.append((start, end))
    parsed.sort(key=lambda iv: _seconds(iv[0]))
    for (_, prev_end), (next_start, _) in zip(parsed, parsed[1:]):
        if prev_end == MIDNIGHT or _seconds(prev_end) > _seconds(next_start):
            raise ValueError(f"{where}: opening intervals overlap")
    return tuple(parsed)


def _normalise_dates(values: Iterable, *, where: str) -> frozenset[date]:
    if isinstance(values, (str, bytes, date)):
        raise TypeError(f"{where}: expected a collection of dates")
    out = set()
    for value in values:
        if isinstance(value, datetime):
            raise TypeError(f"{where}: expected dates, got datetime {value!r}")
        if isinstance(value, date):
            out.add(value)
        elif isinstance(value, str):
            out.add(date.fromisoformat(value))
        else:
            raise TypeError(f"{where}: expected dates, got {type(value).__name__}")
    return frozenset(out)


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------
# calendar
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class BusinessCalendar:
    """When a queue is open.  Immutable and hashable; see the module docstring."""

    timezone: str = "Asia/Shanghai"
    #: 24x7: every instant is open; hours, holidays and workdays are ignored.
    always_open: bool = False
    #: weekday (0 = Monday ... 6 = Sunday) -> open intervals in local time.
    #: Missing weekdays are closed.  Stored as a read-only mapping of tuples.
    weekly_hours: Mapping[int, Hours] = field(default_factory=dict, hash=False)
    #: Dates closed all day (unless also in ``workdays``).
    holidays: frozenset[date] = frozenset()
    #: Extra working dates (调休): open even on a weekend or a holiday.
    workdays: frozenset[date] = frozenset()
    #: Hours of a ``workdays`` date whose weekday has no regular hours;
    #: ``None`` = Monday's hours (or the first weekday with hours).
    makeup_hours: Hours | None = None

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None

        if not isinstance(self.weekly_hours, Mapping):
            raise TypeError("weekly_hours must be a mapping weekday -> intervals")
        weekly: dict[int, Hours] = {}
        for weekday, intervals in self.weekly_hours.items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be an int 0 (Monday) .. 6 (Sunday), got {weekday!r}")
            hours = _normalise_hours(intervals, where=f"weekly_hours[{weekday}]")
            if hours:
                weekly[weekday] = hours
        makeup = None
        if self.makeup_hours is not None:
            makeup = _normalise_hours(self.makeup_hours, where="makeup_hours")

        set_ = object.__setattr__
        set_(self, "always_open", bool(self.always_open))
        set_(self, "weekly_hours", MappingProxyType(dict(sorted(weekly.items()))))
        set_(self, "holidays", _normalise_dates(self.holidays, where="holidays"))
        set_(self, "workdays", _normalise_dates(self.workdays, where="workdays"))
        set_(self, "makeup_hours", makeup)

        # Private derived state (not dataclass fields: excluded from eq/hash/repr).
        week = tuple(weekly.get(wd, ()) for wd in range(7))
        if makeup is None:
            makeup = week[0] or next((h for h in week if h), ())
        set_(self, "_zone", zone)
        set_(self, "_week", week)
        set_(self, "_makeup", makeup)
        set_(self, "_day_cache", {})

    def __reduce__(self):
        # MappingProxyType cannot be pickled: rebuild from the field values.
        return (
            type(self),
            (self.timezone, self.always_open, dict(self.weekly_hours),
             self.holidays, self.workdays, self.makeup_hours),
        )

    # -- construction -----------------------------------------------------

    @classmethod
    def standard(
        cls,
        years: Iterable[int] = (),
        *,
        timezone: str = "Asia/Shanghai",
        hours: Iterable = DEFAULT_HOURS,
        weekdays: Iterable[int] = range(5),
        extra_holidays: Iterable[date | str] = (),
        extra_workdays: Iterable[date | str] = (),
        makeup_hours: Iterable | None = None,
        public_holidays: bool = True,
    ) -> "BusinessCalendar":
        """A typical call-center calendar.

        ``hours`` (default 09:00-18:00; several intervals allowed, e.g. a
        lunch break) on ``weekdays`` (default Monday-Friday), closed on the
        Chinese public holidays of ``years`` and open on the adjusted working
        days (调休) of those years, both taken from ``holidays.China`` (see
        :func:`china_holidays`), then admin-entered ``extra_holidays`` /
        ``extra_workdays`` applied on top (they win over the library data).
        """
        hours_t = _normalise_hours(hours, where="hours")
        extra_off = _normalise_dates(extra_holidays, where="extra_holidays")
        extra_on = _normalise_dates(extra_workdays, where="extra_workdays")
        clash = extra_off & extra_on
        if clash:
            raise ValueError(
                "dates both in extra_holidays and extra_workdays: "
                + ", ".join(sorted(d.isoformat() for d in clash))
            )
        off: frozenset[date] = frozenset()
        on: frozenset[date] = frozenset()
        if public_holidays:
            off, on = china_holidays(years)
        return cls(
            timezone=timezone,
            weekly_hours={wd: hours_t for wd in set(weekdays)},
            holidays=(off - extra_on) | extra_off,
            workdays=(on - extra_off) | extra_on,
            makeup_hours=makeup_hours,
        )

    @classmethod
    def twenty_four_seven(cls, timezone: str = "Asia/Shanghai") -> "BusinessCalendar":
        """An always-open calendar (e.g. repairs run 24x7)."""
        return cls(timezone=timezone, always_open=True)

    # -- queries on local dates ------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return self._zone  # type: ignore[attr-defined]

    def hours_on(self, day: date) -> Hours:
        """Open intervals (local wall time) of one local date; ``()`` if closed.

        Not meaningful for ``always_open`` calendars (which are open anyway).
        """
        week: tuple[Hours, ...] = self._week  # type: ignore[attr-defined]
        regular = week[day.weekday()]
        if day in self.workdays:
            return regular or self._makeup  # type: ignore[attr-defined]
        if day in self.holidays:
            return ()
        return regular

    def is_business_day(self, day: date) -> bool:
        """True if the local date has any opening hours."""
        return self.always_open or bool(self.hours_on(day))

    def _has_open_day_from(self, day: date) -> bool:
        """Cheap structural check: could anything be open on/after ``day``?"""
        if any(self._week):  # type: ignore[attr-defined]
            return True
        return bool(self._makeup) and any(w >= day for w in self.workdays)  # type: ignore[attr-defined]

    def _utc_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open intervals of a local date as (start, end) UTC instants.

        Memoised per calendar (bounded; the calendar is immutable).
        """
        cache: dict = self._day_cache  # type: ignore[attr-defined]
        try:
            return cache[day]
        except KeyError:
            pass
        zone = self._zone  # type: ignore[attr-defined]
        out = []
        next_day = None
        for start_t, end_t in self.hours_on(day):
            start = datetime.combine(day, start_t, tzinfo=zone).astimezone(UTC)
            if end_t == MIDNIGHT:
                next_day = next_day or day + ONE_DAY
                end = datetime.combine(next_day, MIDNIGHT, tzinfo=zone).astimezone(UTC)
            else:
                end = datetime.combine(day, end_t, tzinfo=zone).astimezone(UTC)
            out.append((start, end))
        if len(cache) >= _DAY_CACHE_SIZE:
            cache.clear()
        result = cache[day] = tuple(out)
        return result


# ---------------------------------------------------------------------------
# interval iteration
# ---------------------------------------------------------------------------

def _open_intervals(
    calendar: BusinessCalendar, start: datetime, end: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the open UTC intervals clipped to ``[start, end)`` in order.

    ``start``/``end`` are UTC.  With ``end=None`` the iteration is unbounded
    but raises ``ValueError`` after :data:`MAX_CLOSED_DAYS` consecutive
    closed days.  Intervals are clamped to be ascending and non-overlapping
    even around odd DST transitions.
    """
    zone = calendar.zone
    # One day back: with DST at midnight the previous local date can still
    # be running at ``start``.
    day = start.astimezone(zone).date() - ONE_DAY
    last_day = end.astimezone(zone).date() if end is not None else None
    if end is None and not calendar._has_open_day_from(day):
        raise ValueError("business calendar is never open")
    prev_end = start
    closed_days = 0
    while last_day is None or day <= last_day:
        intervals = calendar._utc_intervals(day)
        if intervals:
            closed_days = 0
        else:
            closed_days += 1
            if end is None and closed_days > MAX_CLOSED_DAYS:
                raise ValueError(
                    f"business calendar has no open time within {MAX_CLOSED_DAYS} days "
                    f"after {start.isoformat()}"
                )
        for iv_start, iv_end in intervals:
            if end is not None and iv_start >= end:
                return
            iv_start = max(iv_start, prev_end)
            if end is not None:
                iv_end = min(iv_end, end)
            if iv_end > iv_start:
                yield iv_start, iv_end
                prev_end = iv_end
        day += ONE_DAY


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def is_open(at: datetime, calendar: BusinessCalendar) -> bool:
    """True if ``calendar`` is open at the instant ``at``."""
    at = _utc(at, "at")
    if calendar.always_open:
        return True
    tick = timedelta(microseconds=1)
    return next(_open_intervals(calendar, at, at + tick), None) is not None


def next_open(at: datetime, calendar: BusinessCalendar) -> datetime:
    """``at`` (in UTC) if open, else the next opening instant.

    Raises ``ValueError`` if nothing opens within :data:`MAX_CLOSED_DAYS` days.
    """
    at = _utc(at, "at")
    if calendar.always_open:
        return at
    return next(_open_intervals(calendar, at))[0]


def add_business_minutes(
    start: datetime, minutes: int | float, calendar: BusinessCalendar
) -> datetime:
    """The UTC instant at which ``minutes`` of open time have elapsed after ``start``.

    ``minutes == 0`` returns ``start`` (in UTC) unchanged.  Counting begins at
    ``start`` if open, else at the next opening.  A result landing exactly at
    a closing time is returned as that closing instant.  Negative, NaN or
    infinite ``minutes`` raise ``ValueError``.
    """
    start = _utc(start, "start")
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
        raise TypeError(f"minutes must be a number, got {type(minutes).__name__}")
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"minutes must be a finite number >= 0, got {minutes!r}")
    remaining = timedelta(minutes=minutes)
    if not remaining:
        return start
    if calendar.always_open:
        return start + remaining
    for iv_start, iv_end in _open_intervals(calendar, start):
        span = iv_end - iv_start
        if remaining <= span:
            return iv_start + remaining
        remaining -= span
    raise AssertionError("unreachable: _open_intervals is unbounded")  # pragma: no cover


def business_minutes_between(
    start: datetime, end: datetime, calendar: BusinessCalendar
) -> float:
    """Open minutes in ``[start, end)`` as a float (microsecond precision).

    ``0.0`` if ``end <= start``.  Inverse of :func:`add_business_minutes`:
    ``business_minutes_between(s, add_business_minutes(s, m, cal), cal) == m``
    (up to microsecond rounding of fractional minutes).
    """
    start = _utc(start, "start")
    end = _utc(end, "end")
    if end <= start:
        return 0.0
    if calendar.always_open:
        return (end - start) / ONE_MINUTE
    total = timedelta(0)
    for iv_start, iv_end in _open_intervals(calendar, start, end):
        total += iv_end - iv_start
    return total / ONE_MINUTE


# ---------------------------------------------------------------------------
# Chinese public holidays
# ---------------------------------------------------------------------------

def china_holidays(years: Iterable[int] | int) -> tuple[frozenset[date], frozenset[date]]:
    """``(holidays, adjusted_workdays)`` of mainland China for ``years``.

    From ``holidays.China`` (default "public" category: New Year, Spring
    Festival, Tomb-Sweeping, Labour Day, Dragon Boat, Mid-Autumn, National
    Day, their observed days and the State Council's "Day off (substituted
    from ...)" days).  The adjusted working days (调休, weekend days worked
    to pay for the bridge days) come from the instance's ``weekend_workdays``
    attribute, filtered to ``years`` (the library also leaves unrelated
    cross-year entries in it).  The library only knows 调休 for years whose
    State Council notice it encodes (up to 2026 in holidays 0.109); for later
    years it computes the holidays by rule and lists no adjusted workdays -
    admins must enter those.  Cached per set of years.
    """
    if isinstance(years, int):
        years = (years,)
    wanted = tuple(sorted(set(years)))
    if not wanted:
        return frozenset(), frozenset()
    return _china_holidays(wanted)


@lru_cache(maxsize=64)
def _china_holidays(wanted: tuple[int, ...]) -> tuple[frozenset[date], frozenset[date]]:
    # holidays.China() costs ~2 ms per year; results are immutable, so cache.
    cn = holidays_lib.China(years=list(wanted))
    off = frozenset(d for d in cn.keys() if d.year in wanted)
    workdays = getattr(cn, "weekend_workdays", None) or ()
    on = frozenset(d for d in workdays if d.year in wanted)
    return off, on
