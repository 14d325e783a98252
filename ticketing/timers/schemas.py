from marshmallow import Schema, fields, validate

from ticketing.apiutil import MAX_ID
from ticketing.timers.clocks import live_minutes_used
from ticketing.timers.labels import notification_message


class SlaClockSchema(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer()
    clock = fields.String(metadata={"description": "response, resolution or complaint_limit"})
    round = fields.Integer(metadata={"description": "the ticket's reopen count when started"})
    status = fields.String(metadata={"description": "running, paused or stopped"})
    policy = fields.Function(lambda c: c.policy.name if c.policy else None)
    target_minutes = fields.Integer(metadata={"description": "business minutes allowed"})
    started_at = fields.DateTime()
    due_at = fields.DateTime()
    paused_at = fields.DateTime(allow_none=True)
    stopped_at = fields.DateTime(allow_none=True)
    breached = fields.Boolean()
    business_minutes_used = fields.Function(
        lambda c: round(live_minutes_used(c), 1),
        metadata={"description": "business minutes elapsed, suspended time excluded"})
    escalation_level = fields.Integer()
    warned = fields.Boolean()
    department_id = fields.Integer(allow_none=True)


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    ticket_id = fields.Integer(allow_none=True)
    message = fields.Function(notification_message)
    data = fields.Dict()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationQuerySchema(Schema):
    unread = fields.Boolean(load_default=False)
    before_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MarkReadSchema(Schema):
    ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
                      validate=validate.Length(max=500),
                      metadata={"description": "which notifications; omit for all unread"})


class MarkedSchema(Schema):
    marked = fields.Integer()
