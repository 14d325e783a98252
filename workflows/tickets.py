"""The ticket workflow as data: states, events and transitions (SPEC §2).

STATES, EVENTS and TRANSITIONS are plain lists and dicts of strings, so the API can serve them
as JSON; guards and callbacks are dotted paths into `workflows.guards`.
"""

KINDS = ("consult", "repair", "complaint")

SUB_STATES = {
    "consult": ("new", "handling", "replied"),
    "repair": ("new", "verified", "classified", "ordered", "dispatched", "working", "repaired"),
    "complaint": ("new", "inspecting", "analysed", "assigned", "handled"),
}

STATES = [{"name": kind, "children": list(subs)} for kind, subs in SUB_STATES.items()] + [
    {"name": "suspended"},
    {"name": "closed"},
]

ACTIVE_LEAVES = tuple(f"{kind}_{sub}" for kind, subs in SUB_STATES.items() for sub in subs)
LEAVES = ACTIVE_LEAVES + ("suspended", "closed")
INITIAL_STATE = {kind: f"{kind}_new" for kind in KINDS}
NEW_LEAVES = tuple(INITIAL_STATE.values())

# A closed ticket reopens into the sub-state where its kind is handled.
REOPEN_STATE = {
    "consult": "consult_handling",
    "repair": "repair_ordered",
    "complaint": "complaint_assigned",
}

# The seed's four display statuses, derived from the state and never stored.
DISPLAY_STATUS = {
    **{leaf: "pending" if leaf in NEW_LEAVES else "processing" for leaf in ACTIVE_LEAVES},
    "suspended": "suspended",
    "closed": "processed",
}

# Guards read a ticket only through these attributes; the workflow writes back only the second list.
MODEL_ATTRIBUTES = ("state", "kind", "customer_id", "customer_verified_at", "suspended_from")
WRITTEN_ATTRIBUTES = ("state", "suspended_from")


def kind_of_state(state: str | None) -> str | None:
    """consult/repair/complaint for their states and sub-states; None for suspended and closed."""
    kind = (state or "").partition("_")[0]
    return kind if kind in KINDS else None


def display_status(state: str) -> str:
    return DISPLAY_STATUS[state]


def responded(state_before: str, state_after: str) -> bool:
    """The SLA response clock stops when a ticket first leaves a `new` leaf.

    Reclassify moves from one `new` leaf to another, so it never counts as a response.
    """
    return state_before in NEW_LEAVES and state_after not in NEW_LEAVES


def _text(label: str, required: bool = True) -> dict:
    return {"type": "text", "required": required, "label": label}


def _department(label: str) -> dict:
    return {"type": "department", "required": True, "label": label}


def _event(label: str, danger: bool = False, **fields) -> dict:
    return {"label": label, "fields": fields, "danger": danger}


EVENTS = {
    "transfer": _event("Transfer", department_id=_department("Department")),
    "reply": _event("Reply", note=_text("Reply text")),
    "relay": _event("Relay reply", note=_text("Note", required=False)),
    "terminate": _event("Terminate", danger=True, note=_text("Note")),
    "verify_customer": _event("Verify customer"),
    "classify_fault": _event("Classify fault", fault_type=_text("Fault type")),
    "issue_work_order": _event("Issue work order", department_id=_department("Department")),
    "dispatch": _event(
        "Dispatch",
        department_id=_department("Field team"),
        assignee_id={"type": "user", "required": False, "label": "Assignee"},
    ),
    "accept": _event("Accept"),
    "report_repaired": _event("Report repaired", note=_text("Repair report")),
    "link_incident": _event("Link to incident", incident_ref=_text("Incident reference")),
    "send_to_inspection": _event("Send to inspection"),
    "analyse": _event("Analyse", note=_text("Analysis")),
    "assign": _event("Assign", department_id=_department("Responsible department")),
    "handle": _event(
        "Record handling",
        note=_text("Handling description"),
        receipt_person=_text("Person who signed the receipt"),
        satisfaction={
            "type": "int", "required": True, "label": "Satisfaction score", "min": 1, "max": 5,
        },
    ),
    "resolve": _event("Resolve", note=_text("Handling note")),
    "suspend": _event("Suspend", reason=_text("Reason")),
    "resume": _event("Resume"),
    "reject_suspension": _event("Reject suspension", note=_text("Note")),
    "approve_suspension": _event("Approve suspension", note=_text("Note", required=False)),
    "close": _event("Close", danger=True, note=_text("Resolution note")),
    "reopen": _event("Reopen", reason=_text("Reason")),
    "reclassify": _event(
        "Reclassify",
        to_kind={"type": "kind", "required": True, "label": "New kind"},
        reason=_text("Reason"),
    ),
}

