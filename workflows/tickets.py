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
MODEL_ATTRIBUTES = ("state", "kind", "customer_id", "customer_verified_at", "suspended_from",
                    "assignee_id")
WRITTEN_ATTRIBUTES = ("state", "suspended_from")


def kind_of_state(state: str | None) -> str | None:
    """consult/repair/complaint for their states and sub-states; None for suspended and closed."""
    kind = (state or "").partition("_")[0]
    return kind if kind in KINDS else None


def display_status(state: str) -> str:
    return DISPLAY_STATUS[state]


def responded(state_before: str, state_after: str, event: str | None = None) -> bool:
    """The first response: the ticket first leaves a `new` leaf, or an event that counts as
    one (take: someone accepted it) is fired on a `new` ticket.

    Reclassify moves from one `new` leaf to another, so it never counts as a response.
    """
    if state_before not in NEW_LEAVES:
        return False
    return state_after not in NEW_LEAVES or bool(
        event and EVENTS[event]["effects"].get("responds"))


def _text(label: str, required: bool = True) -> dict:
    return {"type": "text", "required": required, "label": label}


def _department(label: str, kinds=None) -> dict:
    """A department field; `kinds`: only departments of these kinds (auth DEPARTMENT_KINDS)."""
    return {"type": "department", "required": True, "label": label,
            **({"kinds": list(kinds)} if kinds else {})}


def _leaves_of(kind: str) -> list[str]:
    return [leaf for leaf in ACTIVE_LEAVES if kind_of_state(leaf) == kind]


_GUARDS = "workflows.guards."
_REMEMBER = {"before": [_GUARDS + "remember_suspended_from"]}

# Clocks (SLA, SPEC §3) an event can name. "kinds": the ticket kinds a clock runs for.
# The response clock also stops by itself at the first response: when a ticket first
# leaves a `new` leaf, or an event that `responds` (take) is fired.
CLOCKS = {
    "response": {"kinds": list(KINDS), "stops_at_first_response": True},
    "resolution": {"kinds": list(KINDS)},
    "complaint_limit": {"kinds": ["complaint"]},
}
ALL_CLOCKS = "all"

# Departments that go out to customers' premises: dispatch sends work orders only to them.
FIELD_TEAM_KINDS = ("repair_team",)

EVENTS: dict[str, dict] = {}
TRANSITIONS: list[dict] = []


def _rule(name: str, label: str, *, moves, fields=None, guards=(), effects=None,
          danger: bool = False, before=None) -> None:
    """One event, whole: its label and fields, where it may go from where (moves: (sources,
    dest) pairs; dest None stays put), the guards on those moves, and its effects.

    effects (interpreted by ticketing.tickets.operations and the timers area):
      set:        {ticket column: "field:<name>" | "now" | "true" | "increment"}; a field
                  that was not given leaves the column as it is
      kind:       "field:<name>": the ticket's new kind
      department: "field:<name>" | "@<department code>" | "first_of_kind"
      assignee:   "field:<name>" (None when not given) | "actor" | None (nobody)
      responds:   True: counts as the first response even without leaving `new`
      clocks:     {"start": [...], "stop": [...] | "all", "pause": "all", "resume": "all"}
      notify:     ["assignee"]: the new assignee gets an in-app notification
    """
    fields = fields or {}
    EVENTS[name] = {"label": label, "fields": fields, "danger": danger,
                    "effects": effects or {}}
    required = any(field["required"] for field in fields.values())
    conditions = [_GUARDS + g for g in (["has_required_fields"] if required else [])
                  + list(guards)]
    for sources, dest, *dest_guards in moves:
        TRANSITIONS.append({"trigger": name, "source": list(sources), "dest": dest,
                            "conditions": conditions + [_GUARDS + g for g in dest_guards],
                            **(before or {})})


# -- in the order of the usual path: pages offer actions in this order ---------------------

_rule("take", "Take", moves=[(ACTIVE_LEAVES, None)], guards=["unassigned"],
      effects={"assignee": "actor", "responds": True})

# consult (咨询)
_rule("transfer", "Transfer", moves=[(["consult_new", "consult_handling"], "consult_handling")],
      fields={"department_id": _department("Department")},
      effects={"department": "field:department_id", "assignee": None})
_rule("reply", "Reply", moves=[(["consult_new", "consult_handling"], "consult_replied")],
      fields={"note": _text("Reply text")},
      effects={"set": {"handling_note": "field:note"}})
_rule("relay", "Relay reply", moves=[(["consult_replied"], "closed")],
      fields={"note": _text("Note", required=False)},
      effects={"set": {"handling_note": "field:note"}, "clocks": {"stop": ALL_CLOCKS}})
_rule("terminate", "Terminate", danger=True,
      moves=[(["consult_new", "consult_handling", "consult_replied"], "closed")],
      fields={"note": _text("Note")},
      effects={"set": {"handling_note": "field:note"}, "clocks": {"stop": ALL_CLOCKS}})

# repair (报修)
_rule("verify_customer", "Verify customer", guards=["has_customer"],
      moves=[(["repair_new"], "repair_verified"), (["repair_classified"], "repair_classified")],
      effects={"set": {"customer_verified_at": "now"}})
_rule("classify_fault", "Classify fault",
      moves=[(["repair_new", "repair_verified"], "repair_classified")],
      fields={"fault_type": {**_text("Fault type"), "choices": "fault_categories"}},
      effects={"set": {"fault_type": "field:fault_type"}})
