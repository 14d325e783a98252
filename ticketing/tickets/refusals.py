"""What the ticket workflow's refusals look like to a person: the machine's errors (English,
it knows no Flask-Babel) turned into the one error shape, translated."""
from flask_babel import gettext as _

from ticketing.errors import error_response
from ticketing.extensions import db
from ticketing.tickets.labels import event_label, guard_reasons, state_label
from workflows.errors import EventNotAllowed, GuardRefused, UnknownEvent


def describe_workflow_error(error) -> tuple[int, str, str, dict]:
    """(status, code, translated message, extra) for a refusal from workflows/, whose own
    messages are English because it knows no Flask-Babel."""

    def action(name):
        return _("%(label)s (%(name)s)", label=event_label(name), name=name)

    if isinstance(error, UnknownEvent):
        message = _("There is no action %(name)s.", name=error.event)
        return 400, "unknown_event", message, {"fields": {"event": [message]}}
    if isinstance(error, EventNotAllowed):
        allowed = ", ".join(str(action(name)) for name in error.allowed) or _("none")
        message = _("%(action)s is not allowed while the ticket is in state %(state)s. "
                    "Allowed actions: %(allowed)s.", action=action(error.event),
                    state=_("%(label)s (%(name)s)", label=state_label(error.state),
                            name=error.state),
                    allowed=allowed)
        return 409, "event_not_allowed", message, {
            "state": error.state, "event": error.event, "allowed_events": list(error.allowed)}
    reasons = list(getattr(error, "messages", []))
    guards = list(getattr(error, "guards", []))
    message = _("%(action)s was refused: %(reasons)s", action=action(error.event),
                reasons=" ".join(guard_reasons(guards, reasons)))
    return 409, "guard_refused", message, {"event": error.event, "reasons": reasons,
                                           "guards": guards}


def _workflow_error(error):
    db.session.rollback()
    status, code, message, extra = describe_workflow_error(error)
    return error_response(status, code, message, **extra)


def register_refusal_handlers(app) -> None:
    for error in (EventNotAllowed, GuardRefused, UnknownEvent):
        app.register_error_handler(error, _workflow_error)
