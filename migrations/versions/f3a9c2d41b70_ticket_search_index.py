"""Full-text search index over tickets, notes and customers (issue 18), with its backfill.

SQLite: an FTS5 table over text pre-split into Chinese bigrams and words; PostgreSQL: a
table with a generated `simple` tsvector in a GIN index. Existing tickets are indexed here.

Revision ID: f3a9c2d41b70
Revises: 0779400be09e
Create Date: 2026-12-01 01:00:00
"""
from alembic import op

from ticketing.search import index

revision = 'f3a9c2d41b70'
down_revision = '0779400be09e'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    index.create(connection)
    index.backfill(connection)


def downgrade():
    index.drop(op.get_bind())
