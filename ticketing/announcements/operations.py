"""Announcement operations (SPEC §4): draft, edit, schedule, publish, cancel, withdraw,
archive. They flush, never commit (the entry point commits once).

Where an announcement may go from where is data (ACTIONS), like the ticket workflow: an
action refused in the announcement's state is a 409 naming the state, and changes nothing.
A scheduled announcement is published by a durable timer (ticketing.timers): one row per
scheduling, fired by the sweep exactly once; the handler locks the announcement and
publishes it only if it is still scheduled for that very time, so a timer left behind by a
reschedule, a cancel or an early publish does nothing."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import lazyload

from ticketing.announcements.models import STATES, Announcement
from ticketing.auth.models import Department
from ticketing.clock import utcnow
from ticketing.errors import Conflict, InvalidInput
from ticketing.extensions import db

PUBLISH_TIMER = "announcement_publish"  # the timer kind
TITLE_LIMIT, BODY_LIMIT, MAX_DEPARTMENTS = 200, 10000, 100
EDITABLE_STATES = ("draft", "scheduled")
# action -> the states it may be taken from, and the state it leads to.
ACTIONS = {
    "schedule": {"from": ("draft", "scheduled"), "to": "scheduled"},
    "publish": {"from": ("draft", "scheduled"), "to": "current"},
    "cancel": {"from": ("draft", "scheduled"), "to": "cancelled"},
    "withdraw": {"from": ("current",), "to": "revoked"},
    "archive": {"from": ("current",), "to": "archived"},
}
# The column an action stamps with its time.
_STAMPS = {"publish": "published_at", "withdraw": "withdrawn_at", "archive": "archived_at"}
# Once published (whatever happened next) an announcement is on the record for its readers.
PUBLISHED_STATES = ("current", "revoked", "archived")


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


# -- checks -------------------------------------------------------------------------------

def _stale(announcement: Announcement) -> Conflict:
    return Conflict("stale_version",
                    _("Someone else changed this announcement first; reload and try again."),
                    current_version=announcement.version, state=announcement.state)


def _check_version(announcement: Announcement, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != announcement.version:
        raise _stale(announcement)


def refusal(announcement: Announcement, action: str) -> Conflict:
    from ticketing.announcements.labels import action_label, state_label
    allowed = [name for name, rule in ACTIONS.items() if announcement.state in rule["from"]]
    return Conflict("announcement_state",
                    _("%(action)s is not possible: the announcement is %(state)s.",
                      action=action_label(action), state=state_label(announcement.state)),
                    state=announcement.state, allowed_events=allowed)


def _require(announcement: Announcement, action: str) -> None:
    if announcement.state not in ACTIONS[action]["from"]:
        raise refusal(announcement, action)


def _clean(data: dict, partial: bool) -> dict:
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    if "title" in data or not partial:
        title = (data.get("title") or "").strip()
        if not title:
            errors["title"] = [_("Give the announcement a title.")]
        elif len(title) > TITLE_LIMIT:
            errors["title"] = [_("At most %(n)d characters.", n=TITLE_LIMIT)]
        clean["title"] = title
    if "body" in data or not partial:
        body = (data.get("body") or "").strip()
        if not body:
            errors["body"] = [_("Write what the announcement says.")]
        elif len(body) > BODY_LIMIT:
            errors["body"] = [_("At most %(n)d characters.", n=BODY_LIMIT)]
        clean["body"] = body
    if "department_ids" in data or not partial:
        ids = list(dict.fromkeys(data.get("department_ids") or []))
        if len(ids) > MAX_DEPARTMENTS:
            errors["department_ids"] = [_("At most %(n)d departments.", n=MAX_DEPARTMENTS)]
        elif ids:
            known = set(db.session.scalars(select(Department.id).where(
                Department.id.in_(ids), Department.active.is_(True))))
            unknown = [i for i in ids if i not in known]
            if unknown:
                errors["department_ids"] = [_("No such department: %(ids)s",
                                              ids=", ".join(map(str, unknown[:20])))]
        clean["department_ids"] = sorted(ids)
    if errors:
        raise InvalidInput(errors)
    return clean


# -- the operations -----------------------------------------------------------------------

def create_announcement(actor, data: dict) -> Announcement:
    """A draft: title, body, the departments it is for (none: everyone)."""
    clean = _clean(data, partial=False)
    announcement = Announcement(**clean, state="draft", author_id=getattr(actor, "id", None),
                                created_at=utcnow())
    db.session.add(announcement)
    db.session.flush()
    return announcement


def update_announcement(actor, announcement: Announcement, data: dict,
                        expected_version: int | None = None) -> Announcement:
    """Edit a draft or a scheduled announcement (its time stays: schedule again to move it)."""
    _check_version(announcement, expected_version)
    if announcement.state not in EDITABLE_STATES:
        raise Conflict("announcement_state",
                       _("Only a draft or a scheduled announcement can be edited."),
                       state=announcement.state)
    clean = _clean(data, partial=True)
    for name, value in clean.items():
        setattr(announcement, name, value)
    db.session.flush()
    return announcement


def schedule(actor, announcement: Announcement, publish_at: datetime,
             expected_version: int | None = None) -> Announcement:
    """Publish at `publish_at` (in the future): a durable timer the sweep fires."""
    from ticketing.timers.clocks import _timer_row, schedule_timers
    _check_version(announcement, expected_version)
    _require(announcement, "schedule")
    if publish_at is None or publish_at.tzinfo is None:
        raise InvalidInput({"publish_at": [_("Give the date and time with its time zone.")]})
    now = utcnow()
    if publish_at <= now:
        raise InvalidInput({"publish_at": [_("The time to publish must be in the future.")]})
    announcement.state = "scheduled"
    announcement.publish_at = publish_at
    db.session.flush()  # the new version names the timer: one timer per scheduling
    schedule_timers([_timer_row(
        kind=PUBLISH_TIMER, due_at=publish_at,
        dedupe_key=f"announcement:{announcement.id}:{announcement.version}",
        data={"announcement_id": announcement.id, "publish_at": _utc_text(publish_at)},
        created_at=now)])
    return announcement


def _utc_text(at: datetime) -> str:
    """The time a timer names, as UTC text: the same instant reads the same whatever zone
    it was given in."""
    return at.astimezone(timezone.utc).isoformat()


def _move(announcement: Announcement, action: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    announcement.state = ACTIONS[action]["to"]
    if action in _STAMPS:
        setattr(announcement, _STAMPS[action], now)
    db.session.flush()


def publish(actor, announcement: Announcement,
            expected_version: int | None = None) -> Announcement:
    """Publish now (a draft, or a scheduled one before its time)."""
    _check_version(announcement, expected_version)
    _require(announcement, "publish")
    _move(announcement, "publish")
    return announcement


def cancel(actor, announcement: Announcement,
           expected_version: int | None = None) -> Announcement:
    """Call off a draft or a scheduled announcement before it is published."""
    _check_version(announcement, expected_version)
    _require(announcement, "cancel")
    _move(announcement, "cancel")
    return announcement


def withdraw(announcement: Announcement, actor=None,
             expected_version: int | None = None) -> Announcement:
    """Revoke a current announcement: it leaves the home pages and stays searchable."""
    _check_version(announcement, expected_version)
    if announcement.state != "current":
        raise Conflict("announcement_not_current",
                       _("Only a current announcement can be withdrawn."),
                       state=announcement.state)
    _move(announcement, "withdraw")
    return announcement


def archive(actor, announcement: Announcement,
            expected_version: int | None = None) -> Announcement:
    """Take a current announcement off the home pages into the archive."""
    _check_version(announcement, expected_version)
    _require(announcement, "archive")
    _move(announcement, "archive")
    return announcement


# Each action's operation, called the same way: fn(actor, announcement, expected_version).
OPERATIONS = {"publish": publish, "cancel": cancel, "archive": archive,
              "withdraw": lambda actor, a, expected_version=None: withdraw(a, actor,
                                                                          expected_version)}


# -- the sweep ----------------------------------------------------------------------------

def fire_publish_timers(timers: list, now: datetime) -> None:
    """Batch handler of announcement_publish timers: each announcement still scheduled for
    the time its timer names is published, once. Idempotent: the rows are locked and re-read,
    and anything else (rescheduled, cancelled, published already) is left alone."""
    wanted: dict[int, set[str]] = {}
    for timer in timers:
        data = timer.data or {}
        if "announcement_id" in data:
            wanted.setdefault(int(data["announcement_id"]), set()).add(
                str(data.get("publish_at")))
    if not wanted:
        return
    rows = db.session.scalars(
        select(Announcement).where(Announcement.id.in_(sorted(wanted)))
        .order_by(Announcement.id).options(lazyload("*")).with_for_update()
        .execution_options(populate_existing=True)).all()
    for announcement in rows:
        if announcement.state == "scheduled" and announcement.publish_at is not None \
                and announcement.publish_at <= now \
                and _utc_text(announcement.publish_at) in wanted[announcement.id]:
            _move(announcement, "publish", now)


# -- who reads what -----------------------------------------------------------------------

def addressed_to(announcement: Announcement, department_id: int | None) -> bool:
    ids = announcement.department_ids or []
    return not ids or (department_id is not None and department_id in ids)


CURRENT_SHOWN = 20


def current_for(user) -> list[Announcement]:
    """Current announcements addressed to the user's department (or to everyone), newest
    first. Few are current at once: read by the state index, filtered here."""
    if not getattr(user, "is_authenticated", False):
        return []
    rows = db.session.scalars(select(Announcement).where(Announcement.state == "current")
                              .order_by(Announcement.published_at.desc(),
                                        Announcement.id.desc()).limit(500))
    return [a for a in rows if addressed_to(a, user.department_id)][:CURRENT_SHOWN]


def search(user, state: str | None = None, text: str | None = None,
           limit: int = 50) -> list[Announcement]:
    """Announcements newest first, by state and words of the title or body. Who may manage
    them sees every one; others see those published to their department (current, revoked
    or archived: a withdrawn one stays searchable)."""
    manager = user.can("announcements.manage")
    query = select(Announcement).order_by(Announcement.id.desc())
    if state:
        query = query.where(Announcement.state == state)
    if not manager:
        query = query.where(Announcement.state.in_(PUBLISHED_STATES))
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Announcement.title.ilike(pattern, escape="\\"),
                                Announcement.body.ilike(pattern, escape="\\")))
    if manager:
        return list(db.session.scalars(query.limit(limit)))
    found = []
    for announcement in db.session.scalars(query.limit(20 * limit)):
        if addressed_to(announcement, user.department_id):
            found.append(announcement)
            if len(found) >= limit:
                break
    return found


def can_read(user, announcement: Announcement) -> bool:
    if user.can("announcements.manage"):
        return True
    return user.can("announcements.view") and announcement.state in PUBLISHED_STATES \
        and addressed_to(announcement, user.department_id)


def department_names(announcements, locale: str) -> dict[int, str]:
    ids = {i for a in announcements for i in (a.department_ids or [])}
    if not ids:
        return {}
    return {d.id: d.display_name(locale) for d in db.session.scalars(
        select(Department).where(Department.id.in_(ids)))}


__all__ = ["STATES", "ACTIONS", "OPERATIONS", "publish_system_announcement", "withdraw"]
