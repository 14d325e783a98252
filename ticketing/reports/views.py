"""Pages: the reports with their date range and filters, a chart where a picture is clearer
than a table, and CSV export (the ticket report's streams, in constant memory)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from ticketing.auth.models import User
from ticketing.auth.permissions import permission_required
from ticketing.clock import utcnow
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.faults.labels import fault_label, fault_labels
from ticketing.reports import charts, queries
from ticketing.reports import schemas as s
from ticketing.reports.operations import report_zone
from ticketing.tickets.labels import (CHANNEL_LABELS, KIND_LABELS, PRIORITY_LABELS,
                                      STATUS_LABELS, state_label)
from ticketing.tickets.queries import STATE_FILTERS
from ticketing.timers.labels import CLOCK_LABELS

bp = Blueprint("reports", __name__, url_prefix="/reports")

TITLES = {
    "tickets": _l("Ticket query"),
    "customer": _l("Customer detail"),
    "repairs": _l("Repair statistics"),
    "faults": _l("Fault rates"),
    "summary": _l("Ticket summary"),
    "calls": _l("Call types"),
    "sla": _l("SLA compliance"),
    "satisfaction": _l("Satisfaction by dimension"),
    "callbacks": _l("Callback records"),
}
DESCRIPTIONS = {
    "tickets": _l("Tickets opened in the period, filtered on any field and by text."),
    "customer": _l("One customer's record and every ticket with its history."),
    "repairs": _l("Repairs reported done per team: count, mean time to repair, share within "
                  "the resolution deadline."),
    "faults": _l("Faults per customer area and fault category, per 1,000 customers, over "
                 "time."),
    "summary": _l("Tickets opened in the period by kind, state, status, department or day."),
    "calls": _l("Calls per kind and call type."),
    "sla": _l("SLA clocks finished in the period: deadlines met and breached."),
    "satisfaction": _l("Callback surveys recorded in the period per department: the mean "
                       "score of each dimension and the share satisfied."),
    "callbacks": _l("Callbacks made when tickets closed in the period, with their scores "
                    "and result."),
}
QUERY_SCHEMAS = {
    "tickets": s.TicketsQuerySchema, "customer": s.CustomerQuerySchema,
    "repairs": s.RepairsQuerySchema, "faults": s.FaultsQuerySchema,
    "summary": s.SummaryQuerySchema, "calls": s.CallsQuerySchema, "sla": s.SlaQuerySchema,
    "satisfaction": s.SatisfactionQuerySchema, "callbacks": s.CallbacksQuerySchema,
}
BY_LABELS = {"kind": _l("Kind"), "state": _l("State"), "status": _l("Status"),
             "department": _l("Department"), "day": _l("Day")}
BUCKET_LABELS = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month")}
# Table and CSV columns of the aggregate reports: (key, header, how to show it).
COLUMNS = {
    "summary": [("label", _l("Group"), "text"), ("count", _l("Tickets"), "int")],
    "calls": [("kind", _l("Kind"), "kind"), ("category", _l("Call type"), "text"),
              ("count", _l("Calls"), "int"), ("share", _l("Share"), "percent")],
    "faults": [("area", _l("Area"), "text"), ("fault_type", _l("Fault category"), "fault"),
               ("count", _l("Faults"), "int"), ("customers", _l("Customers"), "int"),
               ("per_1000_customers", _l("Per 1,000 customers"), "number")],
    "repairs": [("department", _l("Team"), "text"), ("count", _l("Repairs"), "int"),
                ("mean_minutes_to_repair", _l("Mean time to repair (minutes)"), "number"),
                ("with_sla", _l("With a deadline"), "int"),
                ("within_sla", _l("Within the deadline"), "int"),
                ("share_within_sla", _l("Share within the deadline"), "percent")],
    "sla": [("clock", _l("Clock"), "clock"), ("department", _l("Department"), "text"),
            ("finished", _l("Finished"), "int"), ("met", _l("Met"), "int"),
            ("breached", _l("Breached"), "int"), ("compliance", _l("Compliance"), "percent"),
            ("mean_business_minutes", _l("Mean business minutes"), "number")],
    "satisfaction": [("department", _l("Department"), "text"),
                     ("surveys", _l("Surveys"), "int"),
                     ("mean_overall", _l("Overall"), "score"),
                     ("mean_attitude", _l("Service attitude"), "score"),
                     ("mean_standard", _l("Service standard"), "score"),
                     ("mean_effect", _l("Service effect"), "score"),
                     ("share_satisfied", _l("Share satisfied"), "percent")],
}
# The callback report's table and CSV columns.
CALLBACK_HEADERS = {
    "number": _l("Ticket"), "kind": _l("Kind"), "created_at": _l("Closed"),
    "due_at": _l("Due"), "status": _l("Status"), "attempts": _l("Attempts"),
    "agent": _l("Callback agent"), "done_at": _l("Done"), "result": _l("Result"),
    "overall": _l("Overall"), "attitude": _l("Service attitude"),
    "standard": _l("Service standard"), "effect": _l("Service effect"),
    "comment": _l("Comment"),
}
CUSTOMER_COLUMNS = [("number", _l("Number")), ("kind", _l("Kind")), ("state", _l("State")),
                    ("department", _l("Department")), ("created_at", _l("Opened")),
                    ("closed_at", _l("Closed")), ("events", _l("History entries")),
                    ("description", _l("Description"))]
TICKET_HEADERS = {
    "number": _l("Number"), "kind": _l("Kind"), "state": _l("State"),
    "priority": _l("Priority"), "channel": _l("Channel"), "category": _l("Call type"),
    "fault_type": _l("Fault category"), "account_no": _l("Account"),
    "customer": _l("Customer"), "caller_phone": _l("Caller phone"),
    "caller_name": _l("Caller name"), "department": _l("Department"),
    "assignee": _l("Assignee"), "created_at": _l("Opened"),
    "first_response_at": _l("First response"), "closed_at": _l("Closed"),
    "description": _l("Description"),
}
CSV_CHUNK_ROWS = 2000
CALLBACK_CHUNK_ROWS = 2000


def show(value, how: str) -> str:
    """A figure as the table and the CSV show it."""
    if value is None:
        return "—" if how != "csv" else ""
    if how == "percent":
        return f"{value * 100:.1f}%"
    if how == "number":
        return f"{value:,.1f}"
    if how == "score":
        return f"{value:.2f}"
    if how == "int":
        return f"{value:,}"
    if how == "kind":
        return str(KIND_LABELS.get(value, value))
    if how == "clock":
        return str(CLOCK_LABELS.get(value, value))
    if how == "fault":  # a category's code, by its name
        return fault_label(value)
    return str(value)


def _csv_value(value, how: str):
    if value is None:
        return ""
    if how in ("kind", "clock", "fault"):
        return show(value, how)
    if how == "score":
        return round(value, 2)
    if how == "percent":
        return round(value * 100, 1)
    return value


def _departments() -> list[tuple[int, str]]:
    """The departments a user may pick: every one, or only their own."""
    scope = queries.department_scope(current_user)
    return sorted(queries.department_names(None if scope is None else [scope]).items())


def _choices(mapping) -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in mapping.items()]


def _filters(name: str) -> list[dict]:
    """The form fields of a report's page besides the date range."""
    kinds = {"name": "kind", "label": _("Kind"), "choices": _choices(KIND_LABELS)}
    department = {"name": "department_id", "label": _("Department"),
                  "choices": [(str(i), label) for i, label in _departments()]}
    bucket = {"name": "bucket", "label": _("Period"), "choices": _choices(BUCKET_LABELS),
              "required": True}
    statuses = {"name": "status", "label": _("Status"), "choices": _choices(STATUS_LABELS)}
    if name == "summary":
        return [{"name": "by", "label": _("Group by"), "choices": _choices(BY_LABELS),
                 "required": True}, kinds, statuses, department]
    if name == "calls":
        return [kinds, {"name": "channel", "label": _("Channel"),
                        "choices": _choices(CHANNEL_LABELS)}, department]
    if name == "faults":
        return [{"name": "area", "label": _("Area")},
                {"name": "fault_type", "label": _("Fault category")}, department, bucket]
    if name == "repairs":
        return [dict(department, label=_("Team"))]
    if name == "sla":
        return [{"name": "clock", "label": _("Clock"), "choices": _choices(CLOCK_LABELS)},
                kinds, department, bucket]
    if name == "satisfaction":
        return [kinds, department, bucket]
    if name == "callbacks":
        from ticketing.callbacks.queries import STATUS_FILTERS
        from ticketing.callbacks.views import STATUS_LABELS as CALLBACK_STATUS_LABELS
        return [{"name": "status", "label": _("Status"),
                 "choices": [(st, str(CALLBACK_STATUS_LABELS.get(st, st)))
                             for st in STATUS_FILTERS]},
                kinds,
                {"name": "agent_id", "label": _("Callback agent"),
                 "choices": [(str(i), label) for i, label in _callback_agents()]}]
    if name == "tickets":
        return [kinds,
                {"name": "state", "label": _("State"),
                 "choices": [(st, str(state_label(st))) for st in STATE_FILTERS]},
                statuses,
                {"name": "priority", "label": _("Priority"),
                 "choices": _choices(PRIORITY_LABELS)},
                {"name": "channel", "label": _("Channel"), "choices": _choices(CHANNEL_LABELS)},
                {"name": "category", "label": _("Call type")},
                {"name": "fault_type", "label": _("Fault category")},
                department,
                {"name": "customer_id", "label": _("Customer id"), "type": "number"},
                {"name": "text", "label": _("Text"), "type": "search", "grow": True}]
    return [{"name": "customer_id", "label": _("Customer id"), "type": "number"},
            {"name": "account_no", "label": _("Account")}]


