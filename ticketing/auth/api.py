"""API: tokens for integrations, the current user, departments."""
from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ticketing.apiutil import ApiBlueprint, ApiErrorSchema
from ticketing.auth import operations as ops
from ticketing.auth.models import ApiToken, Department
from ticketing.auth.permissions import permission_required
from ticketing.auth.schemas import DepartmentSchema, TokenRequestSchema, TokenSchema, UserSchema
from ticketing.errors import ApiError
from ticketing.extensions import db, limiter, remote_address_and_username
from ticketing.unit import unit_of_work

blp = ApiBlueprint("auth_api", __name__, url_prefix="/api/v1", description="Accounts and tokens")


@blp.route("/tokens", methods=["POST"], endpoint="Tokens")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"],
               key_func=remote_address_and_username,
               deduct_when=lambda response: response.status_code == 401)
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, schema=ApiErrorSchema)
def create_token(data):
    """Exchange a username and password for a bearer token (shown once)."""
    user = ops.authenticate(data["username"], data["password"])
    if user is None:
        raise ApiError(401, "invalid_credentials", _("Wrong username or password."))
    with unit_of_work():
        token = ops.issue_token(user, data.get("name", ""),
                                current_app.config["API_TOKEN_DAYS"])
        row = db.session.scalar(select(ApiToken)
                                .where(ApiToken.token_hash == ApiToken.hash(token)))
    return {"token": token, "token_type": "Bearer", "expires_at": row.expires_at}


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



