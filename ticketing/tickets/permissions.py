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




# The order a ticket page offers actions in: the usual path first (its first available step
# is the primary button), side roads after, destructive ones last.
USUAL_PATH = ("take", "verify_customer", "classify_fault", "issue_work_order", "dispatch",
              "accept", "report_repaired", "send_to_inspection", "analyse", "assign", "handle",
              "reply", "relay", "resolve", "transfer", "resume", "approve_suspension",
              "reject_suspension", "reopen", "link_incident", "suspend", "reclassify",
              "terminate", "close")


def ordered_events(events, ticket=None) -> list[str]:
    """`events` in usual-path order, destructive ones last; verifying a customer who is
    already verified is not offered as a step."""
    rank = {name: i for i, name in enumerate(USUAL_PATH)}
    chosen = [e for e in events if not (e == "verify_customer" and ticket is not None
                                        and getattr(ticket, "customer_verified_at", None))]
    return sorted(chosen, key=lambda e: (bool(EVENTS[e]["danger"]),
                                         rank.get(e, len(rank)), e))


# Guards that judge the fields the user is about to type, not the ticket: they cannot make
# an action unavailable before the form is filled in.
_FIELD_GUARDS = {"has_required_fields", "numbers_in_range", "reclassifies_to_requested_kind",
                 "returns_to_suspended_from", "reopens_own_kind"}


def unavailable_events_for(user, ticket) -> list[tuple[str, list[str]]]:
    """(event, reasons) of the actions this user could take in this state but a rule about
    the ticket refuses now (e.g. a work order before the customer is verified)."""
    from ticketing.tickets.labels import guard_reasons
    result = []
    for event in ticket_workflow.allowed_events(ticket.state):
        if not can_fire_event(user, ticket, event):
            continue
        reasons, guards = ticket_workflow.refusals(ticket, event)
        blocking = [g for g in guards if g not in _FIELD_GUARDS]
        if blocking:
            result.append((event, guard_reasons(blocking, reasons)))
    return result


def allowed_events_for(user, ticket) -> list[str]:
    """Events the machine allows in the ticket's state that this user may fire and that no
    rule about the ticket refuses (see unavailable_events_for)."""
    blocked = {event for event, _reasons in unavailable_events_for(user, ticket)}
    return [e for e in ticket_workflow.allowed_events(ticket.state)
            if can_fire_event(user, ticket, e) and e not in blocked]
