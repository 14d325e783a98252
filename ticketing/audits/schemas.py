"""Schemas of the audits API: each validates input, shapes output and documents OpenAPI."""
from datetime import timezone

from marshmallow import Schema, fields, validate

from ticketing.apiutil import MAX_ID, VISIBLE_TEXT, ApiErrorSchema
from ticketing.audits.models import DECISIONS, REASONS
from ticketing.audits.operations import MAX_MINUTES, REASON_LIMIT
from ticketing.audits.queries import STATUS_FILTERS
from ticketing.auth.schemas import DepartmentRefSchema, UserRefSchema
from ticketing.callbacks.schemas import CallbackSchema
from workflows.tickets import KINDS

_ID = validate.Range(min=1, max=MAX_ID)
_VERSION = validate.Range(min=0, max=MAX_ID)


def _version(description: str):
    return fields.Integer(strict=True, validate=_VERSION, load_default=None,
                          metadata={"description": description})


class AuditConflictSchema(ApiErrorSchema):
    """409: audit_done, stale_version; on liability: not_a_complaint, no_liability,
    not_justified, appealed, no_appeal, ruled, same_reviewer."""

    current_version = fields.Integer(metadata={"description": "stale_version: reload it"})


class RulesSchema(Schema):
    complaints = fields.Boolean(required=True, metadata={"description": "audit every complaint"})
    unsatisfied_callbacks = fields.Boolean(required=True, metadata={
        "description": "audit every ticket with an unsatisfied callback"})
    sla_breaches = fields.Boolean(required=True, metadata={
        "description": "audit every ticket that missed an SLA deadline"})
    sample_percent = fields.Integer(required=True, strict=True,
                                    validate=validate.Range(min=0, max=100), metadata={
                                        "description": "share of the rest sampled (per cent); "
                                                       "the same ticket and rule version "
                                                       "always decide the same way"})
    due_minutes = fields.Integer(required=True, strict=True,
                                 validate=validate.Range(min=1, max=MAX_MINUTES),
                                 metadata={"description": "business minutes an audit may take"})
    calendar_id = fields.Integer(allow_none=True, load_default=None, strict=True, validate=_ID)
    version = fields.Integer(required=True, strict=True, validate=_VERSION,
                             metadata={"description": "the version you read (the rule version "
                                                      "the sample hashes with)"})


class AuditQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUS_FILTERS),
                           metadata={"description": "open, overdue (open and past due), done"})
    reason = fields.String(validate=validate.OneOf(REASONS))
    kind = fields.String(validate=validate.OneOf(KINDS))
    decision = fields.String(validate=validate.OneOf(DECISIONS))
    ticket_id = fields.Integer(validate=_ID)
    date_from = fields.AwareDateTime(default_timezone=timezone.utc,
                                     metadata={"description": "made at or after"})
    date_to = fields.AwareDateTime(default_timezone=timezone.utc,
                                   metadata={"description": "made before"})
    cursor = fields.String(validate=validate.Length(max=200),
                           metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AuditTicketSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    state = fields.String()
    version = fields.Integer()
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class AuditSchema(Schema):
    id = fields.Integer()
    ticket = fields.Nested(AuditTicketSchema)
    round = fields.Integer(metadata={"description": "the ticket's reopen count it audits"})
    trigger = fields.String(metadata={"description": "closing, callback"})
    reasons = fields.List(fields.String(), attribute="reason_list",
                          metadata={"description": "complaint, unsatisfied_callback, "
                                                   "sla_breach, sample"})
    rule_version = fields.Integer()
    callback_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "open, done"})
    overdue = fields.Method("_overdue", metadata={"type": "boolean",
                                                  "description": "open and past due_at"})
    created_at = fields.DateTime()
    due_at = fields.DateTime()
    escalated_at = fields.DateTime(allow_none=True)
    decision = fields.String(allow_none=True, metadata={"description": "pass, reject"})
    reason = fields.String()
    decided_by = fields.Nested(UserRefSchema, allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    event_id = fields.Integer(allow_none=True, metadata={
        "description": "the history row of the decision (the reopening of a reject)"})
    version = fields.Integer(metadata={"description": "send it back with a decision"})

    def _overdue(self, audit) -> bool:
        from ticketing.clock import utcnow
        return audit.is_overdue(utcnow())


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditSchema))
    next_cursor = fields.String(allow_none=True)


class StepSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.Nested(UserRefSchema, allow_none=True, metadata={"description": "None: "
                                                                    "the system"})
    department = fields.Nested(DepartmentRefSchema, allow_none=True,
                               metadata={"description": "the person's department"})
    event = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    note = fields.String()


class DeadlineSchema(Schema):
    clock = fields.String(metadata={"description": "response, resolution, complaint_limit"})
    round = fields.Integer()
    started_at = fields.DateTime()
    due_at = fields.DateTime()
    stopped_at = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"description": "running, paused, stopped"})
    breached = fields.Boolean()
    met = fields.Boolean(allow_none=True, metadata={
        "description": "true met, false missed, null still running and not yet due"})
    business_minutes_used = fields.Float()
    target_minutes = fields.Integer()


class LiabilitySchema(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer()
    status = fields.String(metadata={"description": "recorded, appealed, upheld, overturned"})
    justified = fields.Boolean()
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    person = fields.Nested(UserRefSchema, allow_none=True)
    note = fields.String()
    reviewer = fields.Nested(UserRefSchema)
    recorded_at = fields.DateTime()
    appeal_reason = fields.String(allow_none=True)
    appealed_by = fields.Nested(UserRefSchema, allow_none=True)
    appealed_at = fields.DateTime(allow_none=True)
    upheld = fields.Boolean(allow_none=True)
    ruling_note = fields.String()
    ruled_by = fields.Nested(UserRefSchema, allow_none=True)
    ruled_at = fields.DateTime(allow_none=True)
    version = fields.Integer(metadata={"description": "send it back with an appeal or ruling"})


class AuditDetailSchema(AuditSchema):
    steps = fields.List(fields.Nested(StepSchema))
    deadlines = fields.List(fields.Nested(DeadlineSchema))
    callbacks = fields.List(fields.Nested(CallbackSchema))
    liability = fields.Nested(LiabilitySchema, allow_none=True)


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    reason = fields.String(load_default="", validate=validate.Length(max=REASON_LIMIT),
                           metadata={"description": "required to reject: the ticket's "
                                                    "history shows it"})
    version = _version("the audit's version you read (optional)")


class LiabilityCreateSchema(Schema):
    justified = fields.Boolean(required=True)
    department_id = fields.Integer(allow_none=True, load_default=None, strict=True, validate=_ID,
                                   metadata={"description": "required when justified"})
    person_id = fields.Integer(allow_none=True, load_default=None, strict=True, validate=_ID,
                               metadata={"description": "a member of the department"})
    note = fields.String(load_default="", validate=validate.Length(max=REASON_LIMIT))
    version = _version("the liability's version you read (0: none yet; optional)")


class AppealSchema(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=REASON_LIMIT),
                                                    validate.Regexp(VISIBLE_TEXT)])
    version = _version("the liability's version you read (optional)")


class RulingSchema(Schema):
    upheld = fields.Boolean(required=True, metadata={
        "description": "true: the ruling stands; false: the appeal is granted"})
    note = fields.String(load_default="", validate=validate.Length(max=REASON_LIMIT))
    version = _version("the liability's version you read (optional)")
