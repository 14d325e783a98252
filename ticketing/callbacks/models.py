"""Callback surveys (回访, SPEC §5): the settings row, one callback task per closing of a
ticket of a configured kind, and every attempt to reach the customer."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (JSON, CheckConstraint, ForeignKey, Index, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db

CALLBACK_STATUSES = ("pending", "done", "unreachable", "superseded")
RESULTS = ("satisfied", "unsatisfied")
DIMENSIONS = ("overall", "attitude", "standard", "effect")
SCORE_CHECK = "{0} IS NULL OR ({0} BETWEEN 1 AND 5)"


class CallbackSettings(db.Model):
    """One row (id 1), edited by an admin: which kinds get a callback when closed, how long
    (business minutes) until it is due per kind, the retry delay and attempts, the threshold
    below which a score is unsatisfied, and the calendar the minutes count on."""

    __tablename__ = "callback_settings"
    __table_args__ = (
        CheckConstraint("retry_minutes > 0", name="retry_positive"),
        CheckConstraint("max_attempts BETWEEN 1 AND 20", name="attempts_range"),
        CheckConstraint("threshold BETWEEN 1 AND 5", name="threshold_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"repair": 480, "complaint": 480}: business minutes from closing until due.
    due_minutes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retry_minutes: Mapped[int] = mapped_column(default=120)
    max_attempts: Mapped[int] = mapped_column(default=3)
    threshold: Mapped[int] = mapped_column(default=3)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id"))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    calendar = relationship("Calendar")  # read by calendar_id (timers.policies), not joined

    __mapper_args__ = {"version_id_col": version}


class Callback(db.Model):
    """The callback task of one closing (round = the ticket's reopen count at closing)."""

    __tablename__ = "callbacks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "round", name="uq_callbacks_ticket_round"),
        CheckConstraint("status IN ('pending', 'done', 'unreachable', 'superseded')",
                        name="status_known"),
        CheckConstraint("result IS NULL OR result IN ('satisfied', 'unsatisfied')",
                        name="result_known"),
        *(CheckConstraint(SCORE_CHECK.format(d), name=f"{d}_range") for d in DIMENSIONS),
        Index("ix_callbacks_status_due", "status", "due_at"),
        # The callback query without a status (the callback report): soonest due first.
        Index("ix_callbacks_due", "due_at", "id"),
        Index("ix_callbacks_ticket", "ticket_id"),
        Index("ix_callbacks_agent", "agent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    round: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The next attempt may start at not_before and should happen by due_at.
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    taken_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    escalations: Mapped[int] = mapped_column(default=0)
    result: Mapped[str | None] = mapped_column(String(12))
    overall: Mapped[int | None]
    attitude: Mapped[int | None]
    standard: Mapped[int | None]
    effect: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    # The ticket's department when the survey was recorded (the satisfaction report's row).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    version: Mapped[int] = mapped_column(default=1)

    ticket = relationship("Ticket", lazy="joined")
    agent = relationship("User", lazy="joined")
    attempt_rows: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="callback", order_by="CallbackAttempt.number", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}

    def is_overdue(self, now: datetime) -> bool:
        return self.status == "pending" and self.due_at <= now


class CallbackAttempt(db.Model):
    """One call to the customer: not reached (a note), or reached with the survey."""

    __tablename__ = "callback_attempts"
    __table_args__ = (
        UniqueConstraint("callback_id", "number", name="uq_callback_attempts_number"),
        *(CheckConstraint(SCORE_CHECK.format(d), name=f"{d}_range") for d in DIMENSIONS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"))
    number: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reached: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    overall: Mapped[int | None]
    attitude: Mapped[int | None]
    standard: Mapped[int | None]
    effect: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    satisfied: Mapped[bool | None]
    # The reopening this survey caused (its history row links back with callback_id).
    reopen_event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"))

    callback: Mapped[Callback] = relationship(back_populates="attempt_rows")
    actor = relationship("User", lazy="joined")
