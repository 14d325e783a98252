"""Shared pieces of the REST API: a blueprint whose input errors are 400, pagination."""
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields
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


class ApiErrorSchema(Schema):
    """The one error shape of SPEC §9."""

    error = fields.String(required=True, metadata={"description": "machine-readable code"})
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), metadata={"description": "errors per field"})
