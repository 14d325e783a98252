"""API: tickets, their transitions and history, the workflow as data, the phone system's
screen pop. Handlers parse, check a can_* predicate, call one operation and commit once."""
from flask import current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ticketing.apiutil import ApiBlueprint
from ticketing.calls import operations as calls
from ticketing.auth.permissions import forbidden, permission_required
from ticketing.customers.operations import customers_by_phone, normalise_phone
from ticketing.errors import ApiError, InvalidInput
from ticketing.extensions import db
from ticketing.incidents.operations import open_incidents_for
from ticketing.tickets import operations as ops, queries
from ticketing.tickets.labels import (CHANNEL_LABELS, FIELD_LABELS, KIND_LABELS,
                                      PRIORITY_LABELS, STATUS_LABELS, event_label, state_label)
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.tickets.permissions import can_fire_event, can_open_ticket, can_view_ticket
from ticketing.tickets.schemas import (HistorySchema, ScreenPopResultSchema, ScreenPopSchema,
                                       TicketCreateSchema, TicketDetailSchema, TicketPageSchema,
                                       TicketQuerySchema, TransitionResultSchema,
                                       TransitionSchema, WorkflowSchema, dump_ticket_detail,
                                       dump_ticket_rows)
from ticketing.unit import unit_of_work
from workflows.machine import ticket_workflow
from workflows.tickets import KINDS, LEAVES

blp = ApiBlueprint("tickets_api", __name__, url_prefix="/api/v1", description="Tickets (工单)")




