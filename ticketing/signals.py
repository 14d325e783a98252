"""Signals areas send inside a unit of work; receivers run in the same transaction."""
from blinker import Namespace

_signals = Namespace()

# sender: the Ticket; kwargs: actor, at (flushed, not yet committed)
ticket_opened = _signals.signal("ticket-opened")
# Sent once per batch of tickets that took the same event together (one ticket from a page
# or the API; a thousand when an incident is released), so a receiver does its work in a
# few statements for all of them. sender: the event name; kwargs: actor, at, fields,
# transitions (a list of tickets.operations.Transition: ticket, from_state, to_state,
# history), all flushed, not yet committed.
tickets_transitioned = _signals.signal("tickets-transitioned")
# sender: the Ticket; kwargs: actor, at, history (a history row a person wrote without a
# state change, e.g. a repeat call linked to the ticket)
ticket_noted = _signals.signal("ticket-noted")
# sender: the Customer; kwargs: actor, action ("create" / "update"), changes {field: [old, new]}
customer_changed = _signals.signal("customer-changed")
# sender: the Callback, done with a reached survey (its scores, result, done_at and
# department_id set); kwargs: actor, attempt, at, threshold (the settings' threshold it was
# judged by). Flushed, not yet committed; an unsatisfied survey has reopened the ticket.
callback_surveyed = _signals.signal("callback-surveyed")
