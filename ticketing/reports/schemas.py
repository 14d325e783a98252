"""Schemas of the reports: each query schema validates a report's filters for the API and the
pages alike (unknown filters, reversed or absurd ranges are a 400), and each result schema
documents what `GET /api/v1/reports/<name>` answers."""
from datetime import date, timedelta

from flask_babel import gettext as _
from marshmallow import (RAISE, Schema, ValidationError, fields, post_load, validate,
                         validates_schema)

from ticketing.apiutil import MAX_ID
from ticketing.callbacks.queries import STATUS_FILTERS as CALLBACK_STATUSES
from ticketing.callbacks.schemas import CallbackSchema
from ticketing.customers.schemas import CustomerSchema
from ticketing.reports.queries import BUCKETS, SUMMARY_BY
from ticketing.tickets.models import CHANNELS, PRIORITIES
from ticketing.tickets.queries import MAX_LIMIT, STATE_FILTERS, STATUSES
from ticketing.tickets.queries import TEXT_LIMIT as SEARCH_LIMIT
from ticketing.tickets.schemas import HistorySchema, TicketSchema
from ticketing.timers.models import CLOCKS
from workflows.tickets import KINDS

MAX_RANGE_DAYS = 3 * 366  # three years: longer ranges are a 400, not a slow page
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
DEFAULT_DAYS = 30


def _id(**metadata):
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata=metadata)


class PeriodSchema(Schema):
    """date_from..date_to, whole days in the report time zone, both inclusive; by default the
    last 30 days."""

    class Meta:
        unknown = RAISE

    date_from = fields.Date(metadata={"description": "first day (inclusive); default: 29 "
                                                     "days before date_to"})
    date_to = fields.Date(metadata={"description": "last day (inclusive); default: today"})
    dates_required = True

    @validates_schema
    def _sane_range(self, data, **_kwargs):
        errors = {}
        for name in ("date_from", "date_to"):
            value = data.get(name)
            if value is not None and not EARLIEST <= value <= LATEST:
                errors[name] = [_("Give a day between %(first)s and %(last)s.",
                                  first=EARLIEST.isoformat(), last=LATEST.isoformat())]
        first, last = data.get("date_from"), data.get("date_to")
        if not errors and first and last:
            if first > last:
                errors["date_to"] = [_("The last day comes before the first day.")]
            elif (last - first).days >= MAX_RANGE_DAYS:
                errors["date_to"] = [_("At most %(n)d days at once.", n=MAX_RANGE_DAYS)]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _defaults(self, data, **_kwargs):
        if not self.dates_required and not data.get("date_from") and not data.get("date_to"):
            data["date_from"] = data["date_to"] = None
            return data
        from ticketing.clock import utcnow
        from ticketing.reports.operations import report_day
        if data.get("date_to") is None:
            start = data.get("date_from")
            today = report_day(utcnow())
            data["date_to"] = min(today, start + timedelta(days=DEFAULT_DAYS - 1)) \
                if start and start <= today else (start or today)
        if data.get("date_from") is None:
            data["date_from"] = data["date_to"] - timedelta(days=DEFAULT_DAYS - 1)
        return data


