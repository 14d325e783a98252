"""The permission catalogue, the default roles (seed data, editable by an admin) and the
one decorator every page and endpoint uses to check them."""
from functools import wraps

from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ticketing.errors import ApiError
from ticketing.wiring import wiring

# Accounts' own permissions; every other area adds its own in its init_app.
ACCOUNT_PERMISSIONS = {
    "users.manage": _l("Manage users"),
    "roles.manage": _l("Manage roles and permissions"),
    "departments.manage": _l("Manage departments"),
}

# Default roles of SPEC §1 (seed data: an admin edits them afterwards). Areas grant them
# their permissions with wiring.add_permissions(labels, grants); the admin role gets all.
DEFAULT_ROLES = {
    "agent": ("坐席", "Call agent"),
    "dispatcher": ("调度", "Dispatcher"),
    "staff": ("部门人员", "Department staff"),
    "callback_agent": ("回访员", "Callback agent"),
    "supervisor": ("班长/质检", "Supervisor"),
    "department_head": ("部门负责人", "Department head"),
    "admin": ("管理员", "Administrator"),
}
ALL_PERMISSIONS_ROLE = "admin"


def all_permissions(app=None) -> dict:
    """Every permission code of every wired area, with its label."""
    return dict(wiring(app).permissions)


def default_permissions(role: str, app=None) -> set[str]:
    """What a default role holds when it is first created."""
    if role == ALL_PERMISSIONS_ROLE:
        return set(all_permissions(app))
    return set(wiring(app).default_grants.get(role, ()))


def forbidden(message=None):
    return ApiError(403, "forbidden", message or str(_l("You do not have permission to do this.")))


def permission_required(*codes):
    """Require a logged-in user holding every one of `codes` (none: just logged in)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    raise ApiError(401, "unauthenticated", str(_l("Log in or send a token.")))
                # full_path ends in a bare "?" when there is no query string.
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            missing = [c for c in codes if not current_user.can(c)]
            if missing:
                raise forbidden()
            return view(*args, **kwargs)

        wrapped.required_permissions = codes
        return wrapped

    return decorator
