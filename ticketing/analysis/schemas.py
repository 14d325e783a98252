"""Schemas of the analysis API."""
from datetime import timezone

from marshmallow import Schema, fields, validate

from ticketing.auth.schemas import DepartmentRefSchema


class PeriodSchema(Schema):
    date_from = fields.AwareDateTime(default_timezone=timezone.utc, metadata={
        "description": "from (inclusive); default: 30 days before date_to"})
    date_to = fields.AwareDateTime(default_timezone=timezone.utc,
                                   metadata={"description": "to (exclusive); default: now"})


class ConsultQuerySchema(PeriodSchema):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class CountSchema(Schema):
    name = fields.String()
    count = fields.Integer()
    share = fields.Float(metadata={"description": "of all consults in the period"})


class ConsultFiguresSchema(Schema):
    date_from = fields.DateTime()
    date_to = fields.DateTime()
    total = fields.Integer(metadata={"description": "consults opened in the period"})
    categories = fields.List(fields.Nested(CountSchema),
                             metadata={"description": "consult types, most frequent first"})
    topics = fields.List(fields.Nested(CountSchema),
                         metadata={"description": "titles (trimmed, case-folded)"})


class TeamQualitySchema(Schema):
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    callbacks = fields.Integer(metadata={"description": "surveys answered"})
    unsatisfied = fields.Integer()
    overall = fields.Float(allow_none=True)
    attitude = fields.Float(allow_none=True, metadata={"description": "服务态度, mean 1-5"})
    standard = fields.Float(allow_none=True, metadata={"description": "服务规范, mean 1-5"})
    effect = fields.Float(allow_none=True, metadata={"description": "服务效果, mean 1-5"})


class RepairQualitySchema(Schema):
    date_from = fields.DateTime()
    date_to = fields.DateTime()
    teams = fields.List(fields.Nested(TeamQualitySchema),
                        metadata={"description": "lowest overall score first"})
