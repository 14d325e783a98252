"""Ticket history by actor: "handled by me"

Revision ID: f1c3a9d27b40
Revises: e5a1c7f3b2d8
Create Date: 2026-12-01 00:50:00.000000

Whoever acted on a ticket keeps read access to it and finds it in the "handled" queue: both
ask for history rows by (actor_id, ticket_id).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1c3a9d27b40'
down_revision = 'e5a1c7f3b2d8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_actor_ticket', ['actor_id', 'ticket_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_actor_ticket')
