"""What people read about departments (translated at render time)."""
from flask_babel import lazy_gettext as _l

DEPARTMENT_KIND_LABELS = {
    "call_center": _l("Call center"), "operations": _l("Operations"),
    "inspection": _l("Inspection"), "repair": _l("Repair department"),
    "repair_team": _l("Field team"), "callback": _l("Callback team"),
    "supervision": _l("Supervision"), "dispatch": _l("Dispatch center"),
    "management": _l("Center management"), "other": _l("Other"),
}