_GUARDS = "workflows.guards."


def _t(trigger: str, source, dest: str | None, *guards: str, **callbacks) -> dict:
    """One transition; the required-fields guard comes first when the event has any."""
    required = any(field["required"] for field in EVENTS[trigger]["fields"].values())
    conditions = (["has_required_fields"] if required else []) + list(guards)
    return {"trigger": trigger, "source": source, "dest": dest,
            "conditions": [_GUARDS + name for name in conditions], **callbacks}


def _leaves_of(kind: str) -> list[str]:
    return [leaf for leaf in ACTIVE_LEAVES if kind_of_state(leaf) == kind]


_REMEMBER = {"before": [_GUARDS + "remember_suspended_from"]}

TRANSITIONS = [
    _t("transfer", ["consult_new", "consult_handling"], "consult_handling"),
    _t("reply", ["consult_new", "consult_handling"], "consult_replied"),
    _t("relay", ["consult_replied"], "closed"),
    _t("terminate", ["consult_new", "consult_handling", "consult_replied"], "closed"),
    _t("verify_customer", ["repair_new"], "repair_verified", "has_customer"),
    _t("verify_customer", ["repair_classified"], "repair_classified", "has_customer"),
    _t("classify_fault", ["repair_new", "repair_verified"], "repair_classified"),
    _t("issue_work_order", ["repair_classified"], "repair_ordered", "customer_verified"),
    _t("dispatch", ["repair_ordered", "repair_dispatched"], "repair_dispatched"),
    _t("accept", ["repair_dispatched"], "repair_working"),
    _t("report_repaired", ["repair_working"], "repair_repaired"),
    # A mass fault parks the ticket like a suspension, so resume must know where it came from.
    _t("link_incident", ["repair_classified"], "suspended", **_REMEMBER),
    _t("send_to_inspection", ["complaint_new"], "complaint_inspecting"),
    _t("analyse", ["complaint_inspecting"], "complaint_analysed"),
    _t("assign", ["complaint_analysed"], "complaint_assigned"),
    _t("handle", ["complaint_assigned"], "complaint_handled", "numbers_in_range"),
    _t("resolve", ["repair_repaired", "complaint_handled"], "closed"),
    _t("suspend", list(ACTIVE_LEAVES), "suspended", **_REMEMBER),
    *(
        _t(back, ["suspended"], leaf, "returns_to_suspended_from")
        for back in ("resume", "reject_suspension")
        for leaf in ACTIVE_LEAVES
    ),
    _t("approve_suspension", ["suspended"], None),
    _t("close", ["suspended"], "closed"),
    *(_t("reopen", ["closed"], REOPEN_STATE[kind], "reopens_own_kind") for kind in KINDS),
    *(
        _t("reclassify", _leaves_of(kind), INITIAL_STATE[to_kind], "reclassifies_to_requested_kind")
        for kind in KINDS
        for to_kind in KINDS
        if to_kind != kind
    ),
]

for _name, _meta in EVENTS.items():
    _meta["permission"] = f"tickets.{_name}"
    _meta["closes"] = any(t["trigger"] == _name and t["dest"] == "closed" for t in TRANSITIONS)
del _name, _meta
