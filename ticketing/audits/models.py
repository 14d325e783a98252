"""Supervision (监管, SPEC §6): the audit rules row, one audit per selected closing (or
unsatisfied callback), and the liability ruling of a complaint with its one appeal."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db

# Why a rule selected a ticket, in the order the rules are tried.
REASONS = ("complaint", "unsatisfied_callback", "sla_breach", "sample")
TRIGGERS = ("closing", "callback")
AUDIT_STATUSES = ("open", "done")
DECISIONS = ("pass", "reject")


class AuditRules(db.Model):
    """One row (id 1), edited as data: which rules put a closed ticket into the audit queue,
    the share sampled from the rest, and how long (business minutes) an audit may take.
    Its version is the rule version the sampling hashes with the ticket id."""

    __tablename__ = "audit_rules"
    __table_args__ = (
        CheckConstraint("sample_percent BETWEEN 0 AND 100", name="sample_range"),
        CheckConstraint("due_minutes > 0", name="due_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaints: Mapped[bool] = mapped_column(default=True)
    unsatisfied_callbacks: Mapped[bool] = mapped_column(default=True)
    sla_breaches: Mapped[bool] = mapped_column(default=True)
    sample_percent: Mapped[int] = mapped_column(default=10)
    due_minutes: Mapped[int] = mapped_column(default=960)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id"))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    calendar = relationship("Calendar")  # read by calendar_id (timers.policies), not joined

    __mapper_args__ = {"version_id_col": version}


class Audit(db.Model):
    """The audit of one handling round of a ticket (round = its reopen count), made by its
    closing or by an unsatisfied callback on it; open until a supervisor passes or rejects
    it. `reasons`: the rules that selected it, comma-separated (see REASONS)."""

    __tablename__ = "audits"
    __table_args__ = (
        UniqueConstraint("ticket_id", "round", "trigger", name="uq_audits_ticket_round_trigger"),
        CheckConstraint("status IN ('open', 'done')", name="status_known"),
        CheckConstraint("trigger IN ('closing', 'callback')", name="trigger_known"),
        CheckConstraint("decision IS NULL OR decision IN ('pass', 'reject')",
                        name="decision_known"),
        CheckConstraint("(status = 'done') = (decision IS NOT NULL)", name="done_has_decision"),
        CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="decision_has_time"),
        CheckConstraint("length(reasons) > 0", name="reasons_present"),
        Index("ix_audits_status_due", "status", "due_at", "id"),
        Index("ix_audits_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    round: Mapped[int] = mapped_column(default=0)
    trigger: Mapped[str] = mapped_column(String(10), default="closing")
    reasons: Mapped[str] = mapped_column(String(80))
    rule_version: Mapped[int]
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    # The history row the decision wrote (a reopening, or a note on a ticket already reopened).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"))
    version: Mapped[int] = mapped_column(default=1)

    ticket = relationship("Ticket", lazy="joined")
    decided_by = relationship("User", lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def reason_list(self) -> list[str]:
        return [r for r in (self.reasons or "").split(",") if r]

    def is_overdue(self, now: datetime) -> bool:
        return self.status == "open" and self.due_at <= now


class ComplaintLiability(db.Model):
    """Liability (责任定性) of one complaint: the supervisor's ruling, the responsible
    department's one appeal, and a second supervisor's ruling on it."""

    __tablename__ = "complaint_liabilities"
    __table_args__ = (
        # Justified: someone is responsible; not justified: nobody is named.
        CheckConstraint("NOT justified OR department_id IS NOT NULL", name="justified_names"),
        CheckConstraint("justified OR (department_id IS NULL AND person_id IS NULL)",
                        name="unjustified_names_none"),
        CheckConstraint("(appealed_at IS NULL) = (appeal_reason IS NULL)",
                        name="appeal_has_reason"),
        CheckConstraint("ruled_at IS NULL OR appealed_at IS NOT NULL", name="ruling_needs_appeal"),
        CheckConstraint("(ruled_at IS NULL) = (upheld IS NULL)", name="ruling_has_outcome"),
        # A second reviewer, never the first, rules on the appeal.
        CheckConstraint("ruled_by_id IS NULL OR ruled_by_id <> reviewer_id",
                        name="second_reviewer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    justified: Mapped[bool]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    appealed_at: Mapped[datetime | None]
    upheld: Mapped[bool | None]
    ruling_note: Mapped[str] = mapped_column(Text, default="")
    ruled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ruled_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    ticket = relationship("Ticket")
    department = relationship("Department", lazy="joined")
    person = relationship("User", foreign_keys=[person_id], lazy="joined")
    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="joined")
    appealed_by = relationship("User", foreign_keys=[appealed_by_id], lazy="joined")
    ruled_by = relationship("User", foreign_keys=[ruled_by_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status(self) -> str:
        """recorded, appealed, upheld (the ruling stands) or overturned."""
        if self.ruled_at is not None:
            return "upheld" if self.upheld else "overturned"
        return "appealed" if self.appealed_at is not None else "recorded"
