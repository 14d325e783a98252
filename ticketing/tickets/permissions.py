"""Who may see a ticket and fire which event on it: permissions come from roles (data)."""
from workflows.machine import ticket_workflow
from workflows.tickets import EVENTS


def can_see_all_departments(user) -> bool:
    return user.can("tickets.all_departments")


def can_view_ticket(user, ticket) -> bool:
    if not user.is_authenticated or not user.can("tickets.view"):
        return False
    return can_see_all_departments(user) or _is_theirs(user, ticket)


def _is_theirs(user, ticket) -> bool:
    return (ticket.assignee_id == user.id or ticket.created_by_id == user.id
            or (user.department_id is not None and ticket.department_id == user.department_id))


def can_open_ticket(user) -> bool:
    return user.is_authenticated and user.can("tickets.create")


def can_fire_event(user, ticket, event: str) -> bool:
    """The user's roles grant the event and the ticket is theirs to act on."""
    meta = EVENTS.get(event)
    if meta is None or not user.is_authenticated or not user.can(meta["permission"]):
        return False
    return can_see_all_departments(user) or _is_theirs(user, ticket)


def allowed_events_for(user, ticket) -> list[str]:
    """Events the machine allows in the ticket's state that this user may fire."""
    return [e for e in ticket_workflow.allowed_events(ticket.state)
            if can_fire_event(user, ticket, e)]
