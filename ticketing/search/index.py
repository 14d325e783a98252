"""The search index: one row per ticket holding the tokens of its text (`body`: number,
title, caller, category, description, notes) and of its customer (`customer`: name,
account number, address), so a query may mix both.

SQLite: an FTS5 table `ticket_search(body, customer)` whose rowid is the ticket id, with a
one-character prefix index for one-character Chinese queries. PostgreSQL: a table
`ticket_search(ticket_id, body, customer, document)` whose `document` is the `simple`
tsvector of both columns, in a GIN index. Both are written in the transaction of the change
that caused them (see receivers.py) and built for existing rows by the migration (backfill).
The table is not an ORM model: its shape differs per database (migrations/env.py leaves it
out of the model comparison)."""
from sqlalchemy import bindparam, column, func, literal_column, select, table, text

from ticketing.search.tokens import index_text, query_terms

TABLE = "ticket_search"
SQLITE_DDL = (f"CREATE VIRTUAL TABLE {TABLE} USING fts5(body, customer, "
              "tokenize='ascii', prefix='1')")
POSTGRESQL_DDL = (
    f"CREATE TABLE {TABLE} ("
    " ticket_id integer PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,"
    " body text NOT NULL DEFAULT '',"
    " customer text NOT NULL DEFAULT '',"
    " document tsvector GENERATED ALWAYS AS"
    " (to_tsvector('simple', body || ' ' || customer)) STORED)",
    f"CREATE INDEX ix_{TABLE}_document ON {TABLE} USING gin (document)",
)

_sqlite = table(TABLE, column("rowid"), column("body"), column("customer"))
_pg = table(TABLE, column("ticket_id"), column("body"), column("customer"),
            column("document"))


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


def add_ticket(connection, ticket_id: int, body: str, customer: str) -> None:
    key = "ticket_id" if _is_pg(connection) else "rowid"
    connection.execute(text(f"INSERT INTO {TABLE} ({key}, body, customer) "
                            "VALUES (:id, :body, :customer)"),
                       {"id": ticket_id, "body": body, "customer": customer})


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
                       [{"id": ticket_id, "tokens": tokens} for ticket_id in ticket_ids])


def set_customer(connection, customer_id: int, tokens: str) -> None:
    """Rewrite the customer tokens of every ticket of this customer."""
    key = "ticket_id" if _is_pg(connection) else "rowid"
    connection.execute(text(f"UPDATE {TABLE} SET customer = :tokens WHERE {key} IN "
                            "(SELECT id FROM tickets WHERE customer_id = :customer_id)"),
                       {"customer_id": customer_id, "tokens": tokens})


def match_expression(connection, query: str):
    """(the MATCH / tsquery string, or None when the query holds no searchable token)."""
    terms = query_terms(query)
    if not terms:
        return None
    if _is_pg(connection):
        return " & ".join(f"'{token}'" + (":*" if prefix else "") for token, prefix in terms)
    return " AND ".join(f'"{token}"' + (" *" if prefix else "") for token, prefix in terms)


def matching_ids(connection, query: str):
    """A SELECT of the ids of the tickets matching `query` (all its terms), or None when
    the query holds no searchable token (it matches nothing)."""
    expression = match_expression(connection, query)
    if expression is None:
        return None
    if _is_pg(connection):
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"),
                                  bindparam("search_query", expression, unique=True))
        return select(_pg.c.ticket_id).where(_pg.c.document.op("@@")(tsquery))
    return select(_sqlite.c.rowid).where(
        literal_column(TABLE).op("MATCH")(bindparam("search_query", expression, unique=True)))




# How a newest-first list filters by text on SQLite, by how many tickets match: SQLite's
# planner always drives from the matches (each looked up, then all sorted), which took a
# second for a word in a third of a million tickets. Measured at 1,000,000 tickets: a few
# matches are best looked up; a middling share is best read into a set once while the list
# walks its index newest first; a common word is best probed ticket by ticket along that
# walk, which stops after a page. The plans differ, never the rows.
FEW, COMMON = 1 / 500, 1 / 10  # shares of all tickets


def list_text_clause(connection, query: str, ticket_id, plan: str | None = None):
    """The WHERE clause "ticket `ticket_id` matches every term of `query`" for a list, or
    None when the query holds no searchable token. `plan` ("lookup", "set", "probe") is for
    tests; otherwise SQLite picks it by list_text_plan."""
    matching = matching_ids(connection, query)
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
        connection.execute(text(POSTGRESQL_DDL[0]))
    else:
        connection.execute(text(SQLITE_DDL))


def drop(connection) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))


_TICKETS = text(
    "SELECT t.id, t.number, t.title, t.caller_name, t.caller_phone, t.category, "
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
        insert = text(f"INSERT INTO {TABLE} (ticket_id, body, customer) "
                      "VALUES (:id, :body, :customer)")
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
        rows = [{"id": row[0],
                 "body": index_text(*row[1:10], *notes.get(row[0], ())),
                 "customer": index_text(*row[10:13])}
                for row in connection.execute(_TICKETS, bounds)]
        if rows:
            connection.execute(insert, rows)
        done += len(rows)
        if progress:
            progress(done)
    if pg:
        connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        connection.execute(text(POSTGRESQL_DDL[1]))
        connection.execute(text(f"ANALYZE {TABLE}"))
    else:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    return done