def _ticket_or_404(ticket_id: int) -> Ticket:
    """The ticket, or 404 alike when it does not exist and when the user may not see it."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_view_ticket(current_user, ticket):
        raise ApiError(404, "not_found", _("No such ticket."))
    return ticket


_HISTORY = HistorySchema()  # made once: building a schema copies its fields


@blp.route("/tickets", methods=["POST"])
@blp.arguments(TicketCreateSchema)
@blp.response(201, TicketDetailSchema)
@blp.errors(400, 401, 403, 409, 503)
@permission_required()
def create_ticket(data):
    """Open a ticket for a call (by customer or caller phone); it starts in `<kind>_new`.
    With the screen pop's `call_id`, that call is recorded as leading to this ticket
    (409 if it already led to one)."""
    if not can_open_ticket(current_user):
        raise forbidden()
    call_id = data.pop("call_id", None)
    with unit_of_work(keep_loaded=True):
        call = calls.pending_call(call_id) if call_id else None
        ticket = ops.open_ticket(current_user, **data)
        if call is not None:
            calls.call_opened_ticket(call, ticket)
    # Shaped after the commit from the objects as written (kept loaded: no reload of the
    # ticket, its creator and their roles), so not while SQLite's write lock is held.
    return jsonify(dump_ticket_detail(current_user, ticket)), 201, {
        "Location": url_for("tickets_api.get_ticket", ticket_id=ticket.id)}


@blp.route("/tickets", methods=["GET"])
@blp.arguments(TicketQuerySchema, location="query")
@blp.response(200, TicketPageSchema)
@blp.errors(400, 401, 403)
@permission_required("tickets.view")
def list_tickets(args):
    """Tickets you may see, newest first; pass next_cursor back as cursor for the next page."""
    rows, next_cursor = queries.ticket_rows(current_user, **args)
    # Plain rows dumped without marshmallow (same shape as TicketPageSchema, which documents
    # it): the list is the busiest read and marshmallow was most of its time.
    return jsonify({"items": dump_ticket_rows(rows), "next_cursor": next_cursor})


@blp.route("/tickets/<int:ticket_id>", methods=["GET"])
@blp.response(200, TicketDetailSchema)
@blp.errors(401, 403, 404)
@permission_required("tickets.view")
def get_ticket(ticket_id):
    """One ticket with the events you may fire on it now (404 if you may not see it)."""
    return jsonify(dump_ticket_detail(current_user, _ticket_or_404(ticket_id)))


@blp.route("/tickets/<int:ticket_id>/transitions", methods=["POST"])
@blp.arguments(TransitionSchema)
@blp.response(200, TransitionResultSchema)
@blp.errors(400, 401, 403, 404, 409, 503)
@permission_required("tickets.view")
def fire_transition(data, ticket_id):
    """Fire a workflow event with the version you read.

    400: unknown event or invalid fields; 403: you may not fire it on this ticket;
    409: not allowed in the ticket's state (event_not_allowed), someone changed the ticket
    since you read it (stale_version), or a rule refused it (guard_refused).
    """
    ticket = _ticket_or_404(ticket_id)
    event = data["event"]
    if not can_fire_event(current_user, ticket, event):
        raise forbidden(_("You may not do “%(action)s” on this ticket.",
                          action=event_label(event)))
    try:
        with unit_of_work():
            history = ops.fire_event(current_user, ticket, event, data["fields"],
                                     expected_version=data["version"])
    except StaleDataError:
        # Someone committed a change between our read and our write: show the fresh state.
        raise ops.stale_ticket(db.session.get(Ticket, ticket_id)) from None
    return jsonify({"ticket": dump_ticket_detail(current_user, ticket),
                    "history": _HISTORY.dump(history)})


@blp.route("/tickets/<int:ticket_id>/history", methods=["GET"])
@blp.response(200, HistorySchema(many=True))
@blp.errors(401, 403, 404)
@permission_required("tickets.view")
def ticket_history(ticket_id):
    """The append-only timeline of the ticket, oldest first (there is no way to change it)."""
    _ticket_or_404(ticket_id)
    return db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                              .order_by(TicketEvent.id)).all()


@blp.route("/workflows", methods=["GET"])
@blp.response(200, WorkflowSchema)
@blp.errors(401)
@permission_required()
def workflows():
    """The ticket workflow as data (states, events, transitions) with translated labels."""
    data = ticket_workflow.describe()
    for state in data["states"]:
        state["label"] = str(state_label(state["name"]))
        for child in state["children"]:
            child["state"] = f"{state['name']}_{child['name']}"
            child["label"] = str(state_label(child["state"]))
    for event in data["events"]:
        event["label"] = str(event_label(event["name"]))
        for name, field in event["fields"].items():
            field["label"] = str(FIELD_LABELS.get(name, field["label"]))
    data["labels"] = {
        "states": {name: str(state_label(name)) for name in (*KINDS, *LEAVES)},
        "statuses": {name: str(label) for name, label in STATUS_LABELS.items()},
        "kinds": {name: str(label) for name, label in KIND_LABELS.items()},
        "events": {event["name"]: event["label"] for event in data["events"]},
        "priorities": {name: str(label) for name, label in PRIORITY_LABELS.items()},
        "channels": {name: str(label) for name, label in CHANNEL_LABELS.items()},
    }
    return data


@blp.route("/screen-pop", methods=["POST"])
@blp.arguments(ScreenPopSchema)
@blp.response(200, ScreenPopResultSchema)
@blp.errors(400, 401, 403)
@permission_required("customers.view")
def screen_pop(data):
    """For the phone system when a call arrives: records the call (number, time, you), and
    answers who is calling, their open tickets (those you may see), this number's earlier
    calls and whether it called or opened a ticket within the repeat-caller window."""
    number = normalise_phone(data["phone"])
    if number is None:
        raise InvalidInput({"phone": [_("Not a phone number: %(value)s", value=data["phone"])]})
    customers = customers_by_phone(number)
    window = current_app.config["REPEAT_CALLER_WINDOW_HOURS"]
    with unit_of_work():
        call = calls.record_call(current_user, number,
                                 customers[0].id if len(customers) == 1 else None)
        previous = calls.previous_calls(number, window, before=call)
        # Shaped before the commit expires the rows.
        body = jsonify(ScreenPopResultSchema().dump({
            "phone": number,
            "call_id": call.id,
            "customers": customers,
            "open_tickets": queries.open_tickets_for_caller(current_user, number,
                                                            [c.id for c in customers]),
            "previous_calls": previous,
            "repeat_caller": bool(previous) or queries.is_repeat_caller(number, window),
            "open_incidents": open_incidents_for(current_user, [c.area for c in customers]),
        }))
    return body
