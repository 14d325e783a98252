"""Signals areas send inside a unit of work; receivers run in the same transaction."""
from blinker import Namespace

_signals = Namespace()

# sender: the Ticket; kwargs: actor, at (flushed, not yet committed)
ticket_opened = _signals.signal("ticket-opened")
# sender: the Ticket; kwargs: actor, at, event, from_state, to_state, fields, history
ticket_transitioned = _signals.signal("ticket-transitioned")
