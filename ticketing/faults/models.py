"""A fault category: a code for the data, a Chinese and an English name for people."""
from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.clock import utcnow
from ticketing.extensions import db


class FaultCategory(db.Model):
    __tablename__ = "fault_categories"
    __table_args__ = (CheckConstraint("length(code) > 0 AND length(name) > 0",
                                      name="code_and_name_present"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Mass faults (光缆, 停电, ...) are what incidents link repairs to.
    mass_fault: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=100)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def display_name(self, locale: str | None) -> str:
        return self.name_en if (locale or "").startswith("en") and self.name_en else self.name
