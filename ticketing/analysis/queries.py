"""The analysis, each figure one GROUP BY in the database: consult types and topics by how
often they were asked over a period, and repair quality per field team from the callback
surveys of repairs (overall and the three dimensions)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from ticketing.auth.models import Department
from ticketing.callbacks.models import Callback
from ticketing.clock import utcnow
from ticketing.errors import InvalidInput
from ticketing.extensions import db
from ticketing.tickets.models import Ticket

DEFAULT_DAYS = 30


def period(date_from: datetime | None, date_to: datetime | None) -> tuple[datetime, datetime]:
    """[from, to): the last DEFAULT_DAYS days unless given; 400 when it runs backwards."""
    date_to = date_to or utcnow()
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS)
    if date_from >= date_to:
        raise InvalidInput({"date_from": [_("The period must start before it ends.")]})
    return date_from, date_to


def consult_figures(date_from=None, date_to=None, limit: int = 10) -> dict:
    """Consults opened in the period: how many, and the most frequent types (category) and
    topics (title, trimmed and case-folded), most frequent first."""
    start, end = period(date_from, date_to)
    in_period = (Ticket.kind == "consult", Ticket.created_at >= start, Ticket.created_at < end)
    total = db.session.scalar(select(func.count(Ticket.id)).where(*in_period)) or 0

    def top(column):
        count = func.count(Ticket.id).label("n")
        rows = db.session.execute(
            select(column, count).where(*in_period, column != "").group_by(column)
            .order_by(count.desc(), column).limit(limit)).all()
        return [{"name": name, "count": n, "share": round(n / total, 4) if total else 0.0}
                for name, n in rows]

    topic = func.lower(func.trim(Ticket.title))
    return {"date_from": start, "date_to": end, "total": total,
            "categories": top(Ticket.category), "topics": top(topic)}


def repair_quality(date_from=None, date_to=None) -> dict:
    """Callbacks of repairs answered (reached) in the period, per field team (the repair's
    department at closing): how many, how many unsatisfied, and the mean of each score."""
    start, end = period(date_from, date_to)
    n = func.count(Callback.id)
    rows = db.session.execute(
        select(Ticket.department_id, n.label("n"),
               func.sum(case((Callback.result == "unsatisfied", 1), else_=0)),
               func.avg(Callback.overall), func.avg(Callback.attitude),
               func.avg(Callback.standard), func.avg(Callback.effect))
        .join(Ticket, Ticket.id == Callback.ticket_id)
        .where(Callback.kind == "repair", Callback.status == "done",
               Callback.result.is_not(None), Callback.done_at >= start, Callback.done_at < end)
        .group_by(Ticket.department_id)
        .order_by(func.avg(Callback.overall), Ticket.department_id)).all()
    departments = {d.id: d for d in db.session.scalars(select(Department).where(
        Department.id.in_([r[0] for r in rows if r[0] is not None])))}
    teams = [{"department": departments.get(dept_id), "callbacks": count,
              "unsatisfied": int(unsatisfied or 0),
              "overall": _mean(overall), "attitude": _mean(attitude),
              "standard": _mean(standard), "effect": _mean(effect)}
             for dept_id, count, unsatisfied, overall, attitude, standard, effect in rows]
    return {"date_from": start, "date_to": end, "teams": teams}


def _mean(value) -> float | None:
    return None if value is None else round(float(value), 2)
