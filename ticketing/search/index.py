"""The search index: one row per ticket holding the tokens of its text (`body`: number,
title, caller, category, description, notes) and of its customer (`customer`: name,
account number, address), so a query may mix both.

SQLite: an FTS5 table `ticket_search(body, customer)` whose rowid is the ticket id, with a
one-character prefix index for one-character Chinese queries. PostgreSQL: a table
`ticket_search(ticket_id, created_at, body, customer, document)` whose `document` is the
`simple` tsvector of both columns plus recency tokens of the ticket's `created_at` (it
never changes), in a GIN index, so that a search can ask for its newest matches a window at
a time (newest_matches, window_query). Both are written in the transaction of the change
that caused them (see receivers.py) and built for existing rows by the migration (backfill).
The table is not an ORM model: its shape differs per database (migrations/env.py leaves it
out of the model comparison)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime, bindparam, cast, column, func, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY

from ticketing.clock import utcnow
from ticketing.search.tokens import index_text, query_terms, with_characters

TABLE = "ticket_search"
SQLITE_DDL = (f"CREATE VIRTUAL TABLE {TABLE} USING fts5(body, customer, "
              "tokenize='ascii', prefix='1')")
# Recency tokens: the UTC day of creation (days since 1970), its 8-day and its 64-day block,
# as lexemes starting with "#", which no text ever gives (both tokenizers split at "#"), so
# only window_query asks for them. Immutable: the epoch of a time is the same in every zone.
RECENCY_FUNCTION = (
    "CREATE OR REPLACE FUNCTION ticket_search_recency(at timestamp with time zone) "
    "RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT array_to_tsvector(ARRAY['#d' || d, '#w' || (d / 8), '#q' || (d / 64)]) "
    "FROM (SELECT floor(extract(epoch FROM at) / 86400)::integer AS d) AS day $$")
DOCUMENT = ("document tsvector GENERATED ALWAYS AS (to_tsvector('simple', body || ' ' || "
            "customer) || ticket_search_recency(created_at)) STORED")
POSTGRESQL_DDL = (
    f"CREATE TABLE {TABLE} ("
    " ticket_id integer PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,"
    " created_at timestamp with time zone NOT NULL,"
    " body text NOT NULL DEFAULT '',"
    " customer text NOT NULL DEFAULT '',"
    f" {DOCUMENT})",
    f"CREATE INDEX ix_{TABLE}_document ON {TABLE} USING gin (document)",
    # The recency tokens are among the commonest lexemes; with the default sample the
    # planner then took a word it had not sampled for a common one (and walked a million
    # tickets for a miss).
    f"ALTER TABLE {TABLE} ALTER COLUMN document SET STATISTICS 1000",
)

_sqlite = table(TABLE, column("rowid"), column("body"), column("customer"))
_pg = table(TABLE, column("ticket_id"), column("created_at"), column("body"),
            column("customer"), column("document"))


def ticket_text(ticket) -> str:
    """Index tokens of a ticket's own text, as it is when opened."""
    return index_text(ticket.number, ticket.title, ticket.caller_name, ticket.caller_phone,
                      ticket.category, ticket.description)


def customer_text(customer) -> str:
    if customer is None:
        return ""
    return index_text(customer.name, customer.account_no, customer.address)


def _is_pg(connection) -> bool:
    return connection.dialect.name == "postgresql"


def _stored(connection, tokens: str) -> str:
    """The tokens as the database's index stores them (PostgreSQL: with_characters)."""
    return with_characters(tokens) if _is_pg(connection) else tokens


_ADD_TICKET = {  # built once: a creation runs one of them
    "postgresql": text(f"INSERT INTO {TABLE} (ticket_id, created_at, body, customer) "
                       "VALUES (:id, :created_at, :body, :customer)"),
    "sqlite": text(f"INSERT INTO {TABLE} (rowid, body, customer) "
                   "VALUES (:id, :body, :customer)")}


def add_ticket(connection, ticket, body: str, customer: str) -> None:
    if _is_pg(connection):
        connection.execute(_ADD_TICKET["postgresql"],
                           {"id": ticket.id, "created_at": ticket.created_at,
                            "body": with_characters(body), "customer": with_characters(customer)})
    else:
        connection.execute(_ADD_TICKET["sqlite"],
                           {"id": ticket.id, "body": body, "customer": customer})


def append_body(connection, ticket_id: int, tokens: str) -> None:
    """Add tokens (of a note) to a ticket's body."""
    append_bodies(connection, [ticket_id], tokens)


def append_bodies(connection, ticket_ids: list[int], tokens: str) -> None:
    """Add the same tokens to each ticket's body (one executemany)."""
    if not tokens or not ticket_ids:
        return
    key = "ticket_id" if _is_pg(connection) else "rowid"
    connection.execute(text(f"UPDATE {TABLE} SET body = body || ' ' || :tokens "
                            f"WHERE {key} = :id"),
                       [{"id": ticket_id, "tokens": _stored(connection, tokens)}
                        for ticket_id in ticket_ids])


