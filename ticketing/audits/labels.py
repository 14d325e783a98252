"""What people read about audits and liability (translated at render time)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

REASON_LABELS = {"complaint": _l("Complaint"), "unsatisfied_callback": _l("Unsatisfied callback"),
                 "sla_breach": _l("SLA breach"), "sample": _l("Random sample")}
STATUS_LABELS = {"open": _l("Open"), "overdue": _l("Overdue"), "done": _l("Done")}
DECISION_LABELS = {"pass": _l("Passed"), "reject": _l("Rejected")}
LIABILITY_STATUS_LABELS = {"recorded": _l("Ruled"), "appealed": _l("Appealed"),
                           "upheld": _l("Appeal refused: the ruling stands"),
                           "overturned": _l("Appeal granted: the ruling is overturned")}


def audit_note(data: dict) -> str:
    return _("Audit #%(id)s", id=data.get("audit_id", "?"))


def rejected_by_audit(audit_id) -> str:
    """Before the note of a reopening by a rejected audit (wiring.history_prefixes)."""
    return _("Audit #%(id)s rejected", id=audit_id)
