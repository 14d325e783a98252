"""Schemas of the callbacks API: each validates input, shapes output and documents OpenAPI."""
from datetime import timezone

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ticketing.apiutil import MAX_ID, ApiErrorSchema
from ticketing.auth.schemas import UserRefSchema
from ticketing.callbacks.models import DIMENSIONS
from ticketing.callbacks.operations import MAX_MINUTES
from ticketing.callbacks.queries import STATUS_FILTERS
from ticketing.tickets.operations import TEXT_LIMIT
from workflows.tickets import KINDS

SCORE = validate.Range(min=1, max=5, error="Give a score from 1 to 5.")


def _score(description: str):
    return fields.Integer(strict=True, allow_none=True, load_default=None, validate=SCORE,
                          metadata={"description": description})


class CallbackConflictSchema(ApiErrorSchema):
    """409: no_open_callback, not_yet_due, taken, stale_version."""

    current_version = fields.Integer(metadata={"description": "stale_version: reload it"})
    not_before = fields.DateTime(metadata={"description": "not_yet_due: when to try again"})
    agent_id = fields.Integer(metadata={"description": "taken: who holds the callback"})


class CallbackQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUS_FILTERS),
                           metadata={"description": "due, overdue, waiting (retry not due "
                                                    "yet), done, unreachable, superseded"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    agent_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    ticket_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    date_from = fields.AwareDateTime(default_timezone=timezone.utc,
                                     metadata={"description": "created (closed) at or after"})
    date_to = fields.AwareDateTime(default_timezone=timezone.utc,
                                   metadata={"description": "created (closed) before"})
    cursor = fields.String(validate=validate.Length(max=200),
                           metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CallbackTicketSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    state = fields.String()
    version = fields.Integer()


class AttemptSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    at = fields.DateTime()
    actor = fields.Nested(UserRefSchema, allow_none=True)
    reached = fields.Boolean()
    note = fields.String()
    overall = fields.Integer(allow_none=True)
    attitude = fields.Integer(allow_none=True, metadata={"description": "服务态度"})
    standard = fields.Integer(allow_none=True, metadata={"description": "服务规范"})
    effect = fields.Integer(allow_none=True, metadata={"description": "服务效果"})
    comment = fields.String()
    satisfied = fields.Boolean(allow_none=True)
    reopen_event_id = fields.Integer(allow_none=True,
                                     metadata={"description": "the reopening it caused"})


class CallbackSchema(Schema):
    id = fields.Integer()
    ticket = fields.Nested(CallbackTicketSchema)
    round = fields.Integer(metadata={"description": "the ticket's reopen count at closing"})
    kind = fields.String()
    status = fields.String(metadata={"description": "pending, done, unreachable, superseded"})
    overdue = fields.Method("_overdue", metadata={"type": "boolean",
                                                  "description": "pending and past due_at"})
    created_at = fields.DateTime()
    not_before = fields.DateTime(metadata={"description": "the next attempt may start"})
    due_at = fields.DateTime(metadata={"description": "the next attempt is due"})
    attempts = fields.Integer()
    agent = fields.Nested(UserRefSchema, allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    result = fields.String(allow_none=True, metadata={"description": "satisfied, unsatisfied"})
    overall = fields.Integer(allow_none=True)
    attitude = fields.Integer(allow_none=True)
    standard = fields.Integer(allow_none=True)
    effect = fields.Integer(allow_none=True)
    comment = fields.String()
    version = fields.Integer(metadata={"description": "send it back with an attempt"})

    def _overdue(self, callback) -> bool:
        from ticketing.clock import utcnow
        return callback.is_overdue(utcnow())


class CallbackDetailSchema(CallbackSchema):
    attempt_rows = fields.List(fields.Nested(AttemptSchema), data_key="attempt_list")


class CallbackPageSchema(Schema):
    items = fields.List(fields.Nested(CallbackSchema))
    next_cursor = fields.String(allow_none=True)


class AttemptCreateSchema(Schema):
    reached = fields.Boolean(required=True)
    version = fields.Integer(required=True, strict=True,
                             validate=validate.Range(min=0, max=MAX_ID),
                             metadata={"description": "the callback's version you read"})
    note = fields.String(load_default="", validate=validate.Length(max=TEXT_LIMIT))
    overall = _score("overall satisfaction, 1-5")
    attitude = _score("service attitude 服务态度, 1-5")
    standard = _score("service standard 服务规范, 1-5")
    effect = _score("service effect 服务效果, 1-5")
    comment = fields.String(load_default="", validate=validate.Length(max=TEXT_LIMIT))

    @validates_schema
    def _scores_when_reached(self, data, **_kwargs):
        if data.get("reached"):
            missing = {d: [_("Give a score from 1 to 5.")] for d in DIMENSIONS
                       if data.get(d) is None}
            if missing:
                raise ValidationError(missing)


class AttemptResultSchema(Schema):
    callback = fields.Nested(CallbackDetailSchema)
    attempt = fields.Nested(AttemptSchema)


class SettingsSchema(Schema):
    kinds = fields.List(fields.String(validate=validate.OneOf(KINDS)), required=True,
                        metadata={"description": "kinds whose closing makes a callback"})
    due_minutes = fields.Dict(keys=fields.String(validate=validate.OneOf(KINDS)),
                              values=fields.Integer(strict=True, validate=validate.Range(
                                  min=1, max=MAX_MINUTES)), required=True,
                              metadata={"description": "business minutes until due, per kind"})
    retry_minutes = fields.Integer(required=True, strict=True,
                                   validate=validate.Range(min=1, max=MAX_MINUTES),
                                   metadata={"description": "business minutes before a retry"})
    max_attempts = fields.Integer(required=True, strict=True,
                                  validate=validate.Range(min=1, max=20))
    threshold = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5),
                               metadata={"description": "a score below it is unsatisfied"})
    calendar_id = fields.Integer(allow_none=True, load_default=None, strict=True,
                                 validate=validate.Range(min=1, max=MAX_ID))
    version = fields.Integer(required=True, strict=True,
                             validate=validate.Range(min=0, max=MAX_ID),
                             metadata={"description": "the version you read"})