def _callback_agents() -> list[tuple[int, str]]:
    """The active users who may work callbacks (the callback report's agent filter)."""
    from ticketing.auth.models import RolePermission, user_roles
    rows = db.session.execute(
        select(User.id, User.username, User.full_name).distinct()
        .join(user_roles, user_roles.c.user_id == User.id)
        .join(RolePermission, RolePermission.role_id == user_roles.c.role_id)
        .where(RolePermission.permission == "callbacks.work", User.active.is_(True))
        .order_by(User.username))
    return [(i, full_name or username) for i, username, full_name in rows]


def _parse(name: str) -> tuple[dict | None, dict]:
    """(arguments or None, field errors) from the query string; empty fields mean "any"."""
    given = {key: value for key, value in request.args.items() if value.strip() != ""}
    try:
        return QUERY_SCHEMAS[name]().load(given), {}
    except ValidationError as error:
        return None, error.normalized_messages()


def _chart(name: str, result: dict):
    if name == "summary":
        if result["by"] == "day":
            return charts.line_chart(
                [row["key"] for row in result["rows"]],
                [{"name": _("Tickets"), "values": [row["count"] for row in result["rows"]]}])
        return charts.bar_chart([(row["label"], row["count"], show(row["count"], "int"))
                                 for row in result["rows"][:20]])
    if name == "calls":
        return charts.bar_chart([(f"{show(row['kind'], 'kind')} · {row['category'] or '—'}",
                                  row["count"], show(row["count"], "int"))
                                 for row in result["rows"][:20]])
    if name == "faults":
        return charts.line_chart(result["periods"], [
            {"name": show(series["name"], "fault"), "values": series["values"]}
            for series in result["series"]])
    if name == "repairs":
        return charts.bar_chart([(row["department"] or "—", row["share_within_sla"],
                                  show(row["share_within_sla"], "percent"))
                                 for row in result["rows"]])
    if name == "sla":
        return charts.line_chart(result["periods"], [
            {"name": show(series["name"], "clock"), "values": series["values"]}
            for series in result["series"]], percent=True)
    if name == "satisfaction":
        return charts.line_chart(result["periods"], [
            {"name": _("Mean overall score"), "values": series["values"]}
            for series in result["series"]], top=5)
    return None


