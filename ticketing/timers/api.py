"""API: a ticket's SLA clocks, the current user's notifications."""
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ticketing.apiutil import ApiBlueprint
from ticketing.auth.permissions import permission_required
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import can_view_ticket
from ticketing.timers import operations as ops
from ticketing.timers.models import SlaClock
from ticketing.timers.schemas import (MarkedSchema, MarkReadSchema, NotificationQuerySchema,
                                      NotificationSchema, SlaClockSchema)
from ticketing.unit import unit_of_work

blp = ApiBlueprint("timers_api", __name__, url_prefix="/api/v1",
                   description="SLA clocks and notifications")


@blp.route("/tickets/<int:ticket_id>/clocks", methods=["GET"])
@blp.response(200, SlaClockSchema(many=True))
@permission_required()
def ticket_clocks(ticket_id):
    """Every SLA clock of the ticket, oldest first: due time, status, breach, minutes used."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_view_ticket(current_user, ticket):
        raise ApiError(404, "not_found", _("No such ticket."))
    return db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)
                              .order_by(SlaClock.id)).all()


@blp.route("/notifications", methods=["GET"])
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationSchema(many=True))
@permission_required()
def list_notifications(args):
    """The caller's notifications, newest first; page with before_id."""
    return ops.notifications_for(current_user, unread_only=args["unread"], limit=args["limit"],
                                 before_id=args.get("before_id"))


@blp.route("/notifications/read", methods=["POST"])
@blp.arguments(MarkReadSchema)
@blp.response(200, MarkedSchema)
@permission_required()
def mark_read(data):
    """Mark the given notifications (or all unread ones) of the caller as read."""
    with unit_of_work():
        marked = ops.mark_notifications_read(current_user, data.get("ids"))
    return {"marked": marked}
