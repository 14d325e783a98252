"""Translated names of states, statuses, kinds and events (the workflow itself is in
workflows/; these are only what people read)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ticketing.wiring import wiring

KIND_LABELS = {"consult": _l("Consult"), "repair": _l("Repair"), "complaint": _l("Complaint")}

STATUS_LABELS = {"pending": _l("Pending"), "processing": _l("Processing"),
                 "processed": _l("Processed"), "suspended": _l("Suspended")}

STATE_LABELS = {
    "consult_new": _l("Consult: new"),
    "consult_handling": _l("Consult: with a department"),
    "consult_replied": _l("Consult: reply to relay"),
    "repair_new": _l("Repair: new"),
    "repair_verified": _l("Repair: customer verified"),
    "repair_classified": _l("Repair: fault classified"),
    "repair_ordered": _l("Repair: work order issued"),
    "repair_dispatched": _l("Repair: team dispatched"),
    "repair_working": _l("Repair: team working"),
    "repair_repaired": _l("Repair: repaired"),
    "complaint_new": _l("Complaint: new"),
    "complaint_inspecting": _l("Complaint: at inspection"),
    "complaint_analysed": _l("Complaint: analysed"),
    "complaint_assigned": _l("Complaint: with the responsible department"),
    "complaint_handled": _l("Complaint: handled"),
    "suspended": _l("Suspended"),
    "closed": _l("Closed"),
    "consult": _l("Consult"), "repair": _l("Repair"), "complaint": _l("Complaint"),
}

EVENT_LABELS = {
    "take": _l("Take (assign to me)"),
    "transfer": _l("Transfer to a department"),
    "reply": _l("Reply"),
    "relay": _l("Relay reply and terminate"),
    "terminate": _l("Terminate"),
    "verify_customer": _l("Verify customer"),
    "classify_fault": _l("Classify fault"),
    "issue_work_order": _l("Issue work order"),
    "dispatch": _l("Dispatch field team"),
    "accept": _l("Accept"),
    "report_repaired": _l("Report repaired"),
    "link_incident": _l("Link to incident"),
    "release_incident": _l("Resolve with the incident"),
    "send_to_inspection": _l("Send to inspection"),
    "analyse": _l("Analyse"),
    "assign": _l("Assign to department"),
    "handle": _l("Record handling"),
    "resolve": _l("Resolve"),
    "suspend": _l("Suspend"),
    "resume": _l("Resume"),
    "reject_suspension": _l("Reject suspension"),
    "approve_suspension": _l("Approve suspension"),
    "close": _l("Close"),
    "reopen": _l("Reopen (re-dispatch)"),
    "reclassify": _l("Reclassify"),
    # History rows that are not workflow events:
    "open": _l("Opened"),
    "sla_warning": _l("SLA deadline approaching"),
    "escalated": _l("Escalated"),
    "repeat_call": _l("Repeat call"),
    "audit_passed": _l("Audit passed"),
    "audit_rejected": _l("Audit rejected"),
}

FIELD_LABELS = {
    "note": _l("Note"), "reason": _l("Reason"), "department_id": _l("Department"),
    "assignee_id": _l("Assignee"), "fault_type": _l("Fault type"),
    "incident_ref": _l("Incident number"), "receipt_person": _l("Receipt signed by"),
    "satisfaction": _l("Customer satisfaction (1–5)"), "to_kind": _l("New kind"),
}

PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"),
                   "urgent": _l("Urgent")}
CHANNEL_LABELS = {"phone": _l("Phone"), "web": _l("Web"), "email": _l("E-mail"),
                  "walk_in": _l("Walk-in")}


def event_label(name: str):
    return EVENT_LABELS.get(name, name)


def state_label(name: str | None):
    return STATE_LABELS.get(name or "", name or "—")

# Why a workflow guard refused, by guard name (workflows/guards.py speaks English only).
GUARD_REASONS = {
    "has_required_fields": _l("Fill in every required field of this action."),
    "numbers_in_range": _l("Satisfaction must be a whole number from 1 to 5."),
    "has_customer": _l("Link the ticket to a customer before verifying the customer."),
    "customer_verified": _l("A repair needs a verified customer before a work order."),
    "returns_to_suspended_from": _l("A suspended ticket returns to the sub-state it left."),
    "reopens_own_kind": _l("A ticket reopens into the handling sub-state of its own kind."),
    "reclassifies_to_requested_kind": _l("Choose a kind other than the current one."),
    "unassigned": _l("Someone already holds this ticket."),
}


def guard_reasons(guards, fallback) -> list[str]:
    reasons = [str(GUARD_REASONS[g]) for g in guards if g in GUARD_REASONS]
    return list(dict.fromkeys(reasons)) or [str(message) for message in fallback]


def history_note(row) -> str:
    """A history row's text: what a person typed, or what the system recorded as a code with
    parameters (row.data), rendered now in the reader's language and time zone by the area
    that wrote it (wiring.history_notes); and before it what the system says of why, from
    the row's data (wiring.history_prefixes)."""
    areas, data = wiring(), row.data or {}
    text = row.note
    if not text:
        render = areas.history_notes.get(row.event)
        text = str(render(data)) if render else ""
    for key, render in areas.history_prefixes.items():
        if key in data:
            prefix = str(render(data[key]))
            text = _("%(why)s: %(note)s", why=prefix, note=text) if text else prefix
    return text
