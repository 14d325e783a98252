"""Fault categories as data

Revision ID: a7d4e2c91f05
Revises: cbe2bee09a12
Create Date: 2026-12-01 01:40:00.000000

classify_fault offers these instead of free text; incidents (issue 17) reuse them. The
defaults are added by `ticketing init` (reference data), not here.
"""
from alembic import op
import sqlalchemy as sa

import ticketing.db


# revision identifiers, used by Alembic.
revision = 'a7d4e2c91f05'
down_revision = 'cbe2bee09a12'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fault_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('name_en', sa.String(length=100), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('mass_fault', sa.Boolean(), nullable=False),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.Column('created_at', ticketing.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('length(code) > 0 AND length(name) > 0',
                           name=op.f('ck_fault_categories_code_and_name_present')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fault_categories')),
        sa.UniqueConstraint('code', name=op.f('uq_fault_categories_code')),
    )


def downgrade():
    op.drop_table('fault_categories')
