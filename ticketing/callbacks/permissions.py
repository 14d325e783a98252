"""Who may do what with callbacks: permissions as data on roles (seed grants below)."""
from flask_babel import lazy_gettext as _l

CALLBACK_PERMISSIONS = {
    "callbacks.work": _l("Work the callback queue and record surveys"),
    "callbacks.view": _l("Query callback records"),
    "callbacks.escalations": _l("Receive overdue callback escalations (callback team lead)"),
    "callbacks.settings": _l("Edit callback settings"),
}
# The admin role holds every permission; these are the other default roles' grants.
CALLBACK_GRANTS = {
    "callback_agent": ["callbacks.work", "callbacks.view"],
    "supervisor": ["callbacks.view", "callbacks.escalations"],
    "department_head": ["callbacks.view"],
}


def can_work_callbacks(user) -> bool:
    return user.is_authenticated and user.can("callbacks.work")


def can_view_callbacks(user) -> bool:
    return user.is_authenticated and user.can("callbacks.view")
