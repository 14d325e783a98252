"""Search on PostgreSQL: each index row carries its ticket's created_at and, in its GIN
document, recency tokens of it, so a search reads its newest matches a window at a time
(issue 18)

Revision ID: d3e8a5c1f7b2
Revises: f6d2b8a4c913
Create Date: 2026-12-01 10:20:00

PostgreSQL only: SQLite's FTS5 index reads its matches newest first by rowid already. The
index revision (f3a9c2d41b70) builds the table with the code's current shape, so on a new
database there is nothing to do here. On an existing one the document column is made again
(PostgreSQL 15 cannot change a generated column's expression), which rewrites the table and
rebuilds its GIN index: about two minutes at 1,000,000 tickets.
"""
from alembic import op
import sqlalchemy as sa

from ticketing.search.index import DOCUMENT, POSTGRESQL_DDL, RECENCY_FUNCTION, TABLE

revision = 'd3e8a5c1f7b2'
down_revision = 'f6d2b8a4c913'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    columns = {column["name"] for column in sa.inspect(connection).get_columns(TABLE)}
    if "created_at" in columns:
        return
    op.execute(f"ALTER TABLE {TABLE} ADD COLUMN created_at timestamp with time zone")
    op.execute(f"UPDATE {TABLE} s SET created_at = t.created_at FROM tickets t "
               "WHERE t.id = s.ticket_id")
    op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN created_at SET NOT NULL")
    op.execute(RECENCY_FUNCTION)
    op.execute(f"DROP INDEX IF EXISTS ix_{TABLE}_document")
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN document, ADD COLUMN {DOCUMENT}")
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for ddl in POSTGRESQL_DDL[1:]:  # the GIN index, the statistics target
        op.execute(ddl)
    op.execute(f"ANALYZE {TABLE}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS ix_{TABLE}_document")
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN document, DROP COLUMN created_at, "
               "ADD COLUMN document tsvector GENERATED ALWAYS AS "
               "(to_tsvector('simple', body || ' ' || customer)) STORED")
    op.execute(POSTGRESQL_DDL[1])
    op.execute("DROP FUNCTION IF EXISTS ticket_search_recency(timestamp with time zone)")
