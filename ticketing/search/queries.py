"""Ranked ticket search: the best matches among the newest ones the user may see."""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Integer, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY

from ticketing.errors import InvalidInput
from ticketing.extensions import db
from ticketing.search.index import (_pg, _sqlite, TABLE, match_expression, newest_matches,
                                    pg_tsquery)
from ticketing.search.tokens import MAX_QUERY
from ticketing.tickets import queries as ticket_queries
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import visibility_clause

# A query is ranked over (at most) this many of its newest matches the user may see: the
# cost stays bounded for a word in half of a million tickets, and a rarer query is ranked
# over all its matches.
CANDIDATES = 1000
MAX_RESULTS = 100


@dataclass
class SearchResult:
    rows: list          # TicketRow objects, best first
    capped: bool        # more matches than CANDIDATES: ranked among the newest ones


def check_query(query: str | None) -> str:
    query = (query or "").strip()
    if not query:
        raise InvalidInput({"q": [_("Type something to search for.")]})
    if len(query) > MAX_QUERY:
        raise InvalidInput({"q": [_("At most %(n)d characters.", n=MAX_QUERY)]})
    return query


def search_tickets(user, query: str, limit: int = 20) -> SearchResult:
    """Tickets `user` may see matching every term of `query`, best first (BM25 on SQLite,
    ts_rank on PostgreSQL; ties newest first). Raises InvalidInput for an empty or
    overlong query; a query without a searchable word finds nothing."""
    query = check_query(query)
    limit = max(1, min(int(limit), MAX_RESULTS))
    connection = db.session.connection()
    expression = match_expression(connection, query)
    if expression is None:
        return SearchResult([], False)
    scores = _scored_candidates(connection, expression, visibility_clause(user))
    capped = len(scores) > CANDIDATES
    best = sorted(scores.items(), key=lambda item: (-item[1], -item[0]))[:limit]
    ids = [ticket_id for ticket_id, _score in best]
    if not ids:
        return SearchResult([], capped)
    rows, _cursor = ticket_queries.ticket_rows(user, ids=ids, limit=len(ids))
    order = {ticket_id: place for place, ticket_id in enumerate(ids)}
    return SearchResult(sorted(rows, key=lambda row: order[row.id]), capped)


def _scored_candidates(connection, expression: str, visible) -> dict[int, float]:
    """{ticket id: score (higher is better)} of the newest CANDIDATES + 1 visible matches."""
    if connection.dialect.name == "postgresql":
        def newest(since):
            return connection.execute(
                select(_pg.c.ticket_id).join(Ticket.__table__, Ticket.id == _pg.c.ticket_id)
                .where(_pg.c.document.op("@@")(pg_tsquery(expression, since)), visible)
                .order_by(_pg.c.created_at.desc(), _pg.c.ticket_id.desc())
                .limit(CANDIDATES + 1)).scalars().all()

        ids = newest_matches(connection, CANDIDATES + 1, newest)
        if not ids:
            return {}
        # Ranked apart, so the ranking reads only these rows' documents.
        rank = func.ts_rank(_pg.c.document, pg_tsquery(expression))
        # One array parameter: an IN list of 1,001 was two thirds of this query's time.
        ranked = select(_pg.c.ticket_id, rank).where(_pg.c.ticket_id == any_(
            bindparam("candidates", list(ids), type_=ARRAY(Integer))))
        return {row[0]: float(row[1]) for row in connection.execute(ranked)}
    # bm25() is smaller for better matches; it must run in the MATCH query itself.
    newest = (select(_sqlite.c.rowid, func.bm25(literal_column(TABLE)))
              .join(Ticket.__table__, Ticket.id == _sqlite.c.rowid)
              .where(literal_column(TABLE).op("MATCH")(bindparam("search_query", expression)),
                     visible)
              .order_by(_sqlite.c.rowid.desc()).limit(CANDIDATES + 1))
    return {row[0]: -float(row[1]) for row in connection.execute(newest)}
