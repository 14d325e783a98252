"""Translated names of the announcements' states and actions."""
from flask_babel import lazy_gettext as _l

STATE_LABELS = {"draft": _l("Draft"), "scheduled": _l("Scheduled"), "current": _l("Current"),
                "cancelled": _l("Cancelled"), "revoked": _l("Withdrawn"),
                "archived": _l("Archived")}
ACTION_LABELS = {"schedule": _l("Schedule"), "publish": _l("Publish now"),
                 "cancel": _l("Cancel"), "withdraw": _l("Withdraw"), "archive": _l("Archive")}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
