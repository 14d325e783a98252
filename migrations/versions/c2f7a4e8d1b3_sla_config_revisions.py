"""SLA policies and business calendars count their edits (revision)

Revision ID: c2f7a4e8d1b3
Revises: b5e8d3a1c9f4
Create Date: 2026-12-01 07:05:00

Issue 14: each process keeps the policies and calendars a new clock reads
(ticketing.timers.policies) and asks the database for a cheap stamp of them before each
use. A revision that every edit increments makes that stamp exact, where the latest
updated_at could miss an edit written with an earlier clock.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2f7a4e8d1b3'
down_revision = 'b5e8d3a1c9f4'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('sla_policies', 'business_calendars'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False,
                                          server_default='0'))


def downgrade():
    # A plain DROP COLUMN (SQLite >= 3.35): a batch copy would drop business_calendars,
    # which the foreign keys of policies and clocks refuse.
    for table in ('business_calendars', 'sla_policies'):
        op.execute(f'ALTER TABLE {table} DROP COLUMN revision')
