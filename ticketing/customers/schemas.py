from marshmallow import Schema, fields, validate

from ticketing.apiutil import MAX_ID, VISIBLE_TEXT
from ticketing.customers.models import TIERS
from ticketing.customers.operations import ACCOUNT_PATTERN, PHONE_PATTERN

PHONE = fields.String(validate=[validate.Length(max=30), validate.Regexp(PHONE_PATTERN)],
                      metadata={"description": "5-20 digits, optionally a leading +; spaces, "
                                               "dashes, dots and brackets are ignored"})


class CustomerInputSchema(Schema):
    account_no = fields.String(required=True, validate=[validate.Length(min=1, max=40),
                                                        validate.Regexp(ACCOUNT_PATTERN)])
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100),
                                                  validate.Regexp(VISIBLE_TEXT)])
    address = fields.String(load_default="", validate=validate.Length(max=255))
    area = fields.String(load_default="", validate=validate.Length(max=100))
    tier = fields.String(load_default="ordinary", validate=validate.OneOf(TIERS))
    notes = fields.String(load_default="", validate=validate.Length(max=4000))
    phones = fields.List(PHONE, load_default=list, validate=validate.Length(max=10))


class CustomerPatchSchema(Schema):
    version = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_ID),
                             metadata={"description": "the version you read"})
    account_no = fields.String(validate=[validate.Length(min=1, max=40),
                                         validate.Regexp(ACCOUNT_PATTERN)])
    name = fields.String(validate=[validate.Length(min=1, max=100),
                                   validate.Regexp(VISIBLE_TEXT)])
    address = fields.String(validate=validate.Length(max=255))
    area = fields.String(validate=validate.Length(max=100))
    tier = fields.String(validate=validate.OneOf(TIERS))
    notes = fields.String(validate=validate.Length(max=4000))
    phones = fields.List(PHONE, validate=validate.Length(max=10))


class CustomerSchema(Schema):
    id = fields.Integer()
    account_no = fields.String()
    name = fields.String()
    address = fields.String()
    area = fields.String()
    tier = fields.String()
    notes = fields.String()
    phones = fields.List(fields.String(), attribute="phone_numbers")
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class CustomerQuerySchema(Schema):
    phone = fields.String(validate=validate.Length(max=30))
    account_no = fields.String(validate=validate.Length(max=40))
    q = fields.String(validate=validate.Length(max=100))
    after_id = fields.Integer(validate=validate.Range(min=0, max=MAX_ID))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CustomerChangeSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    action = fields.String()
    actor = fields.Function(lambda c: c.actor.username if c.actor else None)
    changes = fields.Dict()
