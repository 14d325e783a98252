"""The reports of SPEC §8, read for one user: aggregates from the daily rollups (a year is a
few thousand rows), lists from the tickets through their indexes. Nothing loads all rows.

Figures are cut to the user's department unless they hold tickets.all_departments."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask_babel import get_locale
from sqlalchemy import and_, func, or_, select

from ticketing.auth.models import Department, User
from ticketing.customers.models import Customer
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.reports.models import ReportDaily
from ticketing.reports.operations import DIMENSIONS, RESULT, day_start, month_of
from ticketing.tickets import queries as ticket_queries
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.tickets.permissions import can_see_all_departments
from workflows.tickets import DISPLAY_STATUS, display_status

BUCKETS = ("day", "week", "month")
SUMMARY_BY = ("kind", "state", "status", "department", "day")
CUSTOMER_TICKETS_SHOWN = 500
_rd = ReportDaily.__table__


def department_scope(user) -> int | None:
    """None: every department's figures; else the one department the user may see (-1 when
    they have none, which matches nothing)."""
    if can_see_all_departments(user):
        return None
    return user.department_id if user.department_id is not None else -1


def _where(user, cube: str, date_from: date, date_to: date, department_id=None, **equal):
    return [_rd.c.cube == cube, _rd.c.day >= date_from, _rd.c.day <= date_to,
            *_cut(user, department_id, **equal)]


def _cut(user, department_id=None, **equal) -> list:
    """The user's department scope and the report's filters on key columns."""
    where = []
    scope = department_scope(user)
    if scope is not None:
        where.append(_rd.c.department_id == scope)
    if department_id is not None:
        where.append(_rd.c.department_id == department_id)
    for column, value in equal.items():
        if value:
            where.append(_rd.c[column] == value)
    return where


def _rows(stmt):
    return db.session.execute(stmt).all()


def department_names(ids=None) -> dict[int, str]:
    locale = str(get_locale() or "")
    stmt = select(Department.id, Department.name, Department.name_en)
    if ids is not None:
        stmt = stmt.where(Department.id.in_(list(ids)))
    return {i: (en if locale.startswith("en") and en else name)
            for i, name, en in db.session.execute(stmt)}


def bucket_of(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def periods(date_from: date, date_to: date, bucket: str) -> list[date]:
    """Every bucket start from date_from to date_to, so a chart shows empty periods too."""
    out, day = [], bucket_of(date_from, bucket)
    while day <= date_to:
        out.append(day)
        if bucket == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=7 if bucket == "week" else 1)
    return out


def _series(rows, date_from, date_to, bucket) -> tuple[list[date], dict[str, list[int]]]:
    """[(day, name, value)] -> (periods, {name: value per period})."""
    starts = periods(date_from, date_to, bucket)
    index = {start: i for i, start in enumerate(starts)}
    series: dict[str, list] = defaultdict(lambda: [0] * len(starts))
    for day, name, value in rows:
        series[name][index[bucket_of(day, bucket)]] += value
    return starts, dict(series)


def _share(part, whole):
    return round(part / whole, 4) if whole else None


# -- ticket summary ------------------------------------------------------------------------

def summary_report(user, *, date_from, date_to, by="kind", kind=None, status=None,
                   department_id=None) -> dict:
    """Tickets opened in the period, counted by kind, current state, display status,
    current department or opening day."""
    where = _where(user, "summary", date_from, date_to, department_id, kind=kind)
    if status:
        where.append(_rd.c.state.in_([s for s, shown in DISPLAY_STATUS.items()
                                      if shown == status]))
    column = {"kind": _rd.c.kind, "state": _rd.c.state, "status": _rd.c.state,
              "department": _rd.c.department_id, "day": _rd.c.day}[by]
    counts: dict = defaultdict(int)
    for key, n in _rows(select(column, func.sum(_rd.c.n)).where(*where).group_by(column)):
        counts[display_status(key) if by == "status" else key] += int(n)
    if by == "day":
        rows = [{"key": start.isoformat(), "label": start.isoformat(),
                 "count": counts.get(start, 0)} for start in periods(date_from, date_to, "day")]
    else:
        label = _labeller(by, counts)
        rows = [{"key": str(key), "label": label(key), "count": n} for key, n in
                sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))) if n]
    return {"by": by, "rows": rows, "total": sum(counts.values())}


def _labeller(by: str, counts: dict):
    from ticketing.tickets.labels import KIND_LABELS, STATUS_LABELS, state_label
    if by == "kind":
        return lambda key: str(KIND_LABELS.get(key, key))
    if by == "status":
        return lambda key: str(STATUS_LABELS.get(key, key))
    if by == "state":
        return lambda key: str(state_label(key))
    names = department_names(set(counts) - {0})
    return lambda key: names.get(key, "—")


# -- call types ------------------------------------------------------------------------------

def calls_report(user, *, date_from, date_to, kind=None, channel=None,
                 department_id=None) -> dict:
    """Calls (tickets opened) per kind and category (the call type) in the period."""
    where = _where(user, "calls", date_from, date_to, department_id, kind=kind,
                   channel=channel)
    stmt = (select(_rd.c.kind, _rd.c.category, func.sum(_rd.c.n)).where(*where)
            .group_by(_rd.c.kind, _rd.c.category))
    found = [(kind_, category, int(n)) for kind_, category, n in _rows(stmt) if n]
    total = sum(n for *_key, n in found)
    rows = [{"kind": kind_, "category": category, "count": n, "share": _share(n, total)}
            for kind_, category, n in sorted(found, key=lambda r: (-r[2], r[0], r[1]))]
    return {"rows": rows, "total": total}


# -- fault rates -----------------------------------------------------------------------------

def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _fault_spans(date_from: date, date_to: date) -> list[tuple[str, date, date]]:
    """(cube, first day, last day) covering the range exactly once: its whole months from the
    monthly rows (fault_months, keyed by the month's first day), the days before and after
    them from the daily rows (faults). A year is 11-12 monthly rows per key and at most 60
    days instead of 365 days."""
    first = date_from if date_from.day == 1 else _next_month(date_from)
    ends_a_month = (date_to + timedelta(days=1)).day == 1
    end = date_to if ends_a_month else month_of(date_to) - timedelta(days=1)  # of whole months
    if first > end:
        return [("faults", date_from, date_to)]
    spans = [("fault_months", first, month_of(end))]
    if date_from < first:
        spans.append(("faults", date_from, first - timedelta(days=1)))
    if end < date_to:
        spans.append(("faults", end + timedelta(days=1), date_to))
    return spans


def faults_report(user, *, date_from, date_to, area=None, fault_type=None,
                  department_id=None, bucket="month") -> dict:
    """Faults (repairs with a fault category) per customer area × category, with the rate
    per 1,000 customers of the area, and per category over time."""
    cut = _cut(user, department_id, area=area, fault_type=fault_type)
    spans = or_(*(and_(_rd.c.cube == cube, _rd.c.day >= first, _rd.c.day <= last)
                  for cube, first, last in _fault_spans(date_from, date_to)))
    cells = [(a, f, int(n)) for a, f, n in _rows(
        select(_rd.c.area, _rd.c.fault_type, func.sum(_rd.c.n)).where(spans, *cut)
        .group_by(_rd.c.area, _rd.c.fault_type)) if n]
    areas = sorted({a for a, _f, _n in cells if a})
    customers = dict(_rows(select(Customer.area, func.count()).where(Customer.area.in_(areas))
                           .group_by(Customer.area))) if areas else {}
    rows = []
    for a, f, n in sorted(cells, key=lambda r: (r[0], r[1])):
        people = int(customers.get(a, 0))
        rows.append({"area": a, "fault_type": f, "count": n, "customers": people,
                     "per_1000_customers": round(n * 1000 / people, 2) if people else None})
    # The series per day: from the cube without the area unless one is asked for.
    where = _where(user, "fault_days" if not area else "faults", date_from, date_to,
                   department_id, area=area, fault_type=fault_type)
    starts, series = _series(_rows(
        select(_rd.c.day, _rd.c.fault_type, func.sum(_rd.c.n)).where(*where)
        .group_by(_rd.c.day, _rd.c.fault_type)), date_from, date_to, bucket)
    return {"rows": rows, "total": sum(r["count"] for r in rows), "bucket": bucket,
            "periods": [s.isoformat() for s in starts],
            "series": [{"name": name, "values": values}
                       for name, values in sorted(series.items())]}


# -- repair statistics ---------------------------------------------------------------------

def repairs_report(user, *, date_from, date_to, department_id=None) -> dict:
    """Repairs reported done per team: count, mean time from the call to the repair, and the
    share done within the resolution deadline (of those that had one)."""
    where = _where(user, "repairs", date_from, date_to, department_id)
    found = _rows(select(_rd.c.department_id, func.sum(_rd.c.n), func.sum(_rd.c.minutes),
                         func.sum(_rd.c.with_sla), func.sum(_rd.c.met))
                  .where(*where).group_by(_rd.c.department_id))
    names = department_names({row[0] for row in found})
    rows = []
    for dept, n, minutes, with_sla, met in found:
        if not n:
            continue
        rows.append({"department_id": dept or None, "department": names.get(dept, ""),
                     "count": int(n), "mean_minutes_to_repair": round(minutes / n, 1),
                     "with_sla": int(with_sla), "within_sla": int(met),
                     "share_within_sla": _share(met, with_sla)})
    rows.sort(key=lambda r: (-r["count"], r["department"]))
    n = sum(r["count"] for r in rows)
    with_sla = sum(r["with_sla"] for r in rows)
    totals = {"count": n, "mean_minutes_to_repair": round(
        sum(r["mean_minutes_to_repair"] * r["count"] for r in rows) / n, 1) if n else None,
        "with_sla": with_sla, "within_sla": sum(r["within_sla"] for r in rows),
        "share_within_sla": _share(sum(r["within_sla"] for r in rows), with_sla)}
    return {"rows": rows, "totals": totals}


# -- SLA compliance --------------------------------------------------------------------------

def sla_report(user, *, date_from, date_to, clock=None, kind=None, department_id=None,
               bucket="week") -> dict:
    """SLA clocks finished in the period per clock and department: how many met their
    deadline; and the compliance per clock over time."""
    where = _where(user, "sla", date_from, date_to, department_id, clock=clock, kind=kind)
    found = _rows(select(_rd.c.clock, _rd.c.department_id, func.sum(_rd.c.n),
                         func.sum(_rd.c.met), func.sum(_rd.c.minutes))
                  .where(*where).group_by(_rd.c.clock, _rd.c.department_id))
    names = department_names({row[1] for row in found})
    rows = []
    for clock_, dept, n, met, minutes in found:
        if not n:
            continue
        rows.append({"clock": clock_, "department_id": dept or None,
                     "department": names.get(dept, ""), "finished": int(n), "met": int(met),
                     "breached": int(n - met), "compliance": _share(met, n),
                     "mean_business_minutes": round(minutes / n, 1)})
    rows.sort(key=lambda r: (r["clock"], -r["finished"], r["department"]))
    per_day = _rows(select(_rd.c.day, _rd.c.clock, func.sum(_rd.c.n), func.sum(_rd.c.met))
                    .where(*where).group_by(_rd.c.day, _rd.c.clock))
    starts, finished = _series([(d, c, int(n)) for d, c, n, _m in per_day], date_from,
                               date_to, bucket)
    _starts, met = _series([(d, c, int(m)) for d, c, _n, m in per_day], date_from, date_to,
                           bucket)
    series = [{"name": name, "values": [_share(m, f) for m, f in zip(met[name], values)]}
              for name, values in sorted(finished.items())]
    n = sum(r["finished"] for r in rows)
    met_total = sum(r["met"] for r in rows)
    return {"rows": rows, "totals": {"finished": n, "met": met_total,
                                     "breached": n - met_total,
                                     "compliance": _share(met_total, n)},
            "bucket": bucket, "periods": [s.isoformat() for s in starts], "series": series}


# -- satisfaction ----------------------------------------------------------------------------

def _mean(total, n):
    return round(total / n, 2) if n else None


def satisfaction_report(user, *, date_from, date_to, kind=None, department_id=None,
                        bucket="week") -> dict:
    """Callback surveys recorded in the period per department (the ticket's when surveyed):
    how many, the mean score of each dimension, the share satisfied; and the mean overall
    score over time."""
    where = _where(user, "satisfaction", date_from, date_to, department_id, kind=kind)
    found = _rows(select(_rd.c.department_id, _rd.c.clock, func.sum(_rd.c.n),
                         func.sum(_rd.c.minutes), func.sum(_rd.c.met))
                  .where(*where).group_by(_rd.c.department_id, _rd.c.clock))
    cells: dict = defaultdict(dict)
    for dept, clock, n, scores, met in found:
        cells[dept][clock] = (int(n or 0), float(scores or 0), int(met or 0))
    names = department_names(set(cells) - {0})
    rows = [_satisfaction_row(measures, department_id=dept or None,
                              department=names.get(dept, "")) for dept, measures in
            cells.items() if measures.get(RESULT, (0,))[0]]
    rows.sort(key=lambda r: (-r["surveys"], r["department"]))
    totals: dict = {}
    for measures in cells.values():
        for clock, (n, scores, met) in measures.items():
            before = totals.get(clock, (0, 0.0, 0))
            totals[clock] = (before[0] + n, before[1] + scores, before[2] + met)
    per_day = _rows(select(_rd.c.day, func.sum(_rd.c.n), func.sum(_rd.c.minutes))
                    .where(*where, _rd.c.clock == "overall").group_by(_rd.c.day))
    starts, n_of = _series([(d, "n", int(n)) for d, n, _m in per_day], date_from, date_to,
                           bucket)
    _starts, sum_of = _series([(d, "n", float(m)) for d, _n, m in per_day], date_from,
                              date_to, bucket)
    values = [_mean(total, n) for total, n in zip(sum_of.get("n", [0] * len(starts)),
                                                  n_of.get("n", [0] * len(starts)))]
    return {"rows": rows, "totals": _satisfaction_row(totals), "bucket": bucket,
            "periods": [start.isoformat() for start in starts],
            "series": [{"name": "overall", "values": values}]}


def _satisfaction_row(measures: dict, **label) -> dict:
    n, _scores, satisfied = measures.get(RESULT, (0, 0.0, 0))
    row = {**label, "surveys": n, "satisfied": satisfied,
           "share_satisfied": _share(satisfied, n)}
    for dimension in DIMENSIONS:
        count, scores, _met = measures.get(dimension, (0, 0.0, 0))
        row[f"mean_{dimension}"] = _mean(scores, count)
    return row


# -- callback query ------------------------------------------------------------------------

def callback_report(user, *, date_from, date_to, cursor=None, limit=50, **filters):
    """One page of the callbacks made when tickets closed in the period (the callback query
    of the callbacks area, cut to the user's department): (rows, next_cursor)."""
    from ticketing.callbacks.queries import callback_page
    scope = department_scope(user)
    return callback_page(**filters, **_callback_range(date_from, date_to), department_id=scope,
                         cursor=cursor, limit=limit)


def callback_export_statement(user, *, date_from, date_to, **filters):
    """The whole callback report as one statement of plain columns, soonest due first, to be
    streamed (callbacks.queries.EXPORT_COLUMNS order)."""
    from ticketing.callbacks.queries import callback_export_statement as statement
    filters.pop("cursor", None)
    filters.pop("limit", None)
    return statement(**filters, **_callback_range(date_from, date_to),
                     department_id=department_scope(user))


def _callback_range(date_from, date_to) -> dict:
    return {"date_from": day_start(date_from), "date_to": day_start(date_to + timedelta(days=1))}


# -- ticket query ----------------------------------------------------------------------------

def _created_range(date_from, date_to) -> dict:
    return {"created_from": day_start(date_from),
            "created_to": day_start(date_to + timedelta(days=1))}


def ticket_report(user, *, date_from, date_to, **filters):
    """One page of the tickets opened in the period that the user may see (the ticket list's
    rule and filters, its text search included): (rows, next_cursor)."""
    return ticket_queries.ticket_rows(user, **_created_range(date_from, date_to), **filters)


TICKET_EXPORT_COLUMNS = ("number", "kind", "state", "priority", "channel", "category",
                         "fault_type", "account_no", "customer", "caller_phone",
                         "caller_name", "department", "assignee", "created_at",
                         "first_response_at", "closed_at", "description")


def ticket_export_statement(user, *, date_from, date_to, **filters):
    """The whole ticket report as one statement of plain columns, newest first, to be
    streamed (TICKET_EXPORT_COLUMNS order)."""
    customers, departments = Customer.__table__, Department.__table__
    assignees = User.__table__.alias("assignee")
    t = Ticket.__table__
    filters.pop("cursor", None)
    filters.pop("limit", None)
    where = ticket_queries.list_conditions(user, **_created_range(date_from, date_to),
                                           **filters)
    return (select(t.c.number, t.c.kind, t.c.state, t.c.priority, t.c.channel, t.c.category,
                   t.c.fault_type, customers.c.account_no, customers.c.name, t.c.caller_phone,
                   t.c.caller_name, departments.c.name, assignees.c.username, t.c.created_at,
                   t.c.first_response_at, t.c.closed_at, t.c.description)
            .select_from(t.outerjoin(customers, customers.c.id == t.c.customer_id)
                         .outerjoin(departments, departments.c.id == t.c.department_id)
                         .outerjoin(assignees, assignees.c.id == t.c.assignee_id))
            .where(*where).order_by(t.c.created_at.desc(), t.c.id.desc()))


# -- customer detail -------------------------------------------------------------------------

def customer_report(user, *, customer_id=None, account_no=None, date_from=None,
                    date_to=None) -> dict:
    """A customer with every ticket of theirs the user's figures cover (newest first, at
    most CUSTOMER_TICKETS_SHOWN) and each ticket's history. 404 when there is no such
    customer."""
    from flask_babel import gettext as _
    stmt = select(Customer)
    stmt = stmt.where(Customer.id == customer_id) if customer_id is not None \
        else stmt.where(Customer.account_no == account_no)
    customer = db.session.scalar(stmt)
    if customer is None:
        raise ApiError(404, "not_found", _("No such customer."))
    where = [Ticket.customer_id == customer.id]
    scope = department_scope(user)
    if scope is not None:
        where.append(Ticket.department_id == scope)
    if date_from is not None:
        where.append(Ticket.created_at >= day_start(date_from))
    if date_to is not None:
        where.append(Ticket.created_at < day_start(date_to + timedelta(days=1)))
    tickets = list(db.session.scalars(select(Ticket).where(*where).order_by(
        Ticket.created_at.desc(), Ticket.id.desc()).limit(CUSTOMER_TICKETS_SHOWN + 1)))
    truncated = len(tickets) > CUSTOMER_TICKETS_SHOWN
    tickets = tickets[:CUSTOMER_TICKETS_SHOWN]
    history = defaultdict(list)
    if tickets:
        for row in db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id.in_([t.id for t in tickets])).order_by(TicketEvent.id)):
            history[row.ticket_id].append(row)
    counts: dict = defaultdict(int)
    for ticket in tickets:
        counts[ticket.kind] += 1
    return {"customer": customer,
            "tickets": [{"ticket": t, "history": history[t.id]} for t in tickets],
            "counts": dict(counts), "truncated": truncated}
