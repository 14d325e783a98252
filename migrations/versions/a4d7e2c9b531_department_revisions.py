"""Departments count their edits (revision)

Revision ID: a4d7e2c9b531
Revises: d3e8a5c1f7b2
Create Date: 2026-12-01 15:00:00

Issue 14: each process keeps the departments (every new ticket and every transfer by code
reads one) and asks the database for a cheap stamp of them once per transaction
(ticketing.kept). A revision that every edit increments makes a renamed or deactivated
department move that stamp.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4d7e2c9b531'
down_revision = 'd3e8a5c1f7b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    # A plain DROP COLUMN (SQLite >= 3.35): a batch copy would drop departments, which the
    # foreign keys of users and tickets refuse.
    op.execute('ALTER TABLE departments DROP COLUMN revision')
