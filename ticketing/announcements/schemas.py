"""Schemas of the announcements API: each validates input, shapes output and documents
OpenAPI."""
from datetime import timezone

from marshmallow import Schema, fields, validate

from ticketing.announcements.models import STATES
from ticketing.announcements.operations import BODY_LIMIT, MAX_DEPARTMENTS, TITLE_LIMIT
from ticketing.apiutil import MAX_ID, VISIBLE_TEXT
from ticketing.auth.schemas import UserRefSchema

_DEPARTMENTS = fields.List(fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
                           validate=validate.Length(max=MAX_DEPARTMENTS),
                           metadata={"description": "the departments it is shown to "
                                                    "(empty: everyone)"})
_VERSION = {"validate": validate.Range(min=1, max=MAX_ID),
            "metadata": {"description": "the version you read (optimistic locking)"}}


def _text(limit: int) -> list:
    # Stripped by the server: at least one visible character.
    return [validate.Length(min=1, max=limit), validate.Regexp(VISIBLE_TEXT)]


class AnnouncementCreateSchema(Schema):
    title = fields.String(required=True, validate=_text(TITLE_LIMIT))
    body = fields.String(required=True, validate=_text(BODY_LIMIT))
    department_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)), load_default=list,
        validate=validate.Length(max=MAX_DEPARTMENTS),
        metadata={"description": "the departments it is shown to (empty: everyone)"})


class AnnouncementUpdateSchema(Schema):
    version = fields.Integer(required=True, **_VERSION)
    title = fields.String(validate=_text(TITLE_LIMIT))
    body = fields.String(validate=_text(BODY_LIMIT))
    department_ids = _DEPARTMENTS


class AnnouncementVersionSchema(Schema):
    version = fields.Integer(**_VERSION)


class ScheduleSchema(AnnouncementVersionSchema):
    publish_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc,
                                      metadata={"description": "when to publish (ISO 8601; "
                                                               "UTC unless it says)"})


class AnnouncementQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "words of the title or body"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DepartmentNameSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class AnnouncementSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    state = fields.String(metadata={"description": ", ".join(STATES)})
    department_ids = fields.List(fields.Integer())
    author = fields.Nested(UserRefSchema, allow_none=True)
    system = fields.Boolean(metadata={"description": "published by an incident"})
    created_at = fields.DateTime()
    publish_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    archived_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