def _unknown(name: str):
    return render_template("error.html", status=400, code="unknown_report",
                           message=_("There is no report %(name)s.", name=name[:60]),
                           extra={}), 400


@bp.route("")
@permission_required("reports.view")
def index():
    return render_template("reports/index.html", titles=TITLES, descriptions=DESCRIPTIONS)


@bp.route("/<string:name>")
@permission_required("reports.view")
def report(name):
    if name not in QUERY_SCHEMAS:
        return _unknown(name)
    args, errors = _parse(name)
    context = {"name": name, "title": TITLES[name], "description": DESCRIPTIONS[name],
               "filters": _filters(name), "values": request.args, "errors": errors,
               "scope": queries.department_scope(current_user)}
    if name == "customer" and not request.args:
        return render_template("reports/customer.html", **context, result=None)
    if args is None:
        return render_template(f"reports/{_template(name)}", **context, result=None), 400
    context["args"] = args
    try:
        if name == "tickets":
            rows, next_cursor = queries.ticket_report(current_user, **args)
            return render_template("reports/tickets.html", **context, rows=rows,
                                   next_cursor=next_cursor, result=True)
        if name == "customer":
            return render_template("reports/customer.html", **context,
                                   result=queries.customer_report(current_user, **args))
        if name == "callbacks":
            rows, next_cursor = queries.callback_report(current_user, **args)
            return render_template("reports/callbacks.html", **context, rows=rows,
                                   next_cursor=next_cursor, result=True, now=utcnow())
    except ApiError as error:
        if error.status != 400:
            raise
        context["errors"] = error.extra.get("fields") or {"": [error.message]}
        return render_template(f"reports/{_template(name)}", **context, result=None), 400
    result = _compute(name, args)
    return render_template("reports/aggregate.html", **context, result=result,
                           columns=COLUMNS[name], chart=_chart(name, result), show=show)


def _template(name: str) -> str:
    return {"tickets": "tickets.html", "customer": "customer.html",
            "callbacks": "callbacks.html"}.get(name, "aggregate.html")


