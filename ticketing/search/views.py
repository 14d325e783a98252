"""The search page: one box, ranked results."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from ticketing.errors import InvalidInput
from ticketing.auth.permissions import permission_required
from ticketing.search.queries import CANDIDATES, search_tickets
from ticketing.search.tokens import MAX_QUERY

bp = Blueprint("search", __name__)
RESULTS = 50


@bp.route("/search")
@permission_required("tickets.view")
def search():
    query = (request.args.get("q") or "").strip()
    result, error = None, None
    if query:
        try:
            result = search_tickets(current_user, query, RESULTS)
        except InvalidInput as exc:
            error = " ".join(str(m) for messages in exc.extra["fields"].values()
                             for m in messages)
    return render_template("search/search.html", query=query, result=result, error=error,
                           max_query=MAX_QUERY, candidates=CANDIDATES), 400 if error else 200
