"""In-app notice to whoever a ticket is newly assigned to (dispatch, assign to a person):
written by a signal receiver inside the transition's own unit of work."""
from ticketing.extensions import db
from ticketing.signals import ticket_transitioned
from ticketing.timers.models import Notification

ASSIGNED = "ticket_assigned"


def on_ticket_assigned(ticket, *, actor=None, at=None, fields=None, **_kwargs) -> None:
    assignee_id = (fields or {}).get("assignee_id")
    if not assignee_id or ticket.assignee_id != assignee_id \
            or assignee_id == getattr(actor, "id", None):
        return
    db.session.add(Notification(
        user_id=assignee_id, ticket_id=ticket.id, kind=ASSIGNED, created_at=at,
        data={"ticket_number": ticket.number,
              "by": getattr(actor, "display_name", None) or ""}))


def connect_receivers() -> None:
    """Called by the area's init_app; connecting the same receiver twice is a no-op."""
    ticket_transitioned.connect(on_ticket_assigned, weak=False)
