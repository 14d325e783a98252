"""Who may do what with incidents: permissions are data on roles (defaults below, edited by
an admin); reviewing and clearing also need the user to be in the incident's authorised
department."""
from flask_babel import lazy_gettext as _l

INCIDENT_PERMISSIONS = {
    "incidents.view": _l("See incidents"),
    "incidents.manage": _l("Open and edit incidents"),
    "incidents.link": _l("Link repair tickets to incidents"),
    "incidents.review": _l("Review tickets linked to an incident (authorised department)"),
    "incidents.clear": _l("Report an incident's fault cleared (authorised department)"),
    "incidents.release": _l("Release incidents (service restored)"),
}
INCIDENT_GRANTS = {
    **{role: ["incidents.view"] for role in ("agent", "staff", "callback_agent",
                                             "supervisor")},
    "dispatcher": ["incidents.view", "incidents.manage", "incidents.link",
                   "incidents.release"],
    "department_head": ["incidents.view", "incidents.review", "incidents.clear"],
}


def _in_department(user, incident) -> bool:
    return user.department_id is not None and user.department_id == incident.department_id


def can_review(user, incident) -> bool:
    return user.is_authenticated and user.can("incidents.review") and _in_department(user,
                                                                                     incident)


def can_clear(user, incident) -> bool:
    return user.is_authenticated and user.can("incidents.clear") and _in_department(user,
                                                                                    incident)
