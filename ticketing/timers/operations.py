"""Timer-area operations: calendars, SLA policies, default reference data, notifications.
They flush, never commit; the request or CLI command that calls them commits once."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ticketing.errors import InvalidInput
from ticketing.clock import utcnow
from ticketing.extensions import db
from workflows.tickets import EVENTS
from ticketing.timers.models import (DAY_KINDS, KINDS, PRIORITIES, TIERS, Calendar, CalendarDay,
                                     Notification, SlaPolicy)

# Seeded names are data an admin may rename; they are in Chinese, the language of the
# call center the product is seeded for (the UI's default).
OFFICE_HOURS = "工作日 09:00–18:00"
ALWAYS_OPEN = "全天 24×7"
MONDAY_TO_FRIDAY = {str(day): [["09:00", "18:00"]] for day in range(5)}
WORKING_DAY = 9 * 60  # business minutes in one 09:00-18:00 day

# name, kind, priority, tier, response, resolution, complaint limit, warn, level 2, level 3,
# calendar. Repairs run 24x7; key accounts (VIP) get tighter deadlines (SPEC §3, §7).
DEFAULT_POLICIES = [
    ("默认", None, None, None, 60, 2 * WORKING_DAY, 2 * WORKING_DAY, 30, 60, 240,
     OFFICE_HOURS),
    ("咨询", "consult", None, None, 30, WORKING_DAY, None, 10, 60, 240, OFFICE_HOURS),
    ("报修", "repair", None, None, 60, 8 * 60, None, 15, 60, 240, ALWAYS_OPEN),
    ("投诉", "complaint", None, None, 60, 3 * WORKING_DAY, 2 * WORKING_DAY, 30, 120, 480,
     OFFICE_HOURS),
    ("咨询（VIP）", "consult", None, "vip", 15, WORKING_DAY // 2, None, 5, 30, 120,
     OFFICE_HOURS),
    ("报修（VIP）", "repair", None, "vip", 30, 4 * 60, None, 10, 30, 120, ALWAYS_OPEN),
    ("报修（紧急）", "repair", "urgent", None, 30, 4 * 60, None, 10, 30, 120, ALWAYS_OPEN),
    ("投诉（VIP）", "complaint", None, "vip", 30, 3 * WORKING_DAY // 2, WORKING_DAY, 15, 60,
     240, OFFICE_HOURS),
]


# -- reference data ------------------------------------------------------------------------

def ensure_default_sla() -> list[str]:
    """INIT_HOOKS: the two default calendars and the default policies, if none exist."""
    created = []
    if not db.session.scalar(select(func.count(Calendar.id))):
        db.session.add(Calendar(name=OFFICE_HOURS, timezone="Asia/Shanghai", always_open=False,
                                weekly_hours=MONDAY_TO_FRIDAY, china_holidays=True))
        db.session.add(Calendar(name=ALWAYS_OPEN, timezone="Asia/Shanghai", always_open=True,
                                weekly_hours={}, china_holidays=False))
        created.append("calendars")
        db.session.flush()
    if not db.session.scalar(select(func.count(SlaPolicy.id))):
        calendars = {c.name: c for c in db.session.scalars(select(Calendar))}
        fallback = next(iter(calendars.values()))
        for (name, kind, priority, tier, response, resolution, limit, warn, level2, level3,
             calendar) in DEFAULT_POLICIES:
            db.session.add(SlaPolicy(
                name=name, kind=kind, priority=priority, customer_tier=tier,
                scope=SlaPolicy.scope_of(kind, priority, tier), response_minutes=response,
                resolution_minutes=resolution, complaint_limit_minutes=limit,
                warn_before_minutes=warn, level2_after_minutes=level2,
                level3_after_minutes=level3, calendar=calendars.get(calendar, fallback)))
        created.append("SLA policies")
        db.session.flush()
    return created


# -- calendars -----------------------------------------------------------------------------

def _check_calendar(calendar: Calendar | None, name: str, timezone: str, always_open: bool,
                    weekly_hours: dict) -> None:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("Give a name of at most 100 characters.")]
    else:
        other = db.session.scalar(select(Calendar.id).where(Calendar.name == name))
        if other is not None and (calendar is None or other != calendar.id):
            errors["name"] = [_("Another calendar has this name.")]
    try:
        ZoneInfo(timezone or "")
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [_("Unknown time zone, e.g. Asia/Shanghai.")]
    if not always_open and not any(weekly_hours.values()):
        errors["weekly_hours"] = [_("Open the calendar on at least one weekday, or make it "
                                    "24×7.")]
    if errors:
        raise InvalidInput(errors)


def save_calendar(calendar: Calendar | None, *, name: str, timezone: str, always_open: bool,
                  china_holidays: bool, weekly_hours: dict) -> Calendar:
    """Create (calendar None) or change a calendar. Running clocks keep their deadlines;
    the change applies from their next pause, resume or start."""
    weekly = {str(day): intervals for day, intervals in weekly_hours.items() if intervals}
    _check_calendar(calendar, name, timezone, always_open, weekly)
    if calendar is None:
        calendar = Calendar()
        db.session.add(calendar)
    calendar.name = name.strip()
    calendar.timezone = timezone
    calendar.always_open = bool(always_open)
    calendar.china_holidays = bool(china_holidays)
    calendar.weekly_hours = weekly
    calendar.updated_at = utcnow()
    db.session.flush()
    return calendar


def add_calendar_day(calendar: Calendar, day: date, kind: str, note: str = "") -> CalendarDay:
    errors = {}
    if kind not in DAY_KINDS:
        errors["kind"] = [_("Choose holiday or workday.")]
    if db.session.scalar(select(CalendarDay.id).where(CalendarDay.calendar_id == calendar.id,
                                                      CalendarDay.day == day)):
        errors["day"] = [_("This date is already listed; remove it first.")]
    if len(note or "") > 200:
        errors["note"] = [_("At most %(n)d characters.", n=200)]
    if errors:
        raise InvalidInput(errors)
    row = CalendarDay(calendar=calendar, day=day, kind=kind, note=(note or "").strip())
    db.session.add(row)
    calendar.updated_at = utcnow()
    db.session.flush()
    return row


def remove_calendar_day(calendar: Calendar, day_id: int) -> bool:
    row = db.session.get(CalendarDay, day_id)
    if row is None or row.calendar_id != calendar.id:
        return False
    calendar.days.remove(row)  # delete-orphan: the row goes, and the collection knows it
    calendar.updated_at = utcnow()
    db.session.flush()
    return True


# -- policies ------------------------------------------------------------------------------

POLICY_FIELDS = ("name", "kind", "priority", "customer_tier", "response_minutes",
                 "resolution_minutes", "complaint_limit_minutes", "warn_before_minutes",
                 "level2_after_minutes", "level3_after_minutes", "calendar_id", "active")


def save_policy(policy: SlaPolicy | None, data: dict) -> SlaPolicy:
    """Create (policy None) or change a policy; running clocks keep the values they
    started with (a clock copies its policy's minutes)."""
    data = {k: data.get(k) for k in POLICY_FIELDS}
    for key in ("kind", "priority", "customer_tier"):
        data[key] = data[key] or None
    errors: dict[str, list[str]] = {}
    name = (data["name"] or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("Give a name of at most 100 characters.")]
    for key, allowed in (("kind", KINDS), ("priority", PRIORITIES), ("customer_tier", TIERS)):
        if data[key] is not None and data[key] not in allowed:
            errors[key] = [_("Not a valid choice.")]
    for key in ("response_minutes", "resolution_minutes", "level2_after_minutes",
                "level3_after_minutes"):
        if not isinstance(data[key], int) or data[key] <= 0:
            errors[key] = [_("Give a whole number of minutes above zero.")]
    limit = data["complaint_limit_minutes"]
    if limit is not None and (not isinstance(limit, int) or limit <= 0):
        errors["complaint_limit_minutes"] = [_("Give a whole number of minutes above zero, "
                                               "or leave it empty.")]
    if not isinstance(data["warn_before_minutes"], int) or data["warn_before_minutes"] < 0:
        errors["warn_before_minutes"] = [_("Give a whole number of minutes, zero or more.")]
    if ("level2_after_minutes" not in errors and "level3_after_minutes" not in errors
            and data["level3_after_minutes"] <= data["level2_after_minutes"]):
        errors["level3_after_minutes"] = [_("Level 3 must come after level 2.")]
    calendar = db.session.get(Calendar, data["calendar_id"]) if data["calendar_id"] else None
    if calendar is None:
        errors["calendar_id"] = [_("Choose a calendar.")]
    scope = SlaPolicy.scope_of(data["kind"], data["priority"], data["customer_tier"])
    other = db.session.scalar(select(SlaPolicy.id).where(SlaPolicy.scope == scope))
    if other is not None and (policy is None or other != policy.id):
        errors["kind"] = [_("Another policy already covers this kind, priority and tier.")]
    if errors:
        raise InvalidInput(errors)
    if policy is None:
        policy = SlaPolicy()
        db.session.add(policy)
    for key in POLICY_FIELDS:
        setattr(policy, key, data[key])
    policy.name = name
    policy.active = bool(data["active"]) if data["active"] is not None else True
    policy.scope = scope
    policy.calendar = calendar
    policy.updated_at = utcnow()
    db.session.flush()
    return policy


# -- notifications -------------------------------------------------------------------------

def notifications_for(user, *, unread_only: bool = False, limit: int = 50,
                      before_id: int | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id:
        query = query.where(Notification.id < before_id)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(user) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_notifications_read(user, ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when ids is None)."""
    stmt = update(Notification).where(Notification.user_id == user.id,
                                      Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    result = db.session.execute(stmt.values(read_at=utcnow())
                                .execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def notify_new_assignee(event: str, *, transitions, actor=None, at=None, **_kwargs) -> None:
    """tickets_transitioned receiver: an event whose data says `notify: ["assignee"]`
    (dispatch) tells each new assignee in-app, unless they gave it to themselves."""
    if "assignee" not in EVENTS[event]["effects"].get("notify", ()):
        return
    for t in transitions:
        ticket = t.ticket
        if ticket.assignee_id is None or ticket.assignee_id == getattr(actor, "id", None):
            continue
        db.session.add(Notification(user_id=ticket.assignee_id, ticket_id=ticket.id,
                                    kind="assigned", created_at=at or utcnow(),
                                    data={"ticket_number": ticket.number, "event": event}))
