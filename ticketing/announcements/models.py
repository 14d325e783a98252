"""Announcements (公告): title, body, target departments, author, and where each one is in
its life (draft → scheduled → current → revoked / archived; cancelled before its time)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db

STATES = ("draft", "scheduled", "current", "cancelled", "revoked", "archived")


class Announcement(db.Model):
    __tablename__ = "announcements"
    __table_args__ = (
        CheckConstraint("state IN (%s)" % ", ".join(f"'{s}'" for s in STATES),
                        name="announcement_state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    # Department ids it is shown to; empty: every department.
    department_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    publish_at: Mapped[datetime | None] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    archived_at: Mapped[datetime | None] = mapped_column()
    # Set when an incident published it (SPEC §4): released with the incident.
    system: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    author = relationship("User", lazy="joined")

    __mapper_args__ = {"version_id_col": version}
