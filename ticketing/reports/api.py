"""API: `GET /api/v1/reports/<name>`, one documented endpoint per report (SPEC §8)."""
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import RAISE, fields

from ticketing.apiutil import ApiBlueprint, ApiErrorSchema
from ticketing.auth.permissions import permission_required
from ticketing.errors import ApiError
from ticketing.reports import queries
from ticketing.reports import schemas as s
from ticketing.tickets.schemas import dump_ticket_rows

blp = ApiBlueprint("reports_api", __name__, url_prefix="/api/v1/reports",
                   description="Reports (统计报表): figures over a date range, cut to your "
                               "department unless you may see every department")

REPORT_NAMES = ("tickets", "customer", "repairs", "faults", "summary", "calls", "sla",
                "satisfaction", "callbacks")




def _period(args: dict) -> dict:
    return {"date_from": args["date_from"], "date_to": args["date_to"],
            "department_scope": queries.department_scope(current_user)}


def _report(name, query_schema, result_schema, *statuses):
    """Route, arguments (unknown filters refused), response and errors of one report."""

    def decorator(view):
        view = permission_required("reports.view")(view)
        view = blp.errors(400, 401, 403, *statuses)(view)
        view = blp.response(200, result_schema)(view)
        view = blp.arguments(query_schema, location="query", unknown=RAISE)(view)
        return blp.route(f"/{name}", methods=["GET"])(view)

    return decorator


@_report("summary", s.SummaryQuerySchema, s.SummaryResultSchema)
def summary(args):
    """Tickets opened in the period per kind, current state, status, department or day."""
    return {**queries.summary_report(current_user, **args), **_period(args)}


@_report("calls", s.CallsQuerySchema, s.CallsResultSchema)
def calls(args):
    """Calls per kind and call type (category) in the period."""
    return {**queries.calls_report(current_user, **args), **_period(args)}


@_report("faults", s.FaultsQuerySchema, s.FaultsResultSchema)
def faults(args):
    """Faults per customer area × fault category, rate per 1,000 customers, over time."""
    return {**queries.faults_report(current_user, **args), **_period(args)}


@_report("repairs", s.RepairsQuerySchema, s.RepairsResultSchema)
def repairs(args):
    """Repair statistics per team: count, mean time to repair, share within the SLA."""
    return {**queries.repairs_report(current_user, **args), **_period(args)}


@_report("sla", s.SlaQuerySchema, s.SlaResultSchema)
def sla(args):
    """SLA compliance of the clocks finished in the period, per clock and department."""
    return {**queries.sla_report(current_user, **args), **_period(args)}


@_report("satisfaction", s.SatisfactionQuerySchema, s.SatisfactionResultSchema)
def satisfaction(args):
    """Callback surveys recorded in the period per department: surveys, the mean of each
    score (overall 总体, attitude 服务态度, standard 服务规范, effect 服务效果), the share
    satisfied; and the mean overall score per period."""
    return {**queries.satisfaction_report(current_user, **args), **_period(args)}


@_report("callbacks", s.CallbacksQuerySchema, s.CallbacksResultSchema)
def callbacks(args):
    """Callbacks made when tickets closed in the period (回访信息查询), soonest due first, with
    their scores and result; pass next_cursor back as cursor for the next page (CSV:
    /reports/callbacks/export.csv)."""
    rows, next_cursor = queries.callback_report(current_user, **args)
    return {"items": rows, "next_cursor": next_cursor, **_period(args)}


@_report("tickets", s.TicketsQuerySchema, s.TicketsResultSchema)
def tickets(args):
    """Tickets opened in the period, filtered on any field and by text, newest first; pass
    next_cursor back as cursor for the next page (CSV: /reports/tickets/export.csv)."""
    rows, next_cursor = queries.ticket_report(current_user, **args)
    return jsonify({"items": dump_ticket_rows(rows), "next_cursor": next_cursor,
                    **{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                       for k, v in _period(args).items()}})


class _WithHistory:
    """A ticket as CustomerTicketSchema dumps it: its attributes plus its history."""

    def __init__(self, ticket, history):
        self._ticket, self.history = ticket, history

    def __getattr__(self, name):
        return getattr(self._ticket, name)


@_report("customer", s.CustomerQuerySchema, s.CustomerResultSchema, 404)
def customer(args):
    """A customer with their ticket history (each ticket with its timeline); 404 when there
    is no such customer."""
    result = queries.customer_report(current_user, **args)
    result["tickets"] = [_WithHistory(item["ticket"], item["history"])
                         for item in result["tickets"]]
    return {**result, "date_from": args["date_from"], "date_to": args["date_to"],
            "department_scope": queries.department_scope(current_user)}


class UnknownReportSchema(ApiErrorSchema):
    reports = fields.List(fields.String(), metadata={"description": "the reports there are"})


@blp.route("/<string:name>", methods=["GET"])
@blp.response(400, UnknownReportSchema)
@blp.errors(401)
@permission_required()
def unknown_report(name):
    """Any other name: 400 unknown_report, with the names there are."""
    raise ApiError(400, "unknown_report",
                   _("There is no report %(name)s.", name=name[:60]), reports=list(REPORT_NAMES))
