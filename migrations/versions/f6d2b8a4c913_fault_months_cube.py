"""Fault report: the fault_months cube in report_daily (faults per area × category ×
department per month), backfilled from the daily faults rows

Revision ID: f6d2b8a4c913
Revises: c2f7a4e8d1b3
Create Date: 2026-12-02 07:10:00

Issue 18: the fault report over a year summed 55,000-73,000 daily rows of area × category ×
day; whole months now come from one row per month. The daily rows are already the sums, so the
backfill adds them up per month here (no rebuild needed); from then on the report operations
keep both in the same transaction as each ticket change.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6d2b8a4c913'
down_revision = 'c2f7a4e8d1b3'
branch_labels = None
depends_on = None

OLD_CUBES = ("summary", "calls", "faults", "fault_days", "repairs", "sla", "satisfaction")
NEW_CUBES = OLD_CUBES + ("fault_months",)
KEY_COLUMNS = ("cube", "day", "department_id", "kind", "state", "channel", "category", "area",
               "fault_type", "clock")


def _cube_check(cubes) -> str:
    return "cube IN (%s)" % ", ".join(f"'{c}'" for c in cubes)


def _replace_cube_check(cubes) -> None:
    with op.batch_alter_table('report_daily', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_daily_cube_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_daily_cube_known'),
                                         _cube_check(cubes))


def _month(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def upgrade():
    _replace_cube_check(NEW_CUBES)
    month = _month("day")
    op.execute(sa.text(
        f"INSERT INTO report_daily ({', '.join(KEY_COLUMNS)}, n, minutes, with_sla, met) "
        f"SELECT 'fault_months', {month}, department_id, '', '', '', '', area, fault_type, "
        "'', SUM(n), 0, 0, 0 FROM report_daily WHERE cube = 'faults' "
        f"GROUP BY {month}, department_id, area, fault_type HAVING SUM(n) <> 0"))


def downgrade():
    op.execute(sa.text("DELETE FROM report_daily WHERE cube = 'fault_months'"))
    _replace_cube_check(OLD_CUBES)
