"""Who may do what with dispatch: permissions are data on roles (defaults below, edited by an
admin). Assigning a work order is the ticket workflow's `dispatch` event (tickets.dispatch);
the team's actions are its take, accept and report_repaired events."""
from flask_babel import lazy_gettext as _l

DISPATCH_PERMISSIONS = {
    "dispatch.board": _l("See the dispatch board of open work orders"),
    "dispatch.queue": _l("Work a field team's queue"),
    "dispatch.teams": _l("Manage field teams and the areas they serve"),
}
# The admin role holds every permission; these are the other default roles' grants.
DISPATCH_GRANTS = {
    "dispatcher": ["dispatch.board"],
    "staff": ["dispatch.queue"],
    "department_head": ["dispatch.queue"],
}


def can_see_board(user) -> bool:
    return user.is_authenticated and user.can("dispatch.board")


def can_assign(user) -> bool:
    """Only who may fire the workflow's dispatch event assigns from the board."""
    return user.is_authenticated and user.can("tickets.dispatch")