_rule("issue_work_order", "Issue work order", guards=["customer_verified"],
      moves=[(["repair_classified"], "repair_ordered")],
      fields={"department_id": _department("Department")},
      effects={"department": "field:department_id", "assignee": None})
_rule("dispatch", "Dispatch",
      moves=[(["repair_ordered", "repair_dispatched"], "repair_dispatched")],
      fields={"department_id": _department("Field team", kinds=FIELD_TEAM_KINDS),
              # Only a member of the chosen team may be given the work order.
              "assignee_id": {"type": "user", "required": False, "label": "Assignee",
                              "member_of": "department_id"}},
      effects={"department": "field:department_id", "assignee": "field:assignee_id",
               "notify": ["assignee"]})
_rule("accept", "Accept", moves=[(["repair_dispatched"], "repair_working")])
_rule("report_repaired", "Report repaired", moves=[(["repair_working"], "repair_repaired")],
      fields={"note": _text("Repair report")},
      effects={"set": {"handling_note": "field:note"}})
# A mass fault parks the ticket like a suspension, so resume must know where it came from.
_rule("link_incident", "Link to incident", moves=[(["repair_classified"], "suspended")],
      fields={"incident_ref": _text("Incident reference")}, before=_REMEMBER,
      effects={"set": {"incident_ref": "field:incident_ref"}, "clocks": {"pause": ALL_CLOCKS}})
# Releasing the incident (SPEC §4): the service is back, so the linked ticket leaves its
# suspension resolved in one step; its paused clocks stop without counting the suspension.
_rule("release_incident", "Resolve with the incident", moves=[(["suspended"], "closed")],
      # Optional: without one, the history says "service restored" in the reader's language.
      fields={"note": _text("Resolution note", required=False)},
      effects={"set": {"handling_note": "field:note"}, "clocks": {"stop": ALL_CLOCKS}})

# complaint (投诉)
_rule("send_to_inspection", "Send to inspection",
      moves=[(["complaint_new"], "complaint_inspecting")],
      effects={"department": "@inspection", "assignee": None})
_rule("analyse", "Analyse", moves=[(["complaint_inspecting"], "complaint_analysed")],
      fields={"note": _text("Analysis")})
_rule("assign", "Assign", moves=[(["complaint_analysed"], "complaint_assigned")],
      fields={"department_id": _department("Responsible department")},
      effects={"department": "field:department_id", "assignee": None,
               "clocks": {"start": ["complaint_limit"]}})
_rule("handle", "Record handling", guards=["numbers_in_range"],
      moves=[(["complaint_assigned"], "complaint_handled")],
      fields={"note": _text("Handling description"),
              "receipt_person": _text("Person who signed the receipt"),
              "satisfaction": {"type": "int", "required": True, "label": "Satisfaction score",
                               "min": 1, "max": 5}},
      effects={"set": {"handling_note": "field:note", "receipt_person": "field:receipt_person",
                       "customer_satisfaction": "field:satisfaction"},
               "clocks": {"stop": ["complaint_limit"]}})
_rule("resolve", "Resolve", moves=[(["repair_repaired", "complaint_handled"], "closed")],
      fields={"note": _text("Handling note")},
      effects={"set": {"handling_note": "field:note"}, "clocks": {"stop": ALL_CLOCKS}})

# suspension (挂起) from any active sub-state, and back to exactly where it left
_rule("suspend", "Suspend", moves=[(ACTIVE_LEAVES, "suspended")], before=_REMEMBER,
      fields={"reason": _text("Reason")}, effects={"clocks": {"pause": ALL_CLOCKS}})
_rule("resume", "Resume",
      moves=[(["suspended"], leaf, "returns_to_suspended_from") for leaf in ACTIVE_LEAVES],
      effects={"clocks": {"resume": ALL_CLOCKS}})
_rule("reject_suspension", "Reject suspension",
      moves=[(["suspended"], leaf, "returns_to_suspended_from") for leaf in ACTIVE_LEAVES],
      fields={"note": _text("Note")}, effects={"clocks": {"resume": ALL_CLOCKS}})
_rule("approve_suspension", "Approve suspension", moves=[(["suspended"], None)],
      fields={"note": _text("Note", required=False)},
      effects={"set": {"suspension_approved": "true"}})
_rule("close", "Close", danger=True, moves=[(["suspended"], "closed")],
      fields={"note": _text("Resolution note")},
      effects={"set": {"handling_note": "field:note"}, "clocks": {"stop": ALL_CLOCKS}})

# after closing, and across kinds
_rule("reopen", "Reopen", guards=["reopens_own_kind"],
      moves=[(["closed"], REOPEN_STATE[kind]) for kind in KINDS],
      fields={"reason": _text("Reason")},
      effects={"set": {"reopen_count": "increment"},
               "clocks": {"start": ["resolution", "complaint_limit"]}})
_rule("reclassify", "Reclassify", guards=["reclassifies_to_requested_kind"],
      moves=[(_leaves_of(kind), INITIAL_STATE[to_kind])
             for kind in KINDS for to_kind in KINDS if to_kind != kind],
      fields={"to_kind": {"type": "kind", "required": True, "label": "New kind"},
              "reason": _text("Reason")},
      effects={"kind": "field:to_kind", "department": "first_of_kind", "assignee": None,
               "clocks": {"stop": ALL_CLOCKS, "start": ["response", "resolution"]}})

for _name, _meta in EVENTS.items():
    _meta["permission"] = f"tickets.{_name}"
    _meta["closes"] = any(t["trigger"] == _name and t["dest"] == "closed" for t in TRANSITIONS)
del _name, _meta
