"""API: link a repeat caller's call to their open ticket."""
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate

from ticketing.apiutil import MAX_ID, ApiBlueprint, ApiErrorSchema
from ticketing.auth.permissions import forbidden, permission_required
from ticketing.calls import operations as ops
from ticketing.calls.models import Call
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import can_open_ticket, can_view_ticket
from ticketing.tickets.schemas import CallSchema, HistorySchema
from ticketing.unit import unit_of_work

blp = ApiBlueprint("calls_api", __name__, url_prefix="/api/v1/calls",
                   description="Calls and repeat callers")


class CallLinkSchema(Schema):
    ticket_id = fields.Integer(required=True, strict=True,
                               validate=validate.Range(min=1, max=MAX_ID))
    note = fields.String(load_default="", validate=validate.Length(max=ops.NOTE_LIMIT))


class CallLinkResultSchema(Schema):
    call = fields.Nested(CallSchema)
    history = fields.Nested(HistorySchema)


@blp.route("/<int:call_id>/link", methods=["POST"])
@permission_required()
@blp.arguments(CallLinkSchema)
@blp.response(200, CallLinkResultSchema)
@blp.alt_response(400, schema=ApiErrorSchema)
@blp.alt_response(401, schema=ApiErrorSchema)
@blp.alt_response(403, schema=ApiErrorSchema)
@blp.alt_response(404, schema=ApiErrorSchema)
@blp.alt_response(409, schema=ApiErrorSchema)
def link(data, call_id):
    """Instead of a duplicate ticket: your call (from the screen pop) joins the caller's
    open ticket, whose history records it with your note. 409 if the call already led to a
    ticket or the ticket is closed."""
    if not can_open_ticket(current_user):
        raise forbidden()
    if db.session.get(Call, call_id) is None:
        raise ApiError(404, "not_found", _("No such call."))
    ticket = db.session.get(Ticket, data["ticket_id"])
    if ticket is None or not can_view_ticket(current_user, ticket):
        raise ApiError(404, "not_found", _("No such ticket."))
    with unit_of_work():
        call = ops.pending_call(call_id)
        history = ops.link_call(current_user, call, ticket, data["note"])
        body = jsonify(CallLinkResultSchema().dump({"call": call, "history": history}))
    return body
