"""Incidents (事件): one mass fault that many calls are about, the repair tickets linked to
it, and the fault categories they are classified under (reference data, extensible)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.faults.models import FaultCategory  # the faults area's list (data)

STATES = ("open", "cleared", "released")
SUSPENSION_TYPES = ("mass_fault", "planned_work", "external")
REVIEWS = ("pending", "confirmed", "rejected")


class Incident(db.Model):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'cleared', 'released')", name="incident_state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    suspension_type: Mapped[str] = mapped_column(String(20), default="mass_fault")
    # Customer areas (customers.area) the fault affects.
    areas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    fault_category_id: Mapped[int] = mapped_column(ForeignKey("fault_categories.id"))
    # The authorised department: reviews the links and reports the fault cleared.
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column()
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None] = mapped_column()
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    fault_category: Mapped[FaultCategory] = relationship(lazy="joined")
    department = relationship("Department", lazy="joined")
    announcement = relationship("Announcement")

    __mapper_args__ = {"version_id_col": version}

    @property
    def ref(self) -> str:
        """What linked tickets record as their incident reference."""
        return f"INC{self.id:06d}"


class IncidentLink(db.Model):
    """A repair ticket suspended under an incident, and the authorised department's review."""

    __tablename__ = "incident_links"
    __table_args__ = (
        UniqueConstraint("incident_id", "ticket_id", name="incident_ticket_once"),
        CheckConstraint("review IN ('pending', 'confirmed', 'rejected')",
                        name="incident_review_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                             index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    review: Mapped[str] = mapped_column(String(20), default="pending")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    released_at: Mapped[datetime | None] = mapped_column()

    ticket = relationship("Ticket", lazy="joined")