class SummaryQuerySchema(PeriodSchema):
    by = fields.String(load_default="kind", validate=validate.OneOf(SUMMARY_BY))
    kind = fields.String(validate=validate.OneOf(KINDS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    department_id = _id()


class CallsQuerySchema(PeriodSchema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    department_id = _id()


class FaultsQuerySchema(PeriodSchema):
    area = fields.String(validate=validate.Length(max=100))
    fault_type = fields.String(validate=validate.Length(max=60))
    department_id = _id()
    bucket = fields.String(load_default="month", validate=validate.OneOf(BUCKETS))


class RepairsQuerySchema(PeriodSchema):
    department_id = _id(description="the team")


class SlaQuerySchema(PeriodSchema):
    clock = fields.String(validate=validate.OneOf(CLOCKS))
    kind = fields.String(validate=validate.OneOf(KINDS))
    department_id = _id()
    bucket = fields.String(load_default="week", validate=validate.OneOf(BUCKETS))


class SatisfactionQuerySchema(PeriodSchema):
    """The period is the day each survey was recorded."""

    kind = fields.String(validate=validate.OneOf(KINDS))
    department_id = _id(description="the ticket's department when it was surveyed")
    bucket = fields.String(load_default="week", validate=validate.OneOf(BUCKETS))


class CallbacksQuerySchema(PeriodSchema):
    """The period is the day each callback was made (its ticket closed); the filters are the
    callback query's (回访信息查询)."""

    status = fields.String(validate=validate.OneOf(CALLBACK_STATUSES),
                           metadata={"description": "due, overdue, waiting (retry not due "
                                                    "yet), done, unreachable, superseded"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    agent_id = _id(description="the callback agent")
    cursor = fields.String(validate=validate.Length(max=200),
                           metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class TicketsQuerySchema(PeriodSchema):
    """The period is the opening day; every other filter is a ticket field."""

    kind = fields.String(validate=validate.OneOf(KINDS))
    state = fields.String(validate=validate.OneOf(STATE_FILTERS),
                          metadata={"description": "a leaf (repair_working) or a kind"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    category = fields.String(validate=validate.Length(max=60))
    fault_type = fields.String(validate=validate.Length(max=60))
    department_id = _id()
    assignee_id = _id()
    customer_id = _id()
    text = fields.String(validate=validate.Length(max=SEARCH_LIMIT),
                         metadata={"description": "the ticket list's text search"})
    cursor = fields.String(validate=validate.Length(max=200),
                           metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))


class CustomerQuerySchema(PeriodSchema):
    """The customer by id or account number; without dates, their whole history."""

    dates_required = False
    customer_id = _id()
    account_no = fields.String(validate=validate.Length(min=1, max=40))

    @validates_schema
    def _one_customer(self, data, **_kwargs):
        if ("customer_id" in data) == ("account_no" in data):
            raise ValidationError({"customer_id": [_("Give customer_id or account_no.")]})


# -- results -----------------------------------------------------------------------------

class _PeriodResult(Schema):
    date_from = fields.Date()
    date_to = fields.Date()
    department_scope = fields.Integer(allow_none=True, metadata={
        "description": "the only department counted (you may not see every department), "
                       "or null"})


class SummaryRowSchema(Schema):
    key = fields.String(metadata={"description": "kind, state, status, department id or "
                                                 "day"})
    label = fields.String()
    count = fields.Integer()


class SummaryResultSchema(_PeriodResult):
    by = fields.String()
    rows = fields.List(fields.Nested(SummaryRowSchema))
    total = fields.Integer()


class CallsRowSchema(Schema):
    kind = fields.String()
    category = fields.String(metadata={"description": "the call type ('' when none given)"})
    count = fields.Integer()
    share = fields.Float(allow_none=True)


class CallsResultSchema(_PeriodResult):
    rows = fields.List(fields.Nested(CallsRowSchema))
    total = fields.Integer()


class SeriesSchema(Schema):
    name = fields.String()
    values = fields.List(fields.Float(allow_none=True), metadata={
        "description": "one value per period"})


class FaultsRowSchema(Schema):
    area = fields.String()
    fault_type = fields.String()
    count = fields.Integer()
    customers = fields.Integer(metadata={"description": "customers in the area now"})
    per_1000_customers = fields.Float(allow_none=True)


class FaultsResultSchema(_PeriodResult):
    rows = fields.List(fields.Nested(FaultsRowSchema))
    total = fields.Integer()
    bucket = fields.String()
    periods = fields.List(fields.String(metadata={"format": "date"}),
                          metadata={"description": "first day of each period"})
    series = fields.List(fields.Nested(SeriesSchema), metadata={
        "description": "faults per category and period"})


class RepairsRowSchema(Schema):
    department_id = fields.Integer(allow_none=True)
    department = fields.String()
    count = fields.Integer()
    mean_minutes_to_repair = fields.Float(allow_none=True)
    with_sla = fields.Integer(metadata={"description": "repairs that had a deadline"})
    within_sla = fields.Integer()
    share_within_sla = fields.Float(allow_none=True)


class RepairsTotalsSchema(Schema):
    count = fields.Integer()
    mean_minutes_to_repair = fields.Float(allow_none=True)
    with_sla = fields.Integer()
    within_sla = fields.Integer()
    share_within_sla = fields.Float(allow_none=True)


class RepairsResultSchema(_PeriodResult):
    rows = fields.List(fields.Nested(RepairsRowSchema))
    totals = fields.Nested(RepairsTotalsSchema)


class SlaRowSchema(Schema):
    clock = fields.String()
    department_id = fields.Integer(allow_none=True)
    department = fields.String()
    finished = fields.Integer()
    met = fields.Integer()
    breached = fields.Integer()
    compliance = fields.Float(allow_none=True)
    mean_business_minutes = fields.Float(allow_none=True)


class SlaTotalsSchema(Schema):
    finished = fields.Integer()
    met = fields.Integer()
    breached = fields.Integer()
    compliance = fields.Float(allow_none=True)


class SlaResultSchema(_PeriodResult):
    rows = fields.List(fields.Nested(SlaRowSchema))
    totals = fields.Nested(SlaTotalsSchema)
    bucket = fields.String()
    periods = fields.List(fields.String(metadata={"format": "date"}))
    series = fields.List(fields.Nested(SeriesSchema), metadata={
        "description": "compliance per clock and period (null: none finished)"})


class SatisfactionRowSchema(Schema):
    department_id = fields.Integer(allow_none=True)
    department = fields.String()
    surveys = fields.Integer(metadata={"description": "callbacks answered with a survey"})
    mean_overall = fields.Float(allow_none=True, metadata={"description": "总体, 1-5"})
    mean_attitude = fields.Float(allow_none=True, metadata={"description": "服务态度, 1-5"})
    mean_standard = fields.Float(allow_none=True, metadata={"description": "服务规范, 1-5"})
    mean_effect = fields.Float(allow_none=True, metadata={"description": "服务效果, 1-5"})
    satisfied = fields.Integer()
    share_satisfied = fields.Float(allow_none=True)


class SatisfactionTotalsSchema(SatisfactionRowSchema):
    class Meta:
        exclude = ("department_id", "department")


class SatisfactionResultSchema(_PeriodResult):
    rows = fields.List(fields.Nested(SatisfactionRowSchema))
    totals = fields.Nested(SatisfactionTotalsSchema)
    bucket = fields.String()
    periods = fields.List(fields.String(metadata={"format": "date"}))
    series = fields.List(fields.Nested(SeriesSchema), metadata={
        "description": "overall: the mean overall score per period (null: no survey)"})


class CallbacksResultSchema(_PeriodResult):
    items = fields.List(fields.Nested(CallbackSchema))
    next_cursor = fields.String(allow_none=True)


class TicketsResultSchema(_PeriodResult):
    items = fields.List(fields.Nested(TicketSchema))
    next_cursor = fields.String(allow_none=True)


class CustomerTicketSchema(TicketSchema):
    history = fields.List(fields.Nested(HistorySchema))


class CustomerResultSchema(_PeriodResult):
    customer = fields.Nested(CustomerSchema)
    tickets = fields.List(fields.Nested(CustomerTicketSchema))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "tickets per kind"})
    truncated = fields.Boolean(metadata={"description": "more tickets than shown"})
