"""Who may see a ticket and fire which event on it: permissions come from roles (data)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, false, or_, select, true

from ticketing.extensions import db
from ticketing.tickets.labels import event_label, guard_reasons
from ticketing.tickets.models import Ticket, TicketEvent
from workflows.machine import ticket_workflow
from workflows.tickets import EVENTS

# Default roles and the ticket permissions they start with (an admin edits them later).
VIEW_ROLES = ("agent", "dispatcher", "staff", "callback_agent", "supervisor",
              "department_head")
EVENT_GRANTS = {
    "agent": ("terminate", "relay", "reclassify", "verify_customer", "classify_fault",
              "send_to_inspection", "suspend"),
    "dispatcher": ("verify_customer", "classify_fault", "issue_work_order", "dispatch",
                   "link_incident", "suspend", "resume"),
    "staff": ("take", "transfer", "reply", "terminate", "accept", "report_repaired", "analyse",
              "assign", "handle", "resolve", "suspend", "resume"),
    "callback_agent": ("reopen",),
    "supervisor": ("reopen", "reclassify", "approve_suspension", "reject_suspension", "close"),
    "department_head": ("take", "transfer", "reply", "terminate", "accept", "report_repaired",
                        "analyse", "assign", "handle", "resolve", "suspend", "resume",
                        "approve_suspension", "reject_suspension", "close"),
}
ALL_DEPARTMENT_ROLES = ("agent", "dispatcher", "callback_agent", "supervisor")


def ticket_permissions() -> tuple[dict, dict]:
    """(code -> label, role -> codes) of the tickets area, for wiring.add_permissions."""
    labels = {"tickets.view": _l("View tickets"), "tickets.create": _l("Open new tickets"),
              "tickets.all_departments": _l("See and act on tickets of every department")}
    for name, meta in EVENTS.items():
        labels[meta["permission"]] = _l("Ticket action: %(action)s", action=event_label(name))
    grants = {role: ["tickets.view"] for role in VIEW_ROLES}
    for role in ("agent", "dispatcher"):
        grants[role].append("tickets.create")
    for role in ALL_DEPARTMENT_ROLES:
        grants[role].append("tickets.all_departments")
    for role, events in EVENT_GRANTS.items():
        grants[role].extend(EVENTS[name]["permission"] for name in events)
    return labels, grants


def can_see_all_departments(user) -> bool:
    return user.can("tickets.all_departments")


# -- who may see and act on a ticket: each rule once in SQL, once as its mirror predicate --
# A ticket is "theirs" (they may act on it) when it is assigned to them, opened by them or in
# their department; they may see it too once they have acted on it (a history row of theirs),
# so a hand-off never ends on a 404 for whoever handed it off. tests/tickets/
# test_visibility.py proves each SQL expression and its predicate agree.

def theirs_clause(user) -> ColumnElement:
    mine = [Ticket.assignee_id == user.id, Ticket.created_by_id == user.id]
    if user.department_id is not None:
        mine.append(Ticket.department_id == user.department_id)
    return or_(*mine)


def _is_theirs(user, ticket) -> bool:
    return (ticket.assignee_id == user.id or ticket.created_by_id == user.id
            or (user.department_id is not None and ticket.department_id == user.department_id))


def handled_clause(user) -> ColumnElement:
    """Tickets with a history row written by the user."""
    return exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.actor_id == user.id)


def _has_handled(user, ticket) -> bool:
    return db.session.scalar(select(exists().where(TicketEvent.ticket_id == ticket.id,
                                                   TicketEvent.actor_id == user.id)))


def visibility_clause(user) -> ColumnElement:
    """WHERE clause: the tickets `user` may see (mirror: can_view_ticket)."""
    if not getattr(user, "is_authenticated", False) or not user.can("tickets.view"):
        return false()
    if can_see_all_departments(user):
        return true()
    return or_(theirs_clause(user), handled_clause(user))


def can_view_ticket(user, ticket) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.can("tickets.view"):
        return False
    return can_see_all_departments(user) or _is_theirs(user, ticket) \
        or _has_handled(user, ticket)


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


def event_choices(user, ticket) -> tuple[list[str], list[dict]]:
    """allowed_events_for and unavailable_events_for with the workflow asked once (a ticket's
    page and its API answer show both)."""
    ruled_out = ticket_workflow.unavailable_events(ticket)
    return _allowed(user, ticket, ruled_out), _unavailable(user, ticket, ruled_out)


def allowed_events_for(user, ticket) -> list[str]:
    """Events this user may fire on the ticket now: the state allows them, the ticket passes
    their guards (what the user will type is checked when it is sent) and the user's roles
    grant them; in the workflow's usual-path order."""
    return _allowed(user, ticket, ticket_workflow.unavailable_events(ticket))


def unavailable_events_for(user, ticket) -> list[dict]:
    """Events the user could fire in this state but the ticket rules out now, with why
    (translated): [{"event", "reasons", "guards"}]."""
    return _unavailable(user, ticket, ticket_workflow.unavailable_events(ticket))


def _allowed(user, ticket, ruled_out: dict) -> list[str]:
    return [e for e in ticket_workflow.allowed_events(ticket.state)
            if e not in ruled_out and can_fire_event(user, ticket, e)]


def _unavailable(user, ticket, ruled_out: dict) -> list[dict]:
    return [{"event": event, "guards": guards, "reasons": guard_reasons(guards, messages)}
            for event, (messages, guards) in ruled_out.items()
            if can_fire_event(user, ticket, event)]
