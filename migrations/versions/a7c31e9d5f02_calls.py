"""Calls: each screen pop recorded with the ticket it led to (repeat callers, SPEC §7)

Revision ID: a7c31e9d5f02
Revises: f3a9c2d41b70
Create Date: 2026-12-01 01:00:00
"""
from alembic import op
import sqlalchemy as sa
import ticketing.db

revision = 'a7c31e9d5f02'
down_revision = 'f3a9c2d41b70'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('at', ticketing.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=10), nullable=True),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('opened', 'linked')",
                           name=op.f('ck_calls_outcome_known')),
        sa.CheckConstraint('(outcome IS NULL) = (ticket_id IS NULL)',
                           name=op.f('ck_calls_outcome_has_ticket')),
        sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_calls_agent_id_users')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_calls_customer_id_customers')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_calls_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_phone_at', ['phone', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_ticket_id'))
        batch_op.drop_index('ix_calls_phone_at')
    op.drop_table('calls')
