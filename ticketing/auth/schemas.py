from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=60))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1,
                                                                                      max=200))
    name = fields.String(load_default="", validate=validate.Length(max=100))


class TokenSchema(Schema):
    token = fields.String(required=True)
    token_type = fields.String(dump_default="Bearer")
    expires_at = fields.DateTime()


class DepartmentRefSchema(Schema):
    """A department as other records show it."""
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class DepartmentSchema(DepartmentRefSchema):
    name_en = fields.String()
    kind = fields.String()


class UserRefSchema(Schema):
    """A user as other records show it (assignee, actor)."""
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()


class UserSchema(UserRefSchema):
    locale = fields.String()
    department = fields.Nested(DepartmentSchema, allow_none=True)
    roles = fields.Function(lambda u: sorted(r.name for r in u.roles))
    permissions = fields.Function(lambda u: sorted(u.permissions))
