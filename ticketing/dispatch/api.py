"""API: the dispatcher's board, the field teams, a team's queue.

Assigning is the ticket workflow's dispatch event (POST /tickets/<id>/transitions with
{"event": "dispatch", "fields": {"department_id": team, "assignee_id": technician}}); a
team's actions are its take, accept and report_repaired events: one path for each change."""
from flask import jsonify
from flask_login import current_user

from ticketing.apiutil import ApiBlueprint
from ticketing.auth.permissions import permission_required
from ticketing.dispatch import queries
from ticketing.dispatch.schemas import (BoardQuerySchema, BoardSchema, QueueSchema, TeamSchema,
                                        board_json)
from ticketing.tickets.permissions import allowed_events_for

blp = ApiBlueprint("dispatch_api", __name__, url_prefix="/api/v1",
                   description="Dispatch (调度): the board, field teams, a team's queue")

QUEUE_EVENTS = ("take", "accept", "report_repaired")




@blp.route("/dispatch/board", methods=["GET"])
@blp.arguments(BoardQuerySchema, location="query")
@blp.response(200, BoardSchema)
@blp.errors(400, 401, 403)
@permission_required("dispatch.board")
def get_board(args):
    """Open repair work orders grouped by customer area and fault type, unassigned first,
    each with its nearest deadline and SLA colour; and the field teams to send them to.
    At most `limit` work orders (those without a team first, oldest first): `truncated`
    says when there are more, `counts` how many there are in each state."""
    return jsonify(board_json(queries.board(args["limit"])))  # BoardSchema's shape, faster


@blp.route("/dispatch/teams", methods=["GET"])
@blp.response(200, TeamSchema(many=True))
@blp.errors(401, 403)
@permission_required("dispatch.board")
def list_teams():
    """Field teams with their members (the technicians) and the areas they serve."""
    return queries.teams_with_members()


@blp.route("/dispatch/queue", methods=["GET"])
@blp.response(200, QueueSchema)
@blp.errors(401, 403)
@permission_required("dispatch.queue")
def get_queue():
    """Your field team's work orders: to accept first, then by nearest deadline (team null
    and no items when you are not in a field team)."""
    team = queries.team_of(current_user)
    if team is None:
        return {"team": None, "items": []}
    items = []
    for ticket, deadline in queries.team_queue(team):
        events = [e for e in allowed_events_for(current_user, ticket) if e in QUEUE_EVENTS]
        items.append({"ticket": ticket, "area": ticket.customer.area if ticket.customer
                      else None, "assignee": ticket.assignee, "deadline": deadline,
                      "events": events})
    return {"team": team, "items": items}