def set_customer(connection, customer_id: int, tokens: str) -> None:
    """Rewrite the customer tokens of every ticket of this customer."""
    key = "ticket_id" if _is_pg(connection) else "rowid"
    connection.execute(text(f"UPDATE {TABLE} SET customer = :tokens WHERE {key} IN "
                            "(SELECT id FROM tickets WHERE customer_id = :customer_id)"),
                       {"customer_id": customer_id, "tokens": _stored(connection, tokens)})


def match_expression(connection, query: str):
    """(the MATCH / tsquery string, or None when the query holds no searchable token)."""
    terms = query_terms(query)
    if not terms:
        return None
    if _is_pg(connection):  # one character is a key of its own there (with_characters)
        return " & ".join(f"'{token}'" for token, _prefix in terms)
    return " AND ".join(f'"{token}"' + (" *" if prefix else "") for token, prefix in terms)


def matching_ids(connection, query: str, since=None):
    """A SELECT of the ids of the tickets matching `query` (all its terms), or None when
    the query holds no searchable token (it matches nothing). `since` (PostgreSQL): only
    tickets created at or after it (newest_matches)."""
    expression = match_expression(connection, query)
    if expression is None:
        return None
    if _is_pg(connection):
        return select(_pg.c.ticket_id).where(_pg.c.document.op("@@")(
            pg_tsquery(expression, since)))
    return select(_sqlite.c.rowid).where(
        literal_column(TABLE).op("MATCH")(bindparam("search_query", expression, unique=True)))


def pg_tsquery(expression: str, since=None):
    """The tsquery of match_expression's `expression`, and, `since` given, of its window:
    one GIN condition, so that the planner cannot misjudge the window (see below)."""
    tsquery = func.to_tsquery(literal_column("'simple'::regconfig"),
                              bindparam("search_query", expression, unique=True))
    return tsquery if since is None else tsquery.op("&&")(window_query(since))


# PostgreSQL: GIN answers "which rows match" but not "which are the newest", so reading the
# newest matches of a word in 27,000 tickets visited all 27,000 heap rows (175 ms at
# 1,000,000 tickets). A search that wants its newest matches asks for them a window at a
# time: the tickets created since the start of a day, as recency tokens ANDed with the
# query in the one GIN condition, so only the window's matches are read. (A btree range on
# created_at ANDed with the GIN bitmap was tried: the planner, underestimating words that
# come together, such as "router rebooting", skipped the range and read every match.)
# Windows are counted in tickets (by id) and widen by what the last one gave, the last one
# unbounded; the answer is the same as one query over everything, as a window holds every
# match created since its bound.
FIRST_WINDOW = 5_000  # tickets; a window starts at the start of a day, so it holds more
WIDEN = 8
DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def newest_matches(connection, need: int, read, newest_id: int | None = None):
    """What read(since) gives for the smallest window of the newest tickets (up to
    `newest_id`, default the newest) in which it gives at least `need` rows; read(None)
    (every ticket) when none does. `since` is the start of a UTC day. The first window
    holds about FIRST_WINDOW tickets; each next one is wider by what the last one gave:
    enough for `need` with a margin (at least twice as wide), or WIDEN times when it gave
    nothing."""
    tickets = table("tickets", column("id"), column("created_at", DateTime()))
    if newest_id is None:
        newest_id = connection.scalar(select(func.max(tickets.c.id)))
    span, last = FIRST_WINDOW, None
    while newest_id and span < newest_id:
        low = connection.scalar(select(tickets.c.created_at).where(
            tickets.c.id <= newest_id - span).order_by(tickets.c.id.desc()).limit(1))
        if low is None:
            break
        day = EPOCH + (_as_utc(low) - EPOCH) // DAY * DAY
        if day == last:  # the same day again: widen without asking
            span *= 2
            continue
        rows = read(day)
        if len(rows) >= need:
            return rows
        last = day
        span = int(span * (WIDEN if not rows else max(2.0, 1.5 * need / len(rows))))
    return read(None)


def window_query(since: datetime):
    """The tsquery of the recency tokens of every day from `since` (the start of a UTC day)
    on: day tokens up to an 8-day block, 8-day tokens up to a 64-day block, then 64-day
    blocks (the last reaching past today): at most about 20 terms for a year."""
    day = (_as_utc(since) - EPOCH) // DAY
    last = (utcnow() - EPOCH) // DAY + 1  # and a day more: a clock a little ahead
    terms = []
    while day <= last:
        for width, tag in ((64, "q"), (8, "w"), (1, "d")):
            if day % width == 0 or width == 1:
                terms.append(f"'#{tag}{day // width}'")
                day += width
                break
    return cast(bindparam("search_window", " | ".join(terms), unique=True), TSQUERY)


def _as_utc(at: datetime) -> datetime:
    """SQLite hands back naive times; they are UTC."""
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at


