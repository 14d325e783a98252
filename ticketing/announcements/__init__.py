"""Announcements (公告): drafts, scheduled and current announcements, withdrawal, archive.

Nothing here imports at package level: ticketing.models imports announcements.models early."""
