"""The permission catalogue, the default roles (seed data, editable by an admin) and the
one decorator every page and endpoint uses to check them."""
from functools import wraps

from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflows.tickets import EVENTS

BASE_PERMISSIONS = {
    "customers.view": _l("View customers"),
    "customers.edit": _l("Create and edit customers"),
    "tickets.view": _l("View tickets"),
    "tickets.create": _l("Open tickets"),
    "tickets.all_departments": _l("See and act on tickets of every department"),
    "escalations.view": _l("See the escalation queue"),
    "reports.view": _l("See reports"),
    "sla.manage": _l("Manage SLA policies and calendars"),
    "users.manage": _l("Manage users"),
    "roles.manage": _l("Manage roles and permissions"),
    "departments.manage": _l("Manage departments"),
}


def event_permission(event: str) -> str:
    return EVENTS[event]["permission"]


def all_permissions() -> dict:
    """Every permission code with its label, base ones first then one per workflow event."""
    from ticketing.tickets.labels import event_label
    perms = dict(BASE_PERMISSIONS)
    for name in EVENTS:
        perms[event_permission(name)] = _l("Ticket action: %(action)s", action=event_label(name))
    return perms


def _events(*names):
    return [event_permission(n) for n in names]


# Default roles of SPEC §1; an admin edits them afterwards (they are rows, not code).
DEFAULT_ROLES = {
    "agent": ("坐席", "Call agent", [
        "customers.view", "customers.edit", "tickets.view", "tickets.create",
        "tickets.all_departments",
        *_events("terminate", "relay", "reclassify", "verify_customer", "classify_fault",
                 "send_to_inspection", "suspend")]),
    "dispatcher": ("调度", "Dispatcher", [
        "customers.view", "tickets.view", "tickets.create", "tickets.all_departments",
        "escalations.view",
        *_events("verify_customer", "classify_fault", "issue_work_order", "dispatch",
                 "link_incident", "suspend", "resume")]),
    "staff": ("部门人员", "Department staff", [
        "customers.view", "tickets.view",
        *_events("transfer", "reply", "terminate", "accept", "report_repaired", "analyse",
                 "assign", "handle", "resolve", "suspend", "resume")]),
    "callback_agent": ("回访员", "Callback agent", [
        "customers.view", "tickets.view", "tickets.all_departments", *_events("reopen")]),
    "supervisor": ("班长/质检", "Supervisor", [
        "customers.view", "tickets.view", "tickets.all_departments", "escalations.view",
        "reports.view",
        *_events("reopen", "reclassify", "approve_suspension", "reject_suspension", "close")]),
    "department_head": ("部门负责人", "Department head", [
        "customers.view", "tickets.view", "escalations.view", "reports.view",
        *_events("transfer", "reply", "terminate", "accept", "report_repaired", "analyse",
                 "assign", "handle", "resolve", "suspend", "resume", "approve_suspension",
                 "reject_suspension", "close")]),
    "admin": ("管理员", "Administrator", None),  # None: every permission
}


def forbidden(message=None):
    from ticketing.errors import ApiError
    return ApiError(403, "forbidden", message or str(_l("You do not have permission to do this.")))


def permission_required(*codes):
    """Require a logged-in user holding every one of `codes` (none: just logged in)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    from ticketing.errors import ApiError
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
