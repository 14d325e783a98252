"""Who may do what with announcements: permissions are data on roles (defaults below)."""
from flask_babel import lazy_gettext as _l

ANNOUNCEMENT_PERMISSIONS = {
    "announcements.view": _l("Read announcements"),
    "announcements.manage": _l("Write, schedule, publish and withdraw announcements"),
}
# The admin role holds every permission; these are the other default roles' grants.
ANNOUNCEMENT_GRANTS = {
    **{role: ["announcements.view"] for role in ("agent", "dispatcher", "staff",
                                                 "callback_agent", "department_head")},
    "supervisor": ["announcements.view", "announcements.manage"],
}
