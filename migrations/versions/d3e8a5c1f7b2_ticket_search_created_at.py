"""Search on PostgreSQL: the index is built again with each ticket's created_at and its
recency tokens, and each Chinese character as a key of its own (issue 18)

Revision ID: d3e8a5c1f7b2
Revises: f6d2b8a4c913
Create Date: 2026-12-01 10:20:00

PostgreSQL only (SQLite's FTS5 index reads its matches newest first by rowid already and
answers one-character queries from its prefix index). The index is made again from the
tickets, their notes and customers, as the index revision (f3a9c2d41b70) first made it:
ticketing.search.index.backfill, a few minutes at 1,000,000 tickets.
"""
from alembic import op

from ticketing.search import index

revision = 'd3e8a5c1f7b2'
down_revision = 'f6d2b8a4c913'
branch_labels = None
depends_on = None


def _rebuild() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    index.drop(connection)
    index.create(connection)
    index.backfill(connection)


def upgrade():
    _rebuild()


def downgrade():
    """The parent's shape: no created_at, no recency tokens (the extra one-character tokens
    stay in the text: the parent asks for one character by prefix, which finds them too)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    table = index.TABLE
    op.execute(f"DROP INDEX IF EXISTS ix_{table}_document")
    op.execute(f"ALTER TABLE {table} DROP COLUMN document, DROP COLUMN created_at, "
               "ADD COLUMN document tsvector GENERATED ALWAYS AS "
               "(to_tsvector('simple', body || ' ' || customer)) STORED")
    op.execute(index.POSTGRESQL_DDL[1])
    op.execute("DROP FUNCTION IF EXISTS ticket_search_recency(timestamp with time zone)")
