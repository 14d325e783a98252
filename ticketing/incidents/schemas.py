"""Schemas of the incidents API: each validates input, shapes output and documents OpenAPI."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ticketing.apiutil import MAX_ID
from ticketing.auth.schemas import DepartmentRefSchema
from ticketing.incidents.models import SUSPENSION_TYPES
from ticketing.incidents.operations import MAX_LINKS_PER_REQUEST, TEXT_LIMIT

_ID = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
_VERSION = {"validate": validate.Range(min=1, max=MAX_ID),
            "metadata": {"description": "the version you read (optimistic locking)"}}


class IncidentCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    suspension_type = fields.String(load_default="mass_fault",
                                    validate=validate.OneOf(SUSPENSION_TYPES))
    areas = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                        validate=validate.Length(min=1, max=50),
                        metadata={"description": "customer areas the fault affects"})
    description = fields.String(load_default="", validate=validate.Length(max=TEXT_LIMIT))
    fault_category = fields.String(required=True, validate=validate.Length(min=1, max=40),
                                   metadata={"description": "a fault category code "
                                                            "(GET /api/v1/fault-categories)"})
    department_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                                   metadata={"description": "the authorised department "
                                                            "(default: repair)"})


class IncidentUpdateSchema(Schema):
    version = fields.Integer(required=True, **_VERSION)
    name = fields.String(validate=validate.Length(min=1, max=200))
    suspension_type = fields.String(validate=validate.OneOf(SUSPENSION_TYPES))
    areas = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                        validate=validate.Length(min=1, max=50))
    description = fields.String(validate=validate.Length(max=TEXT_LIMIT))
    fault_category = fields.String(validate=validate.Length(min=1, max=40))


class VersionSchema(Schema):
    version = fields.Integer(**_VERSION)


class ReleaseSchema(VersionSchema):
    note = fields.String(load_default="", validate=validate.Length(max=TEXT_LIMIT))


class LinkRequestSchema(Schema):
    ticket_ids = fields.List(_ID, validate=validate.Length(min=1, max=MAX_LINKS_PER_REQUEST))
    all_open_in_area = fields.Boolean(load_default=False)

    @validates_schema
    def one_of(self, data, **_kwargs):
        if bool(data.get("ticket_ids")) == bool(data.get("all_open_in_area")):
            raise ValidationError("Give either ticket_ids or all_open_in_area: true.",
                                  "ticket_ids")


class ReviewSchema(Schema):
    confirm = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=TEXT_LIMIT))


class FaultCategorySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String()


class IncidentLinkSchema(Schema):
    ticket_id = fields.Integer()
    ticket_number = fields.String(attribute="ticket.number")
    ticket_state = fields.String(attribute="ticket.state")
    review = fields.String(metadata={"description": "pending, confirmed or rejected"})
    reason = fields.String()
    linked_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)
    released_at = fields.DateTime(allow_none=True)


class IncidentSchema(Schema):
    id = fields.Integer()
    ref = fields.String()
    name = fields.String()
    suspension_type = fields.String()
    areas = fields.List(fields.String())
    description = fields.String()
    fault_category = fields.Nested(FaultCategorySchema)
    department = fields.Nested(DepartmentRefSchema)
    state = fields.String(metadata={"description": "open, cleared or released"})
    announcement_id = fields.Integer(allow_none=True)
    opened_at = fields.DateTime()
    cleared_at = fields.DateTime(allow_none=True)
    released_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class IncidentQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(("open", "cleared", "released")))


class IncidentLinkResultSchema(Schema):
    linked = fields.Integer()
    ticket_ids = fields.List(fields.Integer())


class ReleaseResultSchema(Schema):
    incident = fields.Nested(IncidentSchema)
    resolved = fields.Integer(metadata={"description": "tickets resolved by the release"})


class ScreenPopIncidentSchema(Schema):
    """An open incident in the caller's area, offered for linking the new repair ticket."""
    id = fields.Integer()
    ref = fields.String()
    name = fields.String()
    areas = fields.List(fields.String())
    fault_category = fields.String(attribute="fault_category.code")
