"""Calls: record one, see the same number's earlier calls, tie a call to the ticket it led
to (a new one, or the caller's open ticket: a history entry instead of a duplicate).
They flush, never commit."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ticketing.errors import InvalidInput
from ticketing.calls.models import Call
from ticketing.clock import utcnow
from ticketing.errors import Conflict
from ticketing.extensions import db
from ticketing.signals import ticket_noted
from ticketing.tickets.models import Ticket, TicketEvent

NOTE_LIMIT = 1000
PREVIOUS_SHOWN = 10


def record_call(agent, phone: str, customer_id: int | None = None) -> Call:
    """A call that reached `agent` now; `phone` is already normalised."""
    call = Call(phone=phone, at=utcnow(), agent_id=getattr(agent, "id", None),
                customer_id=customer_id)
    db.session.add(call)
    db.session.flush()
    return call


def previous_calls(phone: str, window_hours: float, before: Call | None = None,
                   now=None) -> list[Call]:
    """This number's calls within the repeat-caller window, newest first (not `before`)."""
    since = (now or utcnow()) - timedelta(hours=window_hours)
    stmt = (select(Call).where(Call.phone == phone, Call.at >= since)
            .order_by(Call.at.desc(), Call.id.desc()).limit(PREVIOUS_SHOWN + 1))
    calls = [c for c in db.session.scalars(stmt) if before is None or c.id != before.id]
    return calls[:PREVIOUS_SHOWN]


def pending_call(call_id) -> Call:
    """A call not yet tied to a ticket (any agent's: a call may be passed on); InvalidInput
    when there is no such call, Conflict when it already led to a ticket."""
    call = db.session.get(Call, call_id) if call_id else None
    if call is None:
        raise InvalidInput({"call_id": [_("No such call.")]})
    if call.ticket_id is not None:
        raise Conflict("call_already_linked",
                       _("This call already led to ticket %(number)s.",
                         number=call.ticket.number))
    return call


def call_opened_ticket(call: Call, ticket: Ticket) -> None:
    call.ticket_id = ticket.id
    call.outcome = "opened"
    db.session.flush()


def link_call(agent, call: Call, ticket: Ticket, note: str = "") -> TicketEvent:
    """A repeat caller's call joins their open ticket: a history entry on that ticket
    (who, when, the number, the agent's note) instead of a duplicate ticket."""
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise InvalidInput({"note": [_("At most %(n)d characters.", n=NOTE_LIMIT)]})
    if ticket.state == "closed":
        raise Conflict("ticket_closed",
                       _("Ticket %(number)s is closed; open a new ticket instead.",
                         number=ticket.number))
    now = utcnow()
    call.ticket_id = ticket.id
    call.outcome = "linked"
    history = TicketEvent(ticket_id=ticket.id, at=now, actor_id=getattr(agent, "id", None),
                          event="repeat_call", from_state=ticket.state, to_state=ticket.state,
                          note=note, data={"call_id": call.id, "phone": call.phone})
    db.session.add(history)
    db.session.flush()
    ticket_noted.send(ticket, actor=agent, at=now, history=history)
    return history
