"""API: tokens for integrations (issue, list, revoke), ending sessions, the current user,
departments, the audit log."""
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ticketing.apiutil import ApiBlueprint, ApiErrorSchema
from ticketing.auth import operations as ops
from ticketing.auth.models import ApiToken, Department
from ticketing.auth.permissions import can_manage_tokens_of, forbidden, permission_required
from ticketing.auth.schemas import (AuditEntrySchema, AuditQuerySchema, DepartmentSchema,
                                    SessionsEndedSchema, TokenInfoSchema, TokenQuerySchema,
                                    TokenRequestSchema, TokenSchema, UserSchema)
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.unit import unit_of_work

blp = ApiBlueprint("auth_api", __name__, url_prefix="/api/v1", description="Accounts and tokens")


@blp.route("/tokens", methods=["POST"], endpoint="Tokens")
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, schema=ApiErrorSchema)
@blp.alt_response(429, schema=ApiErrorSchema, description="Too many failed logins for this "
                  "username or from this address; `retry_after` (and the Retry-After header) "
                  "says when to try again")
def create_token(data):
    """Exchange a username and password for a bearer token (shown once)."""
    with unit_of_work():  # a failed attempt counts too: it commits before the 401
        user = ops.log_in(data["username"], data["password"], request.remote_addr)
    if user is None:
        raise ApiError(401, "invalid_credentials", _("Wrong username or password."))
    days = current_app.config["API_TOKEN_DAYS"]
    with unit_of_work():
        token, row = ops.issue_token(user, data.get("name", ""),
                                     min(data.get("expires_in_days") or days, days))
    return {"token": token, "token_type": "Bearer", "id": row.id, "expires_at": row.expires_at}


@blp.route("/tokens", methods=["GET"])
@blp.arguments(TokenQuerySchema, location="query")
@blp.response(200, TokenInfoSchema(many=True))
@blp.alt_response(403, schema=ApiErrorSchema)
@permission_required()
def list_tokens(args):
    """The caller's tokens (an administrator: anyone's, with user_id), newest first."""
    user_id = args.get("user_id") or current_user.id
    if not can_manage_tokens_of(current_user, user_id):
        raise forbidden()
    query = select(ApiToken).where(ApiToken.user_id == user_id)
    if not args["include_ended"]:
        query = query.where(ApiToken.revoked_at.is_(None))
    rows = db.session.scalars(query.order_by(ApiToken.id.desc())).all()
    return [t for t in rows if args["include_ended"] or t.is_valid()]


@blp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@blp.response(200, TokenInfoSchema)
@blp.alt_response(403, schema=ApiErrorSchema)
@blp.alt_response(404, schema=ApiErrorSchema)
@permission_required()
def revoke_token(token_id):
    """Revoke a token: one's own, or (users.manage) anyone's. Revoking twice is harmless."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise ApiError(404, "not_found", _("No such token."))
    if not can_manage_tokens_of(current_user, token.user_id):
        raise forbidden()
    with unit_of_work():
        ops.revoke_token(token, current_user)
    return token


@blp.route("/me/logout-everywhere", methods=["POST"])
@blp.response(200, SessionsEndedSchema)
@permission_required()
def logout_everywhere():
    """End every browser session and revoke every token of the caller, this one included."""
    with unit_of_work():
        ended = ops.end_all_sessions(current_user, current_user, "logout_everywhere")
    return ended


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@permission_required()
def me():
    """The authenticated user with roles and permissions."""
    return current_user


@blp.route("/departments", methods=["GET"])
@blp.response(200, DepartmentSchema(many=True))
@permission_required()
def departments():
    """All active departments."""
    return db.session.scalars(select(Department).where(Department.active.is_(True))
                              .order_by(Department.id)).all()


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditEntrySchema(many=True))
@permission_required("users.manage")
def audit_log(args):
    """Changes to users, roles, permissions, tokens and sessions, newest first; page with
    before_id."""
    return ops.audit_entries(limit=args["limit"], before_id=args.get("before_id"))