# How a newest-first list filters by text on SQLite, by how many tickets match: SQLite's
# planner always drives from the matches (each looked up, then all sorted), which took a
# second for a word in a third of a million tickets. Measured at 1,000,000 tickets: a few
# matches are best looked up; a middling share is best read into a set once while the list
# walks its index newest first; a common word is best probed ticket by ticket along that
# walk, which stops after a page. The plans differ, never the rows.
FEW, COMMON = 1 / 500, 1 / 10  # shares of all tickets


def list_text_clause(connection, query: str, ticket_id, plan: str | None = None, since=None):
    """The WHERE clause "ticket `ticket_id` matches every term of `query`" for a list, or
    None when the query holds no searchable token. `plan` ("lookup", "set", "probe") is for
    tests; otherwise SQLite picks it by list_text_plan. `since`: see matching_ids."""
    matching = matching_ids(connection, query, since)
    if matching is None:
        return None
    if _is_pg(connection):
        return ticket_id.in_(matching)  # the planner weighs the GIN index itself
    plan = plan or _plan(connection, matching, ticket_id)
    if plan == "lookup":
        return ticket_id.in_(matching)
    if plan == "set":
        return (ticket_id + 0).in_(matching)  # "+ 0": not a key to drive from
    return matching.where(_sqlite.c.rowid == ticket_id).exists()


def list_text_plan(connection, query: str, ticket_id) -> str | None:
    """The plan SQLite's list filter takes for `query` (None: it matches nothing)."""
    matching = matching_ids(connection, query)
    return None if matching is None else _plan(connection, matching, ticket_id)


def _plan(connection, matching, ticket_id) -> str:
    """By a count of the matches that stops at a common word's share."""
    tickets = connection.scalar(select(func.max(ticket_id))) or 0
    common = max(int(tickets * COMMON), 1)
    found = connection.scalar(select(func.count()).select_from(
        matching.limit(common).subquery()))
    return "probe" if found >= common else "set" if found >= tickets * FEW else "lookup"


def create(connection) -> None:
    """The index table, empty (the GIN index comes with backfill)."""
    if _is_pg(connection):
        connection.execute(text(RECENCY_FUNCTION))
        connection.execute(text(POSTGRESQL_DDL[0]))
    else:
        connection.execute(text(SQLITE_DDL))


def drop(connection) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
    if _is_pg(connection):
        connection.execute(text("DROP FUNCTION IF EXISTS "
                                "ticket_search_recency(timestamp with time zone)"))


_TICKETS = text(
    "SELECT t.id, t.created_at, t.number, t.title, t.caller_name, t.caller_phone, t.category, "
    "t.description, t.fault_type, t.incident_ref, t.receipt_person, "
    "c.name, c.account_no, c.address "
    "FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id "
    "WHERE t.id > :low AND t.id <= :high")
# What people wrote in the history: the opening row repeats the description, and rows
# without an actor are the system's (SLA warnings and escalations).
_NOTES = text(
    "SELECT ticket_id, note FROM ticket_events "
    "WHERE ticket_id > :low AND ticket_id <= :high AND note <> '' "
    "AND actor_id IS NOT NULL AND event <> 'open' ORDER BY ticket_id, id")


def backfill(connection, chunk: int = 20_000, progress=None) -> int:
    """Rebuild the index from the tickets, their history notes and customers (the
    migration's backfill; bench/seed.py after a bulk load). Returns the tickets indexed."""
    pg = _is_pg(connection)
    connection.execute(text(f"DELETE FROM {TABLE}"))
    if not pg:
        # FTS5 merges its segments as it grows: with SQLite's default 2 MB page cache a
        # million-ticket build spills and rewrites the same pages gigabytes over.
        cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        connection.exec_driver_sql("PRAGMA cache_size = -524288")  # 512 MB, this build only
    if pg:  # a GIN index is built far faster once than row by row
        connection.execute(text(f"DROP INDEX IF EXISTS ix_{TABLE}_document"))
        insert = text(f"INSERT INTO {TABLE} (ticket_id, created_at, body, customer) "
                      "VALUES (:id, :created_at, :body, :customer)")
    else:
        insert = text(f"INSERT INTO {TABLE} (rowid, body, customer) "
                      "VALUES (:id, :body, :customer)")
    high_id = connection.scalar(text("SELECT COALESCE(MAX(id), 0) FROM tickets"))
    done = 0
    for low in range(0, high_id, chunk):
        bounds = {"low": low, "high": low + chunk}
        notes: dict[int, list[str]] = {}
        for ticket_id, note in connection.execute(_NOTES, bounds):
            notes.setdefault(ticket_id, []).append(note)
        rows = [{"id": row[0], "created_at": row[1],
                 "body": _stored(connection, index_text(*row[2:11], *notes.get(row[0], ()))),
                 "customer": _stored(connection, index_text(*row[11:14]))}
                for row in connection.execute(_TICKETS, bounds)]
        if rows:
            connection.execute(insert, rows)
        done += len(rows)
        if progress:
            progress(done)
    if pg:
        connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for ddl in POSTGRESQL_DDL[1:]:
            connection.execute(text(ddl))
        connection.execute(text(f"ANALYZE {TABLE}"))
    else:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    return done
