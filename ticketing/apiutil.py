"""Shared pieces of the REST API: a blueprint whose input errors are 400, pagination."""
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields
from marshmallow import fields as ma_fields  # the error schema's `fields` member hides it
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter


# Ids and versions are 32-bit integers in the database (PostgreSQL `integer`): a larger one in
# input can name nothing, and handed to the driver it was a 500 (OverflowError, DataError).
MAX_ID = 2 ** 31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every URL: an id above MAX_ID matches no route (a 404), never a 500."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def id_converter_schema(converter) -> dict:
    return {"type": "integer", "minimum": 0, "maximum": converter.max}


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # SPEC §9: invalid input is a 400 with the fields listed


class ApiBlueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with a schema class made into its instance once: given the
        class, webargs built a new schema (copying every field) for each request."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def errors(self, *statuses, conflict_schema=None):
        """Document the error answers an endpoint can give, all in the one error shape
        (`conflict_schema`: a richer ApiErrorSchema for its 409s)."""
        def decorator(view):
            for status in statuses:
                schema = conflict_schema if status == 409 and conflict_schema else ApiErrorSchema
                view = self.alt_response(status, schema=schema)(view)
            return view

        return decorator


class ApiErrorSchema(Schema):
    """The one error shape of SPEC §9: `error` and `message` always, the other members when
    the refusal has them (every member any refusal sends is listed here)."""

    error = fields.String(required=True, metadata={"description": "machine-readable code"})
    message = fields.String(required=True, metadata={"description": "in the reader's language"})
    current_version = fields.Integer(metadata={
        "description": "stale_version: the record's version now; read it again and retry"})
    state = fields.String(metadata={
        "description": "stale_version, event_not_allowed: the ticket's state now"})
    event = fields.String(metadata={"description": "event_not_allowed, guard_refused"})
    allowed_events = fields.List(fields.String(), metadata={
        "description": "event_not_allowed: the events the state allows"})
    reasons = fields.List(fields.String(), metadata={
        "description": "guard_refused: why, one message per failed rule"})
    guards = fields.List(fields.String(), metadata={
        "description": "guard_refused: the rules (dotted paths) that refused"})
    retry_after = fields.Integer(metadata={
        "description": "too_many_requests: seconds until the next try (also Retry-After)"})
    # Last: the name hides the marshmallow module inside the class body.
    fields = fields.Dict(keys=fields.String(), metadata={
        "description": "errors per field: a list of messages (nested fields: an object)"})


# Text no database can store (see ticketing.edge): every string parameter and property the
# API documents excludes NUL; fields with a pattern of their own exclude it in that pattern.
NO_NUL = "^[^\\u0000]*$"


# Required text the server strips first: at least one character that is not a space.
VISIBLE_TEXT = ("^[^\\u0000]*[!-~\\u00a1-\\u167f\\u1681-\\u1fff\\u2010-\\u2027\\u2030-\\u205e"
                "\\u2070-\\u2fff\\u3001-\\ud7ff\\ue000-\\ufefe\\uff00-\\uffff][^\\u0000]*$")


def no_nul_pattern(_converter, field, **_kwargs) -> dict:
    """apispec attribute function: state the edge's NUL rule on every string field."""
    if isinstance(field, ma_fields.String) and not isinstance(field, ma_fields.DateTime) \
            and not any(getattr(v, "regex", None) is not None
                        for v in getattr(field, "validators", [])):
        return {"pattern": NO_NUL}
    return {}
