"""Daily rollups behind the reports (SPEC §8), kept in the same transaction as each ticket
change (see reports.operations), so a report over a year reads a few thousand rows instead
of a million tickets.

ReportTicketFact is each ticket's last counted contribution (its day, kind, state,
department, ...): when a ticket changes, its old contribution is subtracted and the new one
added. ReportDaily holds the sums, one row per cube × day × key."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.extensions import db

# summary: tickets by opening day, kind, state, department; calls: by kind, category
# (call type), channel; faults: repairs by customer area and fault category; fault_days: the
# same without the area (the fault report's series: 40 times fewer rows); fault_months: the
# faults cube per month (`day` holds the month's first day: the fault report sums the whole
# months of a range from one row per key and month instead of one per key and day); repairs:
# repairs reported done per team and day; sla: finished SLA clocks per clock, kind and
# department; satisfaction: callback surveys per survey day, kind and department (the
# ticket's when surveyed), one row per dimension in `clock` (overall, attitude, standard,
# effect: n surveys, minutes = the sum of the scores, met = scores at or above the threshold;
# result: met = surveys satisfied).
CUBES = ("summary", "calls", "faults", "fault_days", "repairs", "sla", "satisfaction",
         "fault_months")
KEY_COLUMNS = ("cube", "day", "department_id", "kind", "state", "channel", "category", "area",
               "fault_type", "clock")
MEASURES = ("n", "minutes", "with_sla", "met")


class ReportTicketFact(db.Model):
    """What one ticket counts for in the summary, calls and faults cubes right now."""

    __tablename__ = "report_ticket_facts"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[date]
    department_id: Mapped[int] = mapped_column(default=0)  # 0: none
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10), default="")
    category: Mapped[str] = mapped_column(String(60), default="")
    area: Mapped[str] = mapped_column(String(100), default="")
    fault_type: Mapped[str] = mapped_column(String(60), default="")


class ReportDaily(db.Model):
    """Sums of one cube for one day and key; unused key columns hold '' (or 0)."""

    __tablename__ = "report_daily"
    __table_args__ = (
        CheckConstraint("cube IN (%s)" % ", ".join(f"'{c}'" for c in CUBES), name="cube_known"),
        UniqueConstraint(*KEY_COLUMNS, name="uq_report_daily_key"),
        Index("ix_report_daily_department", "cube", "department_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cube: Mapped[str] = mapped_column(String(20))
    day: Mapped[date]
    department_id: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20), default="")
    state: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str] = mapped_column(String(10), default="")
    category: Mapped[str] = mapped_column(String(60), default="")
    area: Mapped[str] = mapped_column(String(100), default="")
    fault_type: Mapped[str] = mapped_column(String(60), default="")
    clock: Mapped[str] = mapped_column(String(20), default="")
    n: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[float] = mapped_column(default=0.0)  # summed: repair or SLA minutes, scores
    with_sla: Mapped[int] = mapped_column(default=0)
    met: Mapped[int] = mapped_column(default=0)


__all__ = ["ReportTicketFact", "ReportDaily", "CUBES", "KEY_COLUMNS", "MEASURES"]
