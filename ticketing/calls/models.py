"""A call that reached an agent (screen pop, or the call screen when a ticket is opened or a
call is linked), and the ticket it led to."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db

OUTCOMES = ("opened", "linked")


class Call(db.Model):
    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("outcome IS NULL OR outcome IN ('opened', 'linked')",
                        name="outcome_known"),
        CheckConstraint("(outcome IS NULL) = (ticket_id IS NULL)", name="outcome_has_ticket"),
        # Repeat callers: this number's calls in the window, newest first.
        Index("ix_calls_phone_at", "phone", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(10))  # opened / linked / None: pending

    agent = relationship("User")
    ticket = relationship("Ticket")
