"""Page action: link a repeat caller's call to their open ticket (from the call screen)."""
from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ticketing.auth.permissions import forbidden, permission_required
from ticketing.calls import operations as ops
from ticketing.calls.forms import LinkCallForm
from ticketing.customers.operations import normalise_phone
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import can_open_ticket, can_view_ticket
from ticketing.unit import unit_of_work

bp = Blueprint("calls", __name__)


@bp.route("/calls/link", methods=["POST"])
@permission_required()
def link():
    if not can_open_ticket(current_user):
        raise forbidden()
    form = LinkCallForm()
    phone = normalise_phone(form.phone.data or "")
    back = url_for("tickets.call_screen", phone=phone or (form.phone.data or "")[:30])
    if not form.validate_on_submit() or phone is None:
        flash(_("The call could not be linked: reload the call screen and try again."),
              "error")
        return redirect(back)
    ticket = db.session.get(Ticket, int(form.ticket_id.data))
    if ticket is None or not can_view_ticket(current_user, ticket):
        abort(404)
    try:
        with unit_of_work():
            call = (ops.pending_call(int(form.call_id.data)) if form.call_id.data
                    else ops.record_call(current_user, phone, ticket.customer_id))
            ops.link_call(current_user, call, ticket, form.note.data or "")
    except ApiError as exc:
        fields = exc.extra.get("fields") or {}
        flash(" ".join(str(m) for messages in fields.values() for m in messages)
              or exc.message, "error")
        return redirect(back)
    flash(_("Call linked to ticket %(number)s.", number=ticket.number), "success")
    return redirect(url_for("tickets.detail", ticket_id=ticket.id))
