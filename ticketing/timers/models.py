"""Durable timers (SPEC §3): business calendars, SLA policies, SLA clocks per ticket, the
timer rows the sweep fires, and the notifications the handlers write."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, CheckConstraint, ForeignKey, Index, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db

KINDS = ("consult", "repair", "complaint")
PRIORITIES = ("low", "normal", "high", "urgent")
TIERS = ("ordinary", "vip")
CLOCKS = ("response", "resolution", "complaint_limit")
DAY_KINDS = ("holiday", "workday")
TIMER_STATUSES = ("pending", "fired", "cancelled", "failed")


def _in(column: str, values, nullable: bool = False) -> str:
    check = f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"
    return f"{column} IS NULL OR {check}" if nullable else check


class Calendar(db.Model):
    """When a queue is open: weekly hours in its time zone, Chinese public holidays if asked,
    and the admin's own holidays / adjusted workdays (CalendarDay)."""

    __tablename__ = "business_calendars"
    __table_args__ = (CheckConstraint("length(name) > 0", name="name_present"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    always_open: Mapped[bool] = mapped_column(default=False)
    # {"0": [["09:00", "18:00"]], ...}: weekday (0 = Monday) -> local opening intervals.
    weekly_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    china_holidays: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Incremented by every edit (timers.policies: the stamp each process checks).
    revision: Mapped[int] = mapped_column(default=0, server_default="0")

    days: Mapped[list[CalendarDay]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarDay.day")

    def __repr__(self) -> str:
        return f"<Calendar {self.name}>"


class CalendarDay(db.Model):
    """An admin-entered holiday or adjusted workday (调休) of one calendar."""

    __tablename__ = "calendar_days"
    __table_args__ = (
        UniqueConstraint("calendar_id", "day", name="uq_calendar_days_calendar_day"),
        CheckConstraint(_in("kind", DAY_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE"))
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(200), default="")

    calendar: Mapped[Calendar] = relationship(back_populates="days")


class SlaPolicy(db.Model):
    """Deadlines for tickets of a kind × priority × customer tier; NULL means "any".
    The most specific active match wins (see timers.policies.match_policies)."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS, nullable=True), name="kind_known"),
        CheckConstraint(_in("priority", PRIORITIES, nullable=True), name="priority_known"),
        CheckConstraint(_in("customer_tier", TIERS, nullable=True), name="tier_known"),
        CheckConstraint("response_minutes > 0 AND resolution_minutes > 0",
                        name="minutes_positive"),
        CheckConstraint("complaint_limit_minutes IS NULL OR complaint_limit_minutes > 0",
                        name="complaint_limit_positive"),
        CheckConstraint("warn_before_minutes >= 0", name="warn_not_negative"),
        CheckConstraint("level2_after_minutes > 0 AND level3_after_minutes > "
                        "level2_after_minutes", name="levels_ordered"),
        # One policy per scope: a plain UNIQUE over nullable columns would let NULLs repeat.
        CheckConstraint("scope = coalesce(kind, '*') || '|' || coalesce(priority, '*') || '|' "
                        "|| coalesce(customer_tier, '*')", name="scope_matches"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[str | None] = mapped_column(String(10))
    customer_tier: Mapped[str | None] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(60), unique=True)
    response_minutes: Mapped[int]
    resolution_minutes: Mapped[int]
    complaint_limit_minutes: Mapped[int | None]
    warn_before_minutes: Mapped[int] = mapped_column(default=15)
    level2_after_minutes: Mapped[int] = mapped_column(default=60)
    level3_after_minutes: Mapped[int] = mapped_column(default=240)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Incremented by every edit (timers.policies: the stamp each process checks).
    revision: Mapped[int] = mapped_column(default=0, server_default="0")

    calendar: Mapped[Calendar] = relationship(lazy="joined")

    @staticmethod
    def scope_of(kind: str | None, priority: str | None, customer_tier: str | None) -> str:
        return "|".join(value or "*" for value in (kind, priority, customer_tier))

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        """More matched fields first; on a tie kind outranks priority outranks tier."""
        given = (self.kind is not None, self.priority is not None,
                 self.customer_tier is not None)
        return (sum(given), *given)

    def __repr__(self) -> str:
        return f"<SlaPolicy {self.name}>"


class SlaClock(db.Model):
    """One deadline of one ticket: response, resolution or complaint time limit, per round
    (ticket.reopen_count). Running: resumed_at set; paused: paused_at set; stopped:
    stopped_at set. Business minutes used accumulate per running segment."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        CheckConstraint(_in("clock", CLOCKS), name="clock_known"),
        CheckConstraint("escalation_level BETWEEN 0 AND 3", name="level_range"),
        CheckConstraint("business_minutes_used >= 0", name="used_not_negative"),
        CheckConstraint("target_minutes > 0", name="target_positive"),
        CheckConstraint("stopped_at IS NOT NULL OR (paused_at IS NULL) <> (resumed_at IS NULL)",
                        name="running_xor_paused"),
        CheckConstraint("stopped_at IS NULL OR (paused_at IS NULL AND resumed_at IS NULL)",
                        name="stopped_is_final"),
        # At most one live clock of each kind per ticket.
        Index("uq_sla_clocks_live", "ticket_id", "clock", unique=True,
              sqlite_where=text("stopped_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL")),
        # The escalation queue: live clocks at level >= 1.
        Index("ix_sla_clocks_escalated", "escalation_level", "due_at",
              sqlite_where=text("stopped_at IS NULL AND escalation_level > 0"),
              postgresql_where=text("stopped_at IS NULL AND escalation_level > 0")),
        Index("ix_sla_clocks_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    clock: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(default=0)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id",
                                                             ondelete="SET NULL"))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    target_minutes: Mapped[int]
    warn_before_minutes: Mapped[int] = mapped_column(default=0)
    level2_after_minutes: Mapped[int] = mapped_column(default=60)
    level3_after_minutes: Mapped[int] = mapped_column(default=240)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    resumed_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    # Running segments so far (1 + resumes): timers of an older segment are stale.
    segment: Mapped[int] = mapped_column(default=1)
    breached: Mapped[bool] = mapped_column(default=False)
    business_minutes_used: Mapped[float] = mapped_column(default=0.0)
    escalation_level: Mapped[int] = mapped_column(default=0)
    warned: Mapped[bool] = mapped_column(default=False)

    ticket = relationship("Ticket")
    policy: Mapped[SlaPolicy | None] = relationship()
    calendar: Mapped[Calendar] = relationship()
    department = relationship("Department")

    @property
    def status(self) -> str:
        if self.stopped_at is not None:
            return "stopped"
        return "paused" if self.paused_at is not None else "running"

    def __repr__(self) -> str:
        return f"<SlaClock {self.ticket_id}:{self.clock}#{self.round} {self.status}>"


class Timer(db.Model):
    """A durable timer: the sweep claims pending rows that are due and fires each once."""

    __tablename__ = "timers"
    __table_args__ = (
        CheckConstraint(_in("status", TIMER_STATUSES), name="status_known"),
        CheckConstraint("(status = 'fired') = (fired_at IS NOT NULL)", name="fired_has_time"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("level IS NULL OR level BETWEEN 0 AND 3", name="level_range"),
        # The sweep's only access path: cost grows with pending timers, not with history.
        Index("ix_timers_pending_due", "due_at",
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        Index("ix_timers_clock", "clock_id"),
        Index("ix_timers_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("sla_clocks.id"))
    kind: Mapped[str] = mapped_column(String(40))
    level: Mapped[int | None]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    fired_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Creating the same timer twice is a no-op (INSERT ... ON CONFLICT DO NOTHING).
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    clock: Mapped[SlaClock | None] = relationship()

    def __repr__(self) -> str:
        return f"<Timer {self.id} {self.kind}/{self.level} {self.status} {self.due_at}>"


class Notification(db.Model):
    """A message to one user (escalations, warnings); read when read_at is set."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    ticket = relationship("Ticket")


__all__ = ["Calendar", "CalendarDay", "SlaPolicy", "SlaClock", "Timer", "Notification",
           "CLOCKS", "TIMER_STATUSES"]
