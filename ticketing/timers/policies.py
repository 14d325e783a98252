"""The SLA configuration a new clock reads (policies and business calendars), kept per process
(ticketing.kept): every ticket opened asks which policy applies and builds two deadlines on
its calendar, and loading the policies and the calendar with its days as ORM rows cost about
a fifth of `open_ticket`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from ticketing.extensions import db
from ticketing.kept import forget_kept, keep, kept
from ticketing.timers.calendars import business_calendar
from ticketing.timers.models import Calendar, CalendarDay, SlaPolicy
from workflows.business_time import BusinessCalendar


@dataclass(frozen=True)
class PolicyTerms:
    """What a clock copies from the policy that matches its ticket."""
    id: int
    name: str
    kind: str | None
    priority: str | None
    customer_tier: str | None
    response_minutes: int
    resolution_minutes: int
    complaint_limit_minutes: int | None
    warn_before_minutes: int
    level2_after_minutes: int
    level3_after_minutes: int
    calendar_id: int

    def applies_to(self, kind: str, priority: str, tier: str) -> bool:
        return ((self.kind is None or self.kind == kind)
                and (self.priority is None or self.priority == priority)
                and (self.customer_tier is None or self.customer_tier == tier))

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        """More matched fields first; on a tie kind outranks priority outranks tier."""
        given = (self.kind is not None, self.priority is not None,
                 self.customer_tier is not None)
        return (sum(given), *given)


@dataclass(frozen=True)
class CalendarTerms:
    """A calendar row as values (business_calendar reads the same attributes)."""
    id: int
    timezone: str
    always_open: bool
    china_holidays: bool
    weekly_hours: dict
    days: tuple[tuple[date, str], ...]


@dataclass(frozen=True)
class SlaConfig:
    policies: tuple[PolicyTerms, ...]  # active ones, most specific first
    calendars: dict[int, CalendarTerms]


def _load() -> SlaConfig:
    policies = [PolicyTerms(
        p.id, p.name, p.kind, p.priority, p.customer_tier, p.response_minutes,
        p.resolution_minutes, p.complaint_limit_minutes, p.warn_before_minutes,
        p.level2_after_minutes, p.level3_after_minutes, p.calendar_id)
        for p in db.session.execute(select(
            SlaPolicy.id, SlaPolicy.name, SlaPolicy.kind, SlaPolicy.priority,
            SlaPolicy.customer_tier, SlaPolicy.response_minutes, SlaPolicy.resolution_minutes,
            SlaPolicy.complaint_limit_minutes, SlaPolicy.warn_before_minutes,
            SlaPolicy.level2_after_minutes, SlaPolicy.level3_after_minutes,
            SlaPolicy.calendar_id).where(SlaPolicy.active.is_(True)))]
    policies.sort(key=lambda p: (tuple(-x for x in p.specificity), p.id))
    days: dict[int, list[tuple[date, str]]] = {}
    for calendar_id, day, kind in db.session.execute(
            select(CalendarDay.calendar_id, CalendarDay.day, CalendarDay.kind)
            .order_by(CalendarDay.calendar_id, CalendarDay.day)):
        days.setdefault(calendar_id, []).append((day, kind))
    calendars = {c.id: CalendarTerms(c.id, c.timezone, c.always_open, c.china_holidays,
                                     dict(c.weekly_hours or {}), tuple(days.get(c.id, ())))
                 for c in db.session.execute(select(
                     Calendar.id, Calendar.timezone, Calendar.always_open,
                     Calendar.china_holidays, Calendar.weekly_hours))}
    return SlaConfig(tuple(policies), calendars)


# Rows, newest id and the sum of revisions of each table: an insert, a delete or an edit
# (SlaPolicy and Calendar count theirs; the app only adds and removes calendar days) moves it.
keep("sla", load=_load, aggregates=(
    func.count(SlaPolicy.id), func.max(SlaPolicy.id), func.sum(SlaPolicy.revision),
    func.count(Calendar.id), func.max(Calendar.id), func.sum(Calendar.revision),
    func.count(CalendarDay.id), func.max(CalendarDay.id)),
    watch=(SlaPolicy, Calendar, CalendarDay), count_edits=(SlaPolicy, Calendar))


def sla_config() -> SlaConfig:
    """The current active policies (most specific first) and calendars."""
    return kept("sla")


def matching_policies(kind: str, priority: str, tier: str) -> list[PolicyTerms]:
    """Active policies that apply, most specific first (NULL fields match anything)."""
    return [p for p in sla_config().policies if p.applies_to(kind, priority, tier)]


def calendar_for(calendar_id: int, around: datetime) -> BusinessCalendar:
    """The business calendar of that row, built for the years around `around`."""
    config = sla_config()
    terms = config.calendars.get(calendar_id)
    if terms is None:  # created in this very transaction: not in the committed stamp yet
        forget_kept()
        terms = sla_config().calendars[calendar_id]
    return business_calendar(terms, around)
