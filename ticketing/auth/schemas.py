from marshmallow import Schema, fields, validate

from ticketing.apiutil import MAX_ID


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=60))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1,
                                                                                      max=200))
    name = fields.String(load_default="", validate=validate.Length(max=100))
    expires_in_days = fields.Integer(
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "lifetime in days; capped at the server's API_TOKEN_DAYS "
                                 "(default 90), which is also the default"})


class TokenSchema(Schema):
    token = fields.String(required=True)
    token_type = fields.String(dump_default="Bearer")
    id = fields.Integer(metadata={"description": "names the token to revoke it"})
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


class TokenInfoSchema(Schema):
    """A token as listed: never its secret."""
    id = fields.Integer()
    name = fields.String()
    user = fields.Nested(UserRefSchema)
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True, metadata={
        "description": "updated at most every 5 minutes"})
    revoked_at = fields.DateTime(allow_none=True)
    active = fields.Function(lambda t: t.is_valid(), metadata={
        "description": "neither revoked nor expired"})


class TokenQuerySchema(Schema):
    user_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={
        "description": "another user's tokens (needs users.manage); default: the caller's"})
    include_ended = fields.Boolean(load_default=False, metadata={
        "description": "also list revoked and expired tokens"})


class SessionsEndedSchema(Schema):
    sessions = fields.Integer(metadata={"description": "browser sessions ended"})
    tokens = fields.Integer(metadata={"description": "API tokens revoked"})


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.Nested(UserRefSchema, allow_none=True, metadata={
        "description": "null: the command line"})
    action = fields.String(metadata={"description": "user.created, user.updated, "
                                     "role.permissions_changed, token.revoked, sessions.ended"})
    target_type = fields.String(metadata={"description": "user or role"})
    target_id = fields.Integer(allow_none=True)
    target_name = fields.String()
    details = fields.Dict(metadata={"description": "what changed: field -> [before, after]"})


class AuditQuerySchema(Schema):
    before_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
