"""Who may do what in supervision: permissions as data on roles (seed grants below)."""
from flask_babel import lazy_gettext as _l

AUDIT_PERMISSIONS = {
    "audits.view": _l("See the audit queue and audits"),
    "audits.decide": _l("Pass or reject audits"),
    "audits.rules": _l("Edit the audit rules"),
    "audits.escalations": _l("Receive overdue audit escalations"),
    "audits.liability": _l("Rule on complaint liability and on appeals"),
    "audits.appeal": _l("Appeal a liability ruling against one's own department"),
}
# The admin role holds every permission; these are the other default roles' grants.
# Department heads see the audits of the tickets they may see (see queries.audit_page).
AUDIT_GRANTS = {
    "supervisor": ["audits.view", "audits.decide", "audits.liability", "audits.escalations"],
    "department_head": ["audits.view", "audits.appeal"],
    "staff": ["audits.appeal"],
}


def can_view_audits(user) -> bool:
    return user.is_authenticated and user.can("audits.view")


def can_decide_audits(user) -> bool:
    return user.is_authenticated and user.can("audits.decide")


def can_see_liability(user) -> bool:
    return user.is_authenticated and any(
        user.can(code) for code in ("audits.view", "audits.liability", "audits.appeal"))


def can_record_liability(user, liability=None) -> bool:
    """A supervisor records liability until the department appeals."""
    return (user.is_authenticated and user.can("audits.liability")
            and (liability is None or liability.appealed_at is None))


def can_appeal(user, liability) -> bool:
    """The responsible department, once."""
    return (user.is_authenticated and user.can("audits.appeal") and liability is not None
            and liability.justified and liability.appealed_at is None
            and user.department_id is not None
            and user.department_id == liability.department_id)


def can_rule_on_appeal(user, liability) -> bool:
    """A second supervisor, never the first reviewer, on a pending appeal."""
    return (user.is_authenticated and user.can("audits.liability") and liability is not None
            and liability.appealed_at is not None and liability.ruled_at is None
            and liability.reviewer_id != user.id)


def can_reach_liability(user, ticket, liability) -> bool:
    """Who sees the ticket, and the responsible department (which may appeal even when the
    ticket has left it)."""
    from ticketing.tickets.permissions import can_view_ticket
    return can_view_ticket(user, ticket) or (
        liability is not None and liability.department_id is not None
        and user.department_id == liability.department_id)
