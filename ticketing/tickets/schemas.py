"""Schemas of the tickets API: each validates input, shapes output and documents OpenAPI."""
from datetime import timezone

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ticketing.apiutil import MAX_ID, VISIBLE_TEXT
from ticketing.customers.operations import PHONE_PATTERN
from ticketing.auth.schemas import DepartmentRefSchema, UserRefSchema
from ticketing.incidents.schemas import ScreenPopIncidentSchema
from ticketing.tickets.labels import history_note, state_label
from ticketing.tickets.models import CHANNELS, PRIORITIES
from ticketing.tickets.operations import TEXT_LIMIT, event_text_limit
from ticketing.tickets.permissions import (allowed_events_for, event_choices,
                                           unavailable_events_for)
from ticketing.tickets.queries import (MAX_LIMIT, QUEUES, STATE_FILTERS, STATUSES,
                                       TEXT_LIMIT as SEARCH_LIMIT)
from workflows.tickets import EVENTS, KINDS


class TicketCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    customer_id = fields.Integer(strict=True, allow_none=True, load_default=None,
                                 validate=validate.Range(min=1, max=MAX_ID),
                                 metadata={"description": "give this or caller_phone"})
    caller_phone = fields.String(
        load_default="", validate=[validate.Length(max=30),
                                   validate.Regexp(f"^$|{PHONE_PATTERN}")],
        metadata={"description": "give this or customer_id; 5-20 digits, optionally a leading "
                                 "+; spaces, dashes, dots and brackets are ignored"})
    caller_name = fields.String(load_default="", validate=validate.Length(max=100))
    channel = fields.String(load_default="phone", validate=validate.OneOf(CHANNELS))
    category = fields.String(load_default="", validate=validate.Length(max=60))
    title = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(required=True, validate=[
        validate.Length(min=1, max=TEXT_LIMIT), validate.Regexp(VISIBLE_TEXT)])
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES),
                             metadata={"description": "a VIP customer gets at least high"})
    call_id = fields.Integer(strict=True, allow_none=True, load_default=None,
                             validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "the screen pop's call_id: the call "
                                                      "is recorded as leading to this ticket"})


class TicketQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    state = fields.String(validate=validate.OneOf(STATE_FILTERS),
                          metadata={"description": "a leaf (repair_working) or a kind (repair)"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    department_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    assignee_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    customer_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    text = fields.String(validate=validate.Length(max=SEARCH_LIMIT),
                         metadata={"description": "in description, title, number, phone"})
    created_from = fields.AwareDateTime(default_timezone=timezone.utc,
                                        metadata={"description": "inclusive"})
    created_to = fields.AwareDateTime(default_timezone=timezone.utc,
                                      metadata={"description": "exclusive"})
    queue = fields.String(validate=validate.OneOf(QUEUES))
    cursor = fields.String(validate=validate.Length(max=200),
                           metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))


class CustomerRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    account_no = fields.String()
    tier = fields.String()


class TicketSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    state = fields.String()
    state_label = fields.Function(lambda t: str(state_label(t.state)))
    status = fields.String(metadata={"description": "pending, processing, processed, "
                                                    "suspended (derived from state)"})
    version = fields.Integer(metadata={"description": "send it back with a transition"})
    priority = fields.String()
    channel = fields.String()
    category = fields.String()
    title = fields.String()
    description = fields.String()
    customer = fields.Nested(CustomerRefSchema, allow_none=True)
    caller_phone = fields.String()
    caller_name = fields.String()
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    created_by = fields.Nested(UserRefSchema, allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    first_response_at = fields.DateTime(allow_none=True)
    customer_verified_at = fields.DateTime(allow_none=True)
    suspended_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    fault_type = fields.String(allow_none=True)
    incident_ref = fields.String(allow_none=True)
    handling_note = fields.String()
    receipt_person = fields.String()
    customer_satisfaction = fields.Integer(allow_none=True)
    reopen_count = fields.Integer()
    suspended_from = fields.String(allow_none=True)
    suspension_approved = fields.Boolean()


class UnavailableEventSchema(Schema):
    event = fields.String(required=True)
    reasons = fields.List(fields.String(), required=True,
                          metadata={"description": "why, in the reader's language"})
    guards = fields.List(fields.String(), required=True,
                         metadata={"description": "the workflow guards that rule it out"})


class _ComputedList(fields.List):
    """A list computed from the object (documented as a list of `inner`, unlike Function)."""

    def __init__(self, compute, inner, **kwargs):
        super().__init__(inner, dump_only=True, **kwargs)
        self._compute = compute

    def get_value(self, obj, attr, accessor=None, default=None):
        return self._compute(obj)


class TicketDetailSchema(TicketSchema):
    allowed_events = _ComputedList(
        lambda t: allowed_events_for(current_user, t), fields.String(),
        metadata={"description": "events you may fire now, in the workflow's usual order"})
    unavailable_events = _ComputedList(
        lambda t: unavailable_events_for(current_user, t), fields.Nested(UnavailableEventSchema),
        metadata={"description": "events the state allows and your roles grant, but the "
                                 "ticket rules out now (with the reasons)"})


class TicketPageSchema(Schema):
    items = fields.List(fields.Nested(TicketSchema))
    next_cursor = fields.String(allow_none=True,
                                metadata={"description": "null on the last page"})


def _row_dumper(schema_cls: type[Schema]):
    """A function turning TicketRow-like objects into what `schema_cls(many=True).dump`
    gives, without marshmallow's per-field machinery (a list page dumps 50 rows × 36 fields).

    Built from the schema's own fields, so the documented shape and this one cannot drift;
    tests compare the two. Only the field types the ticket schema uses are supported.
    """
    plan = []
    for name, field in schema_cls._declared_fields.items():
        key, attr = field.data_key or name, field.attribute or name
        if isinstance(field, fields.Nested):
            ref_fields = tuple(field.schema.fields)
            plan.append((key, attr, "nested", ref_fields))
        elif isinstance(field, fields.DateTime) and (field.format or "iso") in ("iso",
                                                                                "iso8601"):
            plan.append((key, attr, "datetime", None))
        elif key == "state_label" and isinstance(field, fields.Function):
            plan.append((key, "state", "state_label", None))
        elif type(field) in (fields.String, fields.Integer, fields.Boolean):
            plan.append((key, attr, type(field).__name__, None))
        else:
            raise TypeError(f"{schema_cls.__name__}.{name}: no fast dump for {field!r}")

    def dump(rows) -> list[dict]:
        labels: dict[str, str] = {}
        out = []
        for row in rows:
            item = {}
            for key, attr, how, ref_fields in plan:
                value = getattr(row, attr)
                if value is None:
                    item[key] = None
                elif how == "nested":
                    item[key] = {f: getattr(value, f) for f in ref_fields}
                elif how == "datetime":
                    item[key] = value.isoformat()
                elif how == "state_label":
                    label = labels.get(value)
                    if label is None:
                        label = labels[value] = str(state_label(value))
                    item[key] = label
                elif how == "String":
                    item[key] = value if type(value) is str else str(value)
                elif how == "Integer":
                    item[key] = int(value)
                else:
                    item[key] = bool(value)
            out.append(item)
        return out

    return dump


dump_ticket_rows = _row_dumper(TicketSchema)


def dump_ticket_detail(user, ticket) -> dict:
    """What TicketDetailSchema().dump(ticket) gives for `user`, the answer of every write on
    a ticket: its fields by the fast dump above, and what the user may do asked of the
    workflow once (the schema asks twice, through the current_user proxy). Tests compare
    the two."""
    user = getattr(user, "_get_current_object", lambda: user)()
    item = dump_ticket_rows([ticket])[0]
    item["allowed_events"], item["unavailable_events"] = event_choices(user, ticket)
    return item


class HistorySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.Nested(UserRefSchema, allow_none=True,
                          metadata={"description": "null for the system (timers)"})
    event = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    note = fields.String(metadata={"description": "what the person who acted typed"})
    message = fields.Function(lambda row: history_note(row), metadata={
        "type": "string",
        "description": "the row's text in your language: the note, or what the system "
                       "recorded (an SLA warning, an escalation)"})
    data = fields.Dict()


def _event_field(name: str, meta: dict) -> fields.Field:
    if meta["type"] == "text":
        return fields.String(allow_none=True,
                             validate=validate.Length(max=event_text_limit(name)))
    if meta["type"] == "kind":
        return fields.String(allow_none=True, validate=validate.OneOf(KINDS))
    if "min" in meta:
        return fields.Integer(strict=True, allow_none=True,
                              validate=validate.Range(min=meta["min"], max=meta["max"]))
    return fields.Integer(strict=True, allow_none=True,
                          validate=validate.Range(min=1, max=MAX_ID))


def _event_field_specs() -> dict:
    """Every field any event takes; a name means the same thing for every event."""
    specs: dict = {}
    for meta in EVENTS.values():
        for name, field in meta["fields"].items():
            # kinds narrows which departments an event accepts (fire_event checks it), not
            # what the field is.
            kind = {k: v for k, v in field.items() if k not in ("required", "label", "kinds")}
            if specs.setdefault(name, kind) != kind:
                raise ValueError(f"event field {name} has two meanings: {specs[name]}, {kind}")
    return specs


EVENT_FIELDS = _event_field_specs()

EventFieldsSchema = Schema.from_dict(
    {name: _event_field(name, meta) for name, meta in EVENT_FIELDS.items()}, name="EventFields")


class TransitionSchema(EventFieldsSchema):
    """{"event", "version", ...fields}: the fields flat beside event, or under "fields"."""

    event = fields.String(required=True, validate=validate.OneOf(list(EVENTS)))
    version = fields.Integer(strict=True, required=True,
                             validate=validate.Range(min=0, max=MAX_ID),
                             metadata={"description": "the ticket's version you read"})
    event_fields = fields.Nested(EventFieldsSchema, data_key="fields", load_default=dict,
                                 metadata={"description": "the event's fields, if not flat"})

    @validates_schema
    def _not_twice(self, data, **_kwargs):
        twice = sorted(set(data.get("event_fields") or {}) & set(data))
        if twice:
            raise ValidationError({name: [_("Give this field once, flat or under fields.")]
                                   for name in twice})

    @post_load
    def _gather(self, data, **_kwargs):
        gathered = {name: data.pop(name) for name in list(data) if name in EVENT_FIELDS}
        gathered.update(data.pop("event_fields", None) or {})
        return {"event": data["event"], "version": data["version"], "fields": gathered}


class TransitionResultSchema(Schema):
    ticket = fields.Nested(TicketDetailSchema)
    history = fields.Nested(HistorySchema)


class ScreenPopSchema(Schema):
    phone = fields.String(required=True, validate=[validate.Length(min=1, max=30),
                                                   validate.Regexp(PHONE_PATTERN)],
                          metadata={"description": "5-20 digits, optionally a leading +; "
                                                   "spaces, dashes, dots and brackets are "
                                                   "ignored"})


class ScreenPopCustomerSchema(CustomerRefSchema):
    address = fields.String()
    area = fields.String()
    phones = fields.List(fields.String(), attribute="phone_numbers")


class CallSchema(Schema):
    id = fields.Integer()
    phone = fields.String()
    at = fields.DateTime()
    agent = fields.Nested(UserRefSchema, allow_none=True)
    ticket_id = fields.Integer(allow_none=True)
    ticket_number = fields.Function(lambda call: call.ticket.number if call.ticket else None,
                                    allow_none=True)
    outcome = fields.String(allow_none=True, metadata={"description": "opened (a new ticket), "
                                                                      "linked (to an open "
                                                                      "one), or null"})


class ScreenPopResultSchema(Schema):
    phone = fields.String(metadata={"description": "the number as normalised"})
    call_id = fields.Integer(metadata={"description": "this call, recorded; pass it when "
                                                      "opening a ticket or to link the call "
                                                      "to an open ticket"})
    previous_calls = fields.List(fields.Nested(CallSchema), metadata={
        "description": "this number's calls within the repeat-caller window, newest first"})
    customers = fields.List(fields.Nested(ScreenPopCustomerSchema))
    open_tickets = fields.List(fields.Nested(TicketSchema))
    repeat_caller = fields.Boolean(metadata={"description": "this number called or opened a "
                                                            "ticket within the repeat-caller "
                                                            "window"})
    open_incidents = fields.List(fields.Nested(ScreenPopIncidentSchema), metadata={
        "description": "open incidents in the callers' areas, to link the new repair ticket"})


class WorkflowSchema(Schema):
    states = fields.List(fields.Dict())
    leaves = fields.List(fields.String())
    initial = fields.Dict(keys=fields.String(), values=fields.String())
    display_status = fields.Dict(keys=fields.String(), values=fields.String())
    events = fields.List(fields.Dict())
    labels = fields.Dict(metadata={"description": "translated names of states, statuses, "
                                                  "kinds and events"})
