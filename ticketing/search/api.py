"""API: ranked full-text search over the tickets the caller may see."""
from flask import jsonify
from flask_login import current_user
from marshmallow import Schema, fields, validate

from ticketing.apiutil import ApiBlueprint, ApiErrorSchema
from ticketing.auth.permissions import permission_required
from ticketing.search.queries import CANDIDATES, MAX_RESULTS, search_tickets
from ticketing.search.tokens import MAX_QUERY
from ticketing.tickets.schemas import TicketSchema, dump_ticket_rows

blp = ApiBlueprint("search_api", __name__, url_prefix="/api/v1/search",
                   description="Full-text search (全文检索)")


class SearchQuerySchema(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=MAX_QUERY),
                      metadata={"description": "words and Chinese text; every term must "
                                               "match; one Chinese character matches as a "
                                               "prefix"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_RESULTS))


class SearchResultSchema(Schema):
    items = fields.List(fields.Nested(TicketSchema), metadata={"description": "best first"})
    capped = fields.Boolean(metadata={"description": f"more than {CANDIDATES} matches: "
                                                     f"ranked among the newest {CANDIDATES}"})


@blp.route("/tickets", methods=["GET"])
@permission_required("tickets.view")
@blp.arguments(SearchQuerySchema, location="query")
@blp.response(200, SearchResultSchema)
@blp.alt_response(400, schema=ApiErrorSchema)
@blp.alt_response(401, schema=ApiErrorSchema)
@blp.alt_response(403, schema=ApiErrorSchema)
def search(args):
    """Tickets matching the text in their number, title, caller, description, notes, or
    their customer's name, account number or address; ranked, then only those you may see."""
    result = search_tickets(current_user, args["q"], args["limit"])
    return jsonify({"items": dump_ticket_rows(result.rows), "capped": result.capped})
