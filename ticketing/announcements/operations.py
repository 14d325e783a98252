"""Announcement operations: they flush, never commit (the entry point commits once)."""
from __future__ import annotations

from flask_babel import gettext as _

from ticketing.announcements.models import Announcement
from ticketing.clock import utcnow
from ticketing.errors import Conflict
from ticketing.extensions import db


def publish_system_announcement(author, title: str, body: str,
                                department_ids: list[int] | None = None) -> Announcement:
    """An announcement the system publishes now (an incident's), in the caller's transaction."""
    now = utcnow()
    announcement = Announcement(title=title[:200], body=body, state="current",
                                department_ids=list(department_ids or []),
                                author_id=getattr(author, "id", None), created_at=now,
                                published_at=now, system=True)
    db.session.add(announcement)
    db.session.flush()
    return announcement


def withdraw(announcement: Announcement) -> Announcement:
    """Revoke a current announcement: it leaves the home pages and stays searchable."""
    if announcement.state != "current":
        raise Conflict("announcement_not_current",
                       _("Only a current announcement can be withdrawn."),
                       state=announcement.state)
    announcement.state = "revoked"
    announcement.withdrawn_at = utcnow()
    db.session.flush()
    return announcement
