"""What a ticket list shows about SLA: each ticket's nearest running deadline, how long is
left or how late it is, and its colour (ok, warning, breached). One query per list."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g
from flask_babel import get_locale, gettext as _
from sqlalchemy import func, select

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.timers.labels import clock_label
from ticketing.timers.models import SlaClock
from workflows.tickets import CLOCKS


@dataclass(frozen=True)
class Deadline:
    clock: str
    due_at: datetime
    seconds_left: float  # negative: overdue
    warn_before_minutes: int
    breached_flag: bool
    warned: bool

    @property
    def state(self) -> str:
        """breached, warning or ok: the colour a list shows."""
        if self.breached_flag or self.seconds_left < 0:
            return "breached"
        if self.warned or self.seconds_left <= self.warn_before_minutes * 60:
            return "warning"
        return "ok"

    @property
    def text(self) -> str:
        return deadline_texts().text(self)

    @property
    def clock_label(self) -> str:
        return deadline_texts().clock(self.clock)


class DeadlineTexts:
    """The deadline texts in the reader's language, asked of the catalogue once: a list page
    shows a hundred deadlines, and each lookup through Flask-Babel costs as much as the rest
    of a row. A page builds one (deadline_texts()) and hands it to its rows."""

    def __init__(self):
        # No variables: gettext returns the translated template, filled in below.
        self.overdue, self.left = _("Overdue by %(time)s"), _("%(time)s left")
        self.days, self.hours = _("%(days)d d %(hours)d h"), _("%(hours)d h %(minutes)d min")
        self.minutes = _("%(minutes)d min")
        self.clocks = {name: clock_label(name) for name in CLOCKS}

    def text(self, deadline: Deadline) -> str:
        if deadline.seconds_left < 0:
            return self.overdue % {"time": self.duration(-deadline.seconds_left)}
        return self.left % {"time": self.duration(deadline.seconds_left)}

    def clock(self, name: str) -> str:
        return self.clocks.get(name) or clock_label(name)

    def duration(self, seconds: float) -> str:
        """3 d 4 h, 2 h 15 min, 7 min: precise enough to act on, short enough for a column."""
        minutes = int(seconds // 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        if days:
            return self.days % {"days": days, "hours": hours}
        if hours:
            return self.hours % {"hours": hours, "minutes": minutes}
        return self.minutes % {"minutes": max(minutes, 0)}


def deadline_texts() -> DeadlineTexts:
    """This app context's texts for the reader's language (kept by language: a test may
    serve two readers in one context)."""
    kept = g.setdefault("deadline_texts", {})
    locale = str(get_locale())
    texts = kept.get(locale)
    if texts is None:
        texts = kept[locale] = DeadlineTexts()
    return texts


_LIVE = (SlaClock.stopped_at.is_(None), SlaClock.paused_at.is_(None))


def deadlines_for(ticket_ids, now: datetime | None = None) -> dict[int, Deadline]:
    """{ticket id: its nearest running deadline} for the given tickets (no entry: no
    running clock, e.g. closed or suspended)."""
    ids = sorted({i for i in ticket_ids if i is not None})
    if not ids:
        return {}
    now = now or utcnow()
    found: dict[int, Deadline] = {}
    rows = db.session.execute(
        select(SlaClock.ticket_id, SlaClock.clock, SlaClock.due_at, SlaClock.warn_before_minutes,
               SlaClock.breached, SlaClock.warned)
        .where(SlaClock.ticket_id.in_(ids), *_LIVE)
        .order_by(SlaClock.ticket_id, SlaClock.due_at))
    for ticket_id, clock, due_at, warn, breached, warned in rows:
        if ticket_id in found:
            continue
        found[ticket_id] = Deadline(clock, due_at, (due_at - now).total_seconds(), warn or 0,
                                    bool(breached), bool(warned))
    return found


def deadline_of(clock: SlaClock, now: datetime | None = None) -> Deadline:
    now = now or utcnow()
    return Deadline(clock.clock, clock.due_at, (clock.due_at - now).total_seconds(),
                    clock.warn_before_minutes or 0, bool(clock.breached), bool(clock.warned))


def running_deadline_order():
    """A subquery (ticket_id, due_at) of each ticket's nearest running deadline: the key
    of the "by deadline" sort of the queues."""
    return (select(SlaClock.ticket_id.label("ticket_id"),
                   func.min(SlaClock.due_at).label("due_at"))
            .where(*_LIVE).group_by(SlaClock.ticket_id).subquery("deadlines"))

