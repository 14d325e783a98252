"""What people read about clocks, timers and notifications (translated at render time)."""
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

CLOCK_LABELS = {"response": _l("Response"), "resolution": _l("Resolution"),
                "complaint_limit": _l("Complaint time limit")}
CLOCK_STATUS_LABELS = {"running": _l("Running"), "paused": _l("Paused (suspended)"),
                       "stopped": _l("Stopped")}
LEVEL_LABELS = {0: _l("Not escalated"), 1: _l("Level 1: assignee and department"),
                2: _l("Level 2: department head"), 3: _l("Level 3: center management")}
DAY_KIND_LABELS = {"holiday": _l("Holiday (closed)"), "workday": _l("Adjusted workday (open)")}
WEEKDAY_LABELS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
                  _l("Saturday"), _l("Sunday"))
TIER_LABELS = {"ordinary": _l("Ordinary"), "vip": _l("VIP / key account")}


def clock_label(name: str) -> str:
    return str(CLOCK_LABELS.get(name, name))


def notification_message(notification) -> str:
    data = notification.data or {}
    number = data.get("ticket_number") or "—"
    clock = clock_label(data.get("clock", ""))
    if notification.kind == "sla_warning":
        return _("Ticket %(number)s: the %(clock)s deadline is near.", number=number,
                 clock=clock)
    if notification.kind == "sla_escalation":
        return _("Ticket %(number)s: %(clock)s deadline missed, escalated to level %(level)s.",
                 number=number, clock=clock, level=data.get("level", "?"))
    if notification.kind == "callback_overdue":
        return _("Ticket %(number)s: its callback is overdue.", number=number)
    if notification.kind == "audit_overdue":
        return _("Ticket %(number)s: its audit is overdue.", number=number)
    if notification.kind == "assigned":
        return _("Ticket %(number)s was assigned to you.", number=number)
    return str(data.get("message") or notification.kind)


def _due(data: dict) -> str:
    try:
        return format_datetime(datetime.fromisoformat(data["due_at"]), "short")
    except (KeyError, TypeError, ValueError):
        return "—"


def sla_warning_note(data: dict) -> str:
    """History text of an SLA warning (the row stores its parameters, not this text)."""
    if data.get("skipped"):
        return _("SLA %(clock)s warning skipped: the deadline (%(due)s) had already passed.",
                 clock=clock_label(data.get("clock", "")), due=_due(data))
    return _("SLA %(clock)s deadline approaching (due %(due)s).",
             clock=clock_label(data.get("clock", "")), due=_due(data))


def sla_escalation_note(data: dict) -> str:
    return _("SLA %(clock)s deadline missed (due %(due)s): escalated to %(level)s.",
             clock=clock_label(data.get("clock", "")), due=_due(data),
             level=LEVEL_LABELS.get(data.get("level"), data.get("level")))
