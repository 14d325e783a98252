"""Drop ix_tickets_state: ix_tickets_state_created (state, created_at, id) serves every
lookup by state

Revision ID: b7c1e5d9a2f4
Revises: a4d7e2c9b531
Create Date: 2026-12-01 17:40:00

Issue 14: the ticket row carried thirteen indexes, and every new ticket and every change of
state wrote each one. The one on `state` alone repeats the first column of
ix_tickets_state_created (the dispatch board's index, 7137d9ba8682), which answers the same
lookups. Without it a new ticket costs about 3 % less on SQLite.

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7c1e5d9a2f4'
down_revision = 'a4d7e2c9b531'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_tickets_state', table_name='tickets')


def downgrade():
    op.create_index('ix_tickets_state', 'tickets', ['state'], unique=False)
