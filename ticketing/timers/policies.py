"""The SLA configuration a new clock reads (policies and business calendars), kept per process.

Every ticket opened asks which policy applies and builds two deadlines on its calendar.
Loading the policies and the calendar with its days as ORM rows cost about a fifth of
`open_ticket`, for a few rows an admin changes a few times a year. So they are read once into
plain values and kept until they change. A change is seen in every process: each use first
asks the database for a cheap stamp (per table: rows, newest id, sum of the rows' revisions,
which every edit increments), and the process that made an edit forgets its copy when it
commits."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, object_session

from ticketing.extensions import db
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
    stamp: tuple
    policies: tuple[PolicyTerms, ...]  # active ones, most specific first
    calendars: dict[int, CalendarTerms]


# Rows, newest id and the sum of revisions of each table: an insert, a delete or an edit
# (SlaPolicy and Calendar count theirs, below; the app only adds and removes calendar days)
# moves it.
_STAMP = select(*(select(aggregate).scalar_subquery() for aggregate in (
    func.count(SlaPolicy.id), func.max(SlaPolicy.id), func.sum(SlaPolicy.revision),
    func.count(Calendar.id), func.max(Calendar.id), func.sum(Calendar.revision),
    func.count(CalendarDay.id), func.max(CalendarDay.id))))

_lock = threading.Lock()
_IN_TRANSACTION = "sla_config"  # Session.info keys: the copy this transaction checked,
_CHANGED = "sla_config_changed"  # and "it changed policies or calendars"


def sla_config() -> SlaConfig:
    """The current policies and calendars, read again only when their stamp moved. The stamp
    is asked once per transaction (a page may compute a hundred deadlines). A transaction
    that changed them reads its own copy and shares it with no one until it commits."""
    info = db.session.info
    config = info.get(_IN_TRANSACTION)
    if config is not None:
        return config
    stamp = tuple(db.session.execute(_STAMP).one())
    if info.get(_CHANGED):
        config = _load(stamp)
    else:
        kept = _kept()
        config = kept.get("config")
        if config is None or config.stamp != stamp:
            config = _load(stamp)
            with _lock:
                kept["config"] = config
    info[_IN_TRANSACTION] = config
    return config


def _kept() -> dict:
    """This app's copy (an app is one database; tests make many apps in one process)."""
    return current_app.extensions.setdefault("sla_config", {})


def forget_sla_config() -> None:
    with _lock:
        _kept().pop("config", None)


def _load(stamp: tuple) -> SlaConfig:
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
    return SlaConfig(stamp, tuple(policies), calendars)


def matching_policies(kind: str, priority: str, tier: str) -> list[PolicyTerms]:
    """Active policies that apply, most specific first (NULL fields match anything)."""
    return [p for p in sla_config().policies if p.applies_to(kind, priority, tier)]


def calendar_for(calendar_id: int, around: datetime) -> BusinessCalendar:
    """The business calendar of that row, built for the years around `around`."""
    config = sla_config()
    terms = config.calendars.get(calendar_id)
    if terms is None:  # created in this very transaction: not in the committed stamp yet
        forget_sla_config()
        terms = sla_config().calendars[calendar_id]
    return business_calendar(terms, around)


def _count_edit(_mapper, _connection, target) -> None:
    target.revision = (target.revision or 0) + 1


def _changed(_mapper, _connection, target) -> None:
    session = object_session(target)
    if session is not None:
        session.info[_CHANGED] = True
        session.info.pop(_IN_TRANSACTION, None)


def _after_commit(session) -> None:
    session.info.pop(_IN_TRANSACTION, None)
    if session.info.pop(_CHANGED, False):
        forget_sla_config()


def _after_rollback(session, _previous_transaction=None) -> None:
    session.info.pop(_IN_TRANSACTION, None)
    session.info.pop(_CHANGED, None)


_connected = False


def connect_config_hooks() -> None:
    """Once per process (the area's init_app): any flushed change to a policy, a calendar or
    a calendar day marks the session, and the copy is forgotten when it commits."""
    global _connected
    if _connected:
        return
    for model in (SlaPolicy, Calendar):
        event.listen(model, "before_update", _count_edit)
    for model in (SlaPolicy, Calendar, CalendarDay):
        for name in ("after_insert", "after_update", "after_delete"):
            event.listen(model, name, _changed)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
    _connected = True
