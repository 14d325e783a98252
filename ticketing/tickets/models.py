"""Tickets (工单) and their append-only history."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db
from workflows.tickets import display_status

PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("phone", "web", "email", "walk_in")


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("kind", ("consult", "repair", "complaint")), name="kind_known"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority_known"),
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        # An active ticket's state is a sub-state of its own kind.
        CheckConstraint("state IN ('suspended', 'closed') OR "
                        "substr(state, 1, length(kind) + 1) = kind || '_'",
                        name="state_matches_kind"),
        # Resuming needs to know where to go back to.
        CheckConstraint("(state = 'suspended') = (suspended_from IS NOT NULL)",
                        name="suspended_has_origin"),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_has_time"),
        CheckConstraint("customer_satisfaction IS NULL OR customer_satisfaction BETWEEN 1 AND 5",
                        name="satisfaction_range"),
        Index("ix_tickets_department_state", "department_id", "state"),
        Index("ix_tickets_assignee_state", "assignee_id", "state"),
        Index("ix_tickets_created", "created_at", "id"),
        # Queues and lists of department-scoped users page by (created_at, id): each queue's
        # equality filter, then the keyset order, so a page reads limit + 1 index entries.
        Index("ix_tickets_department_created", "department_id", "created_at", "id"),
        # "mine": assigned to me / opened by me (two branches, see queries._newest_first).
        Index("ix_tickets_assignee_created", "assignee_id", "created_at", "id"),
        Index("ix_tickets_created_by_created", "created_by_id", "created_at", "id"),
        # The dispatch board: open work orders of one state, oldest first (issue 17); and
        # every other lookup by state (a state-only index would repeat its first column).
        Index("ix_tickets_state_created", "state", "created_at", "id"),
        # "unassigned": the department's tickets nobody holds.
        Index("ix_tickets_department_unassigned", "department_id", "created_at", "id",
              sqlite_where=text("assignee_id IS NULL"),
              postgresql_where=text("assignee_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(40))  # ix_tickets_state_created leads with it
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    channel: Mapped[str] = mapped_column(String(10), default="phone")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    caller_phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(100), default="")
    category: Mapped[str] = mapped_column(String(60), default="")
    fault_type: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    customer_verified_at: Mapped[datetime | None]
    suspended_from: Mapped[str | None] = mapped_column(String(40))
    suspended_at: Mapped[datetime | None]
    suspension_approved: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None]
    incident_ref: Mapped[str | None] = mapped_column(String(40))
    handling_note: Mapped[str] = mapped_column(Text, default="")
    receipt_person: Mapped[str] = mapped_column(String(100), default="")
    customer_satisfaction: Mapped[int | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    customer = relationship("Customer", lazy="joined")
    department = relationship("Department", lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id])
    history: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", viewonly=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def status(self) -> str:
        return display_status(self.state)

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.state}>"


class TicketEvent(db.Model):
    """One history row per transition or timer action: append-only (never updated/deleted)."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),
                      # "Handled by me": visibility and the queue look rows up by actor.
                      Index("ix_ticket_events_actor_ticket", "actor_id", "ticket_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="history")
    actor = relationship("User", lazy="joined")
