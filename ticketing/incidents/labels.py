"""Translated names of the incident area's states and types."""
from flask_babel import lazy_gettext as _l

STATE_LABELS = {"open": _l("Open"), "cleared": _l("Fault cleared"),
                "released": _l("Released")}
SUSPENSION_TYPE_LABELS = {"mass_fault": _l("Mass fault"),
                          "planned_work": _l("Planned work"),
                          "external": _l("External cause")}
REVIEW_LABELS = {"pending": _l("Awaiting review"), "confirmed": _l("Confirmed"),
                 "rejected": _l("Rejected")}
