"""Field teams (外勤班组): departments of a field-team kind; their members are the users of the
department, and the customer areas each serves are data kept here."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.extensions import db


class TeamArea(db.Model):
    """One customer area (customers.area, or a prefix of it: a district) a field team serves."""

    __tablename__ = "team_areas"
    __table_args__ = (UniqueConstraint("department_id", "area", name="team_area_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"),
                                               index=True)
    area: Mapped[str] = mapped_column(String(100))


__all__ = ["TeamArea"]
