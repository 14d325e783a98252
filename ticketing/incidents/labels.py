"""Translated names of the incident area's states and types, and its history notes."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

STATE_LABELS = {"open": _l("Open"), "cleared": _l("Fault cleared"),
                "released": _l("Released")}
SUSPENSION_TYPE_LABELS = {"mass_fault": _l("Mass fault"),
                          "planned_work": _l("Planned work"),
                          "external": _l("External cause")}
REVIEW_LABELS = {"pending": _l("Awaiting review"), "confirmed": _l("Confirmed"),
                 "rejected": _l("Rejected")}


def released_note(data: dict) -> str:
    """A ticket resolved by its incident's release with no note typed (wiring.history_notes).
    Rows written before 2026-12-01 stored this text in the releaser's language."""
    return _("Service restored: incident %(ref)s released.", ref=data.get("incident_ref", "?"))