def _compute(name: str, args: dict) -> dict:
    report_fn = {"summary": queries.summary_report, "calls": queries.calls_report,
                 "faults": queries.faults_report, "repairs": queries.repairs_report,
                 "sla": queries.sla_report, "satisfaction": queries.satisfaction_report}[name]
    return report_fn(current_user, **args)


# -- CSV ---------------------------------------------------------------------------------

def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _local(value):
    if isinstance(value, datetime):
        return value.astimezone(report_zone()).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else value


def _filename(name: str, args: dict) -> str:
    first, last = args.get("date_from"), args.get("date_to")
    span = f"-{first:%Y%m%d}-{last:%Y%m%d}" if isinstance(first, date) and last else ""
    return f"report-{name}{span}.csv"


def _csv_response(body, name: str, args: dict) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(name, args)}"'
    return response


@bp.route("/<string:name>/export.csv")
@permission_required("reports.view")
def export(name):
    if name not in QUERY_SCHEMAS:
        return _unknown(name)
    args, errors = _parse(name)
    if args is None:
        return render_template("error.html", status=400, code="invalid_input",
                               message="; ".join(f"{field}: {' '.join(map(str, msgs))}"
                                                 for field, msgs in errors.items()),
                               extra={}), 400
    if name == "tickets":
        return _csv_response(stream_with_context(_stream_tickets(args)), name, args)
    if name == "callbacks":
        return _csv_response(stream_with_context(_stream_callbacks(args)), name, args)
    if name == "customer":
        result = queries.customer_report(current_user, **args)
        lines = [_csv_line(str(label) for _key, label in CUSTOMER_COLUMNS)]
        for item in result["tickets"]:
            t = item["ticket"]
            lines.append(_csv_line([
                t.number, show(t.kind, "kind"), str(state_label(t.state)),
                t.department.name if t.department else "", _local(t.created_at),
                _local(t.closed_at), len(item["history"]), t.description]))
        return _csv_response("\ufeff" + "".join(lines), name, args)
    result = _compute(name, args)
    lines = [_csv_line(str(label) for _key, label, _how in COLUMNS[name])]
    for row in result["rows"]:
        lines.append(_csv_line(_csv_value(row.get(key), how) for key, _l2, how in COLUMNS[name]))
    return _csv_response("\ufeff" + "".join(lines), name, args)


def _stream_tickets(args: dict):
    """The whole ticket report, CSV_CHUNK_ROWS rows at a time from a server-side cursor: the
    memory used does not grow with the number of rows."""
    stmt = queries.ticket_export_statement(current_user, **args)
    names = queries.TICKET_EXPORT_COLUMNS
    kinds = {key: show(key, "kind") for key in KIND_LABELS}
    states = {}
    faults, fault_names = names.index("fault_type"), fault_labels()
    yield "\ufeff" + _csv_line(str(TICKET_HEADERS[n]) for n in names)
    with db.engine.connect() as connection:
        result = connection.execution_options(stream_results=True,
                                              yield_per=CSV_CHUNK_ROWS).execute(stmt)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for chunk in result.partitions():
            for row in chunk:
                values = [_local(v) for v in row]
                values[1] = kinds.get(values[1], values[1])
                state = values[2]
                if state not in states:
                    states[state] = str(state_label(state))
                values[2] = states[state]
                fault = values[faults]
                values[faults] = fault_names.get(fault, fault) if fault else ""
                writer.writerow(values)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()


def _stream_callbacks(args: dict):
    """The whole callback report, CALLBACK_CHUNK_ROWS rows at a time of plain columns from a
    server-side cursor (like the ticket export): no ORM objects, memory does not grow with the
    number of rows."""
    from ticketing.callbacks.views import RESULT_LABELS, STATUS_LABELS as CALLBACK_STATUS_LABELS
    stmt = queries.callback_export_statement(current_user, **args)
    names = list(CALLBACK_HEADERS)
    kinds = {key: show(key, "kind") for key in KIND_LABELS}
    statuses = {key: str(label) for key, label in CALLBACK_STATUS_LABELS.items()}
    results = {key: str(label) for key, label in RESULT_LABELS.items()}
    yield "\ufeff" + _csv_line(str(CALLBACK_HEADERS[n]) for n in names)
    with db.engine.connect() as connection:
        result = connection.execution_options(stream_results=True,
                                              yield_per=CALLBACK_CHUNK_ROWS).execute(stmt)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for chunk in result.partitions():
            for (number, kind, created_at, due_at, status, attempts, full_name, username,
                 done_at, outcome, *scores, comment) in chunk:
                writer.writerow([
                    number or "", kinds.get(kind, kind), _local(created_at), _local(due_at),
                    statuses.get(status, status), attempts, full_name or username or "",
                    _local(done_at), results[outcome] if outcome else "",
                    *("" if score is None else score for score in scores), comment])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
