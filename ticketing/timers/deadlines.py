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
        texts = _texts()
        if self.seconds_left < 0:
            return texts["overdue"] % {"time": format_duration(-self.seconds_left)}
        return texts["left"] % {"time": format_duration(self.seconds_left)}

    @property
    def clock_label(self) -> str:
        return _texts()["clocks"].get(self.clock) or clock_label(self.clock)


def _texts() -> dict:
    """This app context's translations of the deadline texts, asked of the catalogue once:
    a list page shows a hundred deadlines, and each catalogue lookup through Flask-Babel
    costs as much as the rest of a row."""
    kept = g.setdefault("deadline_texts", {})  # by language: one context may serve two
    locale = str(get_locale())
    texts = kept.get(locale)
    if texts is None:
        # No variables: gettext returns the translated template, filled in by the caller.
        texts = kept[locale] = {
            "overdue": _("Overdue by %(time)s"), "left": _("%(time)s left"),
            "days": _("%(days)d d %(hours)d h"), "hours": _("%(hours)d h %(minutes)d min"),
            "minutes": _("%(minutes)d min"),
            "clocks": {name: clock_label(name) for name in CLOCKS}}
    return texts


def format_duration(seconds: float) -> str:
    """3 d 4 h, 2 h 15 min, 7 min: precise enough to act on, short enough for a column."""
    texts = _texts()
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return texts["days"] % {"days": days, "hours": hours}
    if hours:
        return texts["hours"] % {"hours": hours, "minutes": minutes}
    return texts["minutes"] % {"minutes": max(minutes, 0)}


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

