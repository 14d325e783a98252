"""Finding the user of a bearer token: every API request starts here.

One Core query reads the token, its user, the user's permissions and the stamp of the kept
configuration (ticketing.kept); the token and user become objects of the session as the
rows read (no ORM load: its joined loading cost more than the query), the user's
department comes from the kept copy."""
from sqlalchemy import String, bindparam, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.functions import FunctionElement

from ticketing.auth.departments import kept_department
from ticketing.auth.models import ApiToken, RolePermission, User, user_roles
from ticketing.dbsetup import as_loaded
from ticketing.extensions import db
from ticketing.kept import stamp_columns, take_stamp


def find_valid_token(token: str) -> ApiToken | None:
    """The token if it is valid, with its user (and the user's permissions) loaded."""
    found = db.session.connection().execute(
        _token_query(), {"token_hash": ApiToken.hash(token)}).one_or_none()
    if found is None:
        return None
    values = found._mapping
    row = as_loaded(ApiToken, {column.key: values[f"t_{column.key}"]
                                for column in ApiToken.__table__.columns})
    if not row.is_valid():
        return None
    take_stamp([values[f"s_{n}"] for n in range(_TOKEN_QUERY[0])])
    user = as_loaded(User, {column.key: values[f"u_{column.key}"]
                             for column in User.__table__.columns})
    set_committed_value(row, "user", user)
    if "_permissions" not in user.__dict__:  # as User.permissions keeps them
        user.__dict__["_permissions"] = set(filter(None, (values["permissions"] or "")
                                                   .split(",")))
    if "department" not in user.__dict__:
        set_committed_value(user, "department", kept_department(user.department_id)
                            if user.department_id else None)
    return row


class _comma_list(FunctionElement):
    """The values of a column joined by commas (an aggregate)."""
    type = String()
    inherit_cache = True


@compiles(_comma_list)
def _comma_list_sqlite(element, compiler, **kw):
    return "group_concat(%s, ',')" % compiler.process(element.clauses, **kw)


@compiles(_comma_list, "postgresql")
def _comma_list_postgresql(element, compiler, **kw):
    return "string_agg(%s, ',')" % compiler.process(element.clauses, **kw)


_TOKEN_QUERY: list = [None, None]  # how many stamp columns it carries, the statement


def _token_query():
    """Built on first use, when every area has registered its kept configuration."""
    stamp = stamp_columns()
    if _TOKEN_QUERY[0] != len(stamp):
        tokens, users = ApiToken.__table__, User.__table__
        permissions = (select(_comma_list(RolePermission.permission))
                       .join(user_roles, user_roles.c.role_id == RolePermission.role_id)
                       .where(user_roles.c.user_id == tokens.c.user_id).correlate(tokens)
                       .scalar_subquery().label("permissions"))
        _TOKEN_QUERY[1] = (
            select(*(c.label(f"t_{c.key}") for c in tokens.columns),
                   *(c.label(f"u_{c.key}") for c in users.columns), permissions,
                   *(column.label(f"s_{n}") for n, column in enumerate(stamp)))
            .select_from(tokens.join(users, users.c.id == tokens.c.user_id))
            .where(tokens.c.token_hash == bindparam("token_hash")))
        _TOKEN_QUERY[0] = len(stamp)
    return _TOKEN_QUERY[1]
