"""Satisfaction report: the satisfaction cube in report_daily (its name is longer than the
cube column was), each surveyed callback's department, and callbacks by due time

Revision ID: b5e8d3a1c9f4
Revises: 7137d9ba8682
Create Date: 2026-12-01 04:40:00.000000

Callbacks surveyed before this revision get their ticket's current department (the best
there is); the new cube starts empty: `ticketing reports rebuild` fills it from the surveys.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5e8d3a1c9f4'
down_revision = '7137d9ba8682'
branch_labels = None
depends_on = None

OLD_CUBES = ("summary", "calls", "faults", "fault_days", "repairs", "sla")
NEW_CUBES = OLD_CUBES + ("satisfaction",)


def _cube_check(cubes) -> str:
    return "cube IN (%s)" % ", ".join(f"'{c}'" for c in cubes)


def upgrade():
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_callbacks_department_id_departments'),
                                    'departments', ['department_id'], ['id'])
        batch_op.create_index('ix_callbacks_due', ['due_at', 'id'], unique=False)
    op.execute(sa.text(
        "UPDATE callbacks SET department_id = (SELECT t.department_id FROM tickets t "
        "WHERE t.id = callbacks.ticket_id) WHERE status = 'done' AND result IS NOT NULL"))
    with op.batch_alter_table('report_daily', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_daily_cube_known'), type_='check')
        batch_op.alter_column('cube', existing_type=sa.String(length=10),
                              type_=sa.String(length=20), existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_report_daily_cube_known'),
                                         _cube_check(NEW_CUBES))


def downgrade():
    op.execute(sa.text("DELETE FROM report_daily WHERE cube = 'satisfaction'"))
    with op.batch_alter_table('report_daily', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_daily_cube_known'), type_='check')
        batch_op.alter_column('cube', existing_type=sa.String(length=20),
                              type_=sa.String(length=10), existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_report_daily_cube_known'),
                                         _cube_check(OLD_CUBES))
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_callbacks_due')
        batch_op.drop_constraint(batch_op.f('fk_callbacks_department_id_departments'),
                                 type_='foreignkey')
        batch_op.drop_column('department_id')
