"""Keyset indexes for the "mine" and "unassigned" queues

Revision ID: e5a1c7f3b2d8
Revises: d9d4c0572e0c
Create Date: 2026-11-23 11:55:00.000000

"mine" (assigned to me, or opened by me and still open) and "unassigned" (my department's
tickets nobody holds) page newest first by (created_at, id). With only (assignee_id, state)
and (created_by_id) to go on, the database walked every ticket newest first through
ix_tickets_created and filtered: seconds at a million tickets for a user with few of them.
Each index below starts with the queue's equality filter and ends with the keyset order, so
a page reads limit + 1 entries. (created_by_id, created_at, id) replaces (created_by_id),
its prefix.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a1c7f3b2d8'
down_revision = 'd9d4c0572e0c'
branch_labels = None
depends_on = None

UNASSIGNED = sa.text("assignee_id IS NULL")


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_assignee_created',
                              ['assignee_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_created_by_created',
                              ['created_by_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_department_unassigned',
                              ['department_id', 'created_at', 'id'], unique=False,
                              sqlite_where=UNASSIGNED, postgresql_where=UNASSIGNED)
        batch_op.drop_index('ix_tickets_created_by')


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_created_by', ['created_by_id'], unique=False)
        batch_op.drop_index('ix_tickets_department_unassigned',
                            sqlite_where=UNASSIGNED, postgresql_where=UNASSIGNED)
        batch_op.drop_index('ix_tickets_created_by_created')
        batch_op.drop_index('ix_tickets_assignee_created')
