"""POST /api/v1/tickets/<id>/transitions: every event through the API, and every refusal
(400, 403, 404, 409) changes nothing: not the state, not the version, not the history."""
import pytest
from sqlalchemy import text

from ticketing.errors import Conflict
from ticketing.extensions import db
from ticketing.signals import tickets_transitioned
from workflows.tickets import EVENTS

# A walk: how the ticket is opened, then (who, event, fields, state after, expectations).
# "dept:<code>" and "user:<key>" in fields and expectations are resolved when the walk runs.
WALKS = {
    "consult_transferred_replied_relayed": ("consult", [
        ("ops", "transfer", {"department_id": "dept:inspection"}, "consult_handling",
         {"department": "inspection"}),
        ("inspector", "reply", {"note": "The bill includes last month"}, "consult_replied",
         {"handling_note": "The bill includes last month"}),
        ("agent", "relay", {}, "closed", {"status": "processed"}),
        ("callback", "reopen", {"reason": "Caller still confused"}, "consult_handling",
         {"reopen_count": 1}),
    ]),
    "consult_taken_and_terminated_by_operations": ("consult", [
        ("ops", "take", {}, "consult_new", {"assignee": "ops", "status": "pending"}),
        ("ops", "terminate", {"note": "Answered on the phone"}, "closed",
         {"handling_note": "Answered on the phone"}),
    ]),
    "repair_from_call_to_field_team_and_back": ("repair", [
        ("dispatcher", "verify_customer", {}, "repair_verified", {"status": "processing"}),
        ("dispatcher", "classify_fault", {"fault_type": "no_signal"}, "repair_classified",
         {"fault_type": "no_signal"}),
        ("dispatcher", "issue_work_order", {"department_id": "dept:repair"}, "repair_ordered",
         {"department": "repair"}),
        ("dispatcher", "dispatch", {"department_id": "dept:repair_team_1",
                                    "assignee_id": "user:team1"}, "repair_dispatched",
         {"department": "repair_team_1", "assignee": "team1"}),
        ("team1", "accept", {}, "repair_working", {}),
        ("team1", "suspend", {"reason": "Waiting for a spare part"}, "suspended",
         {"suspended_from": "repair_working", "status": "suspended"}),
        ("head1", "approve_suspension", {}, "suspended",
         {"suspension_approved": True, "suspended_from": "repair_working"}),
        ("team1", "resume", {}, "repair_working", {"suspended_from": None}),
        ("team1", "report_repaired", {"note": "Replaced the amplifier"}, "repair_repaired", {}),
        ("team1", "resolve", {"note": "Signal back"}, "closed", {"handling_note": "Signal back"}),
        ("callback", "reopen", {"reason": "Unsatisfied on callback"}, "repair_ordered",
         {"reopen_count": 1}),
    ]),
    "repair_linked_to_mass_fault_then_closed": ("repair", [
        ("dispatcher", "verify_customer", {}, "repair_verified", {}),
        ("dispatcher", "classify_fault", {"fault_type": "fibre_cable"}, "repair_classified", {}),
        ("dispatcher", "link_incident", {"incident_ref": "INC-7"}, "suspended",
         {"incident_ref": "INC-7", "suspended_from": "repair_classified"}),
        ("supervisor", "close", {"note": "Incident cleared"}, "closed", {}),
    ]),
    "repair_released_with_its_incident": ("repair", [
        ("dispatcher", "verify_customer", {}, "repair_verified", {}),
        ("dispatcher", "classify_fault", {"fault_type": "fibre_cable"}, "repair_classified", {}),
        ("dispatcher", "link_incident", {"incident_ref": "INC-8"}, "suspended", {}),
        # Granted to no default role: only an incident's release (and an admin) fires it.
        ("admin", "release_incident", {"note": "Service restored"}, "closed",
         {"handling_note": "Service restored"}),
    ]),
    "complaint_through_inspection_to_handling": ("complaint", [
        ("agent", "send_to_inspection", {}, "complaint_inspecting", {}),
        ("inspector", "analyse", {"note": "Installer was late twice"}, "complaint_analysed", {}),
        ("inspector", "assign", {"department_id": "dept:operations"}, "complaint_assigned",
         {"department": "operations"}),
        ("ops", "suspend", {"reason": "Customer abroad"}, "suspended",
         {"suspended_from": "complaint_assigned"}),
        ("ops_head", "reject_suspension", {"note": "Call the spouse"}, "complaint_assigned",
         {"suspended_from": None}),
        ("ops", "handle", {"note": "Apologised, refunded", "receipt_person": "李四",
                           "satisfaction": 4}, "complaint_handled",
         {"receipt_person": "李四", "customer_satisfaction": 4}),
        ("ops", "resolve", {"note": "Done"}, "closed", {}),
        ("supervisor", "reopen", {"reason": "Audit failed"}, "complaint_assigned",
         {"reopen_count": 1}),
    ]),
    "consult_reclassified_to_repair_then_complaint": ("consult", [
        ("agent", "reclassify", {"to_kind": "repair", "reason": "It is a fault"}, "repair_new",
         {"kind": "repair", "department": "dispatch"}),
        ("supervisor", "reclassify", {"to_kind": "complaint", "reason": "Caller is angry"},
         "complaint_new", {"kind": "complaint", "department": "inspection"}),
    ]),
}


def test_the_walks_fire_every_event_of_the_workflow():
    fired = {step[1] for _kind, steps in WALKS.values() for step in steps}
    assert fired == set(EVENTS)


def _resolve(api, value):
    if isinstance(value, str) and value.startswith("dept:"):
        return api.department_id(value[5:])
    if isinstance(value, str) and value.startswith("user:"):
        return api.people[value[5:]].id
    return value


def _repair_customer(api):
    return api.customer(phones=["13800000001"])["id"]


@pytest.mark.parametrize("walk", WALKS)
def test_walk_fires_each_event_through_the_api(api, people, walk):
    kind, steps = WALKS[walk]
    extra = {"customer_id": _repair_customer(api)} if kind == "repair" else {}
    ticket = api.open(kind=kind, **extra)
    for who, event, fields, state, expected in steps:
        before = api.ticket(who, ticket["id"])
        assert event in before["allowed_events"], (who, event, before["state"])
        body = {"event": event, "version": before["version"],
                **{k: _resolve(api, v) for k, v in fields.items()}}
        response = api.post(who, f"/tickets/{ticket['id']}/transitions", body)
        assert response.status_code == 200, (who, event, response.get_json())
        result = response.get_json()
        after, row = result["ticket"], result["history"]
        assert after["state"] == state
        assert after["version"] == before["version"] + 1
        assert (row["event"], row["from_state"], row["to_state"]) == (
            event, before["state"], state)
        assert row["actor"]["username"] == who
        for name, value in expected.items():
            got = after[name]
            if name == "department":
                got = got["code"]
            elif name == "assignee":
                got = got["username"]
            assert got == value, (event, name)
    history = api.get("admin", f"/tickets/{ticket['id']}/history").get_json()
    assert [h["event"] for h in history] == ["open"] + [step[1] for step in steps]
    assert [h["id"] for h in history] == sorted(h["id"] for h in history)


# Steps into each repair sub-state: (who, event, fields), each of which must succeed.
_VERIFY = ("dispatcher", "verify_customer", {})
_CLASSIFY = ("dispatcher", "classify_fault", {"fault_type": "slow_network"})
_ORDER = ("dispatcher", "issue_work_order", {"department_id": "dept:repair"})
_DISPATCH = ("dispatcher", "dispatch", {"department_id": "dept:repair_team_1",
                                        "assignee_id": "user:team1"})
_ACCEPT = ("team1", "accept", {})
_REPAIRED = ("team1", "report_repaired", {"note": "Replaced the amplifier"})
SUB_STATE_PATHS = [
    ([], "repair_new"),
    ([_VERIFY], "repair_verified"),
    ([_CLASSIFY], "repair_classified"),
    ([_VERIFY, _CLASSIFY], "repair_classified"),
    ([_VERIFY, _CLASSIFY, _ORDER], "repair_ordered"),
    ([_VERIFY, _CLASSIFY, _ORDER, _DISPATCH], "repair_dispatched"),
    ([_VERIFY, _CLASSIFY, _ORDER, _DISPATCH, _ACCEPT], "repair_working"),
    ([_VERIFY, _CLASSIFY, _ORDER, _DISPATCH, _ACCEPT, _REPAIRED], "repair_repaired"),
]


@pytest.mark.parametrize("path, sub_state", SUB_STATE_PATHS,
                         ids=[state + ":" + "-".join(s[1] for s in path) for path, state
                              in SUB_STATE_PATHS])
def test_resume_returns_to_the_exact_sub_state_it_left(api, people, path, sub_state):
    # With a customer, so verify_customer (and issue_work_order after it) must succeed.
    ticket = api.open(kind="repair", customer_id=_repair_customer(api))
    for who, event, fields in path:
        response = api.fire(who, ticket["id"], event,
                            **{k: _resolve(api, v) for k, v in fields.items()})
        assert response.status_code == 200, (event, response.get_json())
    assert api.ticket("admin", ticket["id"])["state"] == sub_state
    who = "team1" if sub_state in ("repair_working", "repair_repaired") else "dispatcher"
    suspended = api.fire(who, ticket["id"], "suspend", reason="storm")
    assert suspended.status_code == 200, suspended.get_json()
    assert suspended.get_json()["ticket"]["state"] == "suspended"
    assert suspended.get_json()["ticket"]["suspended_from"] == sub_state
    resumed = api.fire(who, ticket["id"], "resume")
    assert resumed.status_code == 200, resumed.get_json()
    assert resumed.get_json()["ticket"]["state"] == sub_state
    assert resumed.get_json()["ticket"]["suspended_from"] is None


def test_fields_may_also_come_nested_under_fields(api, people):
    ticket = api.open(kind="consult")
    response = api.post("ops", f"/tickets/{ticket['id']}/transitions", {
        "event": "transfer", "version": ticket["version"],
        "fields": {"department_id": api.department_id("inspection")}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ticket"]["department"]["code"] == "inspection"
    replied = api.post("inspector", f"/tickets/{ticket['id']}/transitions", {
        "event": "reply", "version": response.get_json()["ticket"]["version"],
        "fields": {"note": "theirs"}})
    assert replied.status_code == 200, replied.get_json()
    assert replied.get_json()["history"]["note"] == "theirs"


def test_transition_response_shows_the_next_allowed_events_of_the_actor(api, people):
    ticket = api.open(kind="complaint")
    result = api.fire("agent", ticket["id"], "send_to_inspection").get_json()
    assert result["ticket"]["allowed_events"] == ["suspend", "reclassify"]
    inspector_view = api.ticket("inspector", ticket["id"])
    assert inspector_view["allowed_events"] == ["take", "analyse", "suspend"]


# --- refusals: each leaves state, version and history exactly as they were -------------


@pytest.fixture
def repair(api, people):
    """A repair ticket in repair_new with a customer on it."""
    return api.open(kind="repair", customer_id=_repair_customer(api))


def _refused(api, who, ticket, body, status):
    before = api.stored(ticket["id"])
    response = api.post(who, f"/tickets/{ticket['id']}/transitions", body)
    assert response.status_code == status, response.get_json()
    assert api.stored(ticket["id"]) == before
    return response.get_json()


def test_event_not_allowed_in_the_state_is_a_409_naming_state_and_allowed_events(api, repair):
    error = _refused(api, "dispatcher", repair,
                     {"event": "dispatch", "version": repair["version"],
                      "department_id": api.department_id("repair_team_1")}, 409)
    assert error["error"] == "event_not_allowed"
    assert error["state"] == "repair_new"
    assert error["allowed_events"] == ["take", "verify_customer", "classify_fault", "suspend",
                                       "reclassify"]
    assert "repair_new" in error["message"] and "dispatch" in error["message"]
    for name in error["allowed_events"]:
        assert name in error["message"]


def test_state_refusal_comes_before_field_errors(api, repair):
    error = _refused(api, "dispatcher", repair,
                     {"event": "dispatch", "version": repair["version"],
                      "department_id": 999999}, 409)
    assert error["error"] == "event_not_allowed"


def test_closed_ticket_refuses_everything_but_reopen(api, people):
    ticket = api.open(kind="consult")
    assert api.fire("ops", ticket["id"], "terminate", note="done").status_code == 200
    closed = api.ticket("ops", ticket["id"])
    error = _refused(api, "ops", closed, {"event": "terminate", "version": closed["version"],
                                          "note": "again"}, 409)
    assert error["state"] == "closed" and error["allowed_events"] == ["reopen"]


def test_stale_version_is_a_409_with_the_current_version(api, repair):
    fresh = api.fire("dispatcher", repair["id"], "verify_customer").get_json()["ticket"]
    error = _refused(api, "dispatcher2", repair,
                     {"event": "classify_fault", "version": repair["version"],
                      "fault_type": "slow_network"}, 409)
    assert error["error"] == "stale_version"
    assert error["current_version"] == fresh["version"]
    assert error["state"] == "repair_verified"


def test_user_without_the_event_permission_gets_403(api, people, repair):
    assert api.fire("dispatcher", repair["id"], "verify_customer").status_code == 200
    assert api.fire("dispatcher", repair["id"], "classify_fault",
                    fault_type="slow_network").status_code == 200
    ordered = api.fire("dispatcher", repair["id"], "issue_work_order",
                       department_id=api.department_id("repair")).get_json()["ticket"]
    error = _refused(api, "agent", ordered,
                     {"event": "dispatch", "version": ordered["version"],
                      "department_id": api.department_id("repair_team_1")}, 403)
    assert error["error"] == "forbidden"


def test_permission_is_checked_before_the_state(api, repair):
    # An agent may never dispatch: 403 whatever the state, not a 409 inviting a retry.
    error = _refused(api, "agent", repair, {"event": "dispatch", "version": repair["version"],
                                            "department_id": 1}, 403)
    assert error["error"] == "forbidden"


def test_acting_on_a_ticket_of_another_department_is_a_404_as_if_it_did_not_exist(api, people):
    ticket = api.open(kind="consult")  # with operations
    # team1 staff hold the terminate permission, but the ticket is not theirs to see.
    error = _refused(api, "team1", ticket, {"event": "terminate", "version": ticket["version"],
                                            "note": "x"}, 404)
    assert error["error"] == "not_found"


BAD_FIELDS = [
    ({"event": "transfer", "department_id": "abc"}, "department_id"),
    ({"event": "transfer", "department_id": 2.5}, "department_id"),
    ({"event": "transfer", "department_id": True}, "department_id"),
    ({"event": "transfer", "department_id": 999999}, "department_id"),
    ({"event": "transfer", "department_id": 1, "colour": "red"}, "colour"),
    ({"event": "terminate", "note": "x" * 4001}, "note"),
    ({"event": "terminate", "note": ["a list"]}, "note"),
    ({"event": "terminate", "note": "ok", "department_id": 1}, "department_id"),
    ({"event": "terminate", "note": "flat", "fields": {"note": "nested"}}, "note"),
    ({"event": "terminate", "fields": "note"}, "fields"),
    ({"event": "reclassify", "to_kind": "question", "reason": "x"}, "to_kind"),
    ({"event": "explode"}, "event"),
    ({"event": "terminate", "note": "x", "version": None}, "version"),
    ({"event": "terminate", "note": "x", "version": "3"}, "version"),
    ({"event": None}, "event"),
]


def test_bad_event_field_is_a_400_naming_it(api, people):
    ticket = api.open(kind="consult")
    for body, field in BAD_FIELDS:
        error = _refused(api, "admin", ticket, {"version": ticket["version"], **body}, 400)
        assert error["error"] == "invalid_input", body
        assert field in error["fields"], body


def test_missing_event_or_version_is_a_400(api, people):
    ticket = api.open(kind="consult")
    for body, field in (({"event": "terminate", "note": "x"}, "version"),
                        ({"version": ticket["version"]}, "event")):
        error = _refused(api, "admin", ticket, body, 400)
        assert field in error["fields"]


def test_too_long_value_for_a_short_column_is_a_400_not_a_database_error(api, repair):
    assert api.fire("dispatcher", repair["id"], "verify_customer").status_code == 200
    ticket = api.ticket("dispatcher", repair["id"])
    error = _refused(api, "dispatcher", ticket, {"event": "classify_fault",
                                                 "version": ticket["version"],
                                                 "fault_type": "f" * 61}, 400)
    assert "fault_type" in error["fields"]


def test_satisfaction_out_of_range_is_a_400(api, people):
    ticket = api.open(kind="complaint")
    error = _refused(api, "admin", ticket, {"event": "handle", "version": ticket["version"],
                                            "satisfaction": 9}, 400)
    assert "satisfaction" in error["fields"]


def test_missing_required_field_is_refused_by_the_workflow_with_reasons(api, people):
    ticket = api.open(kind="consult")
    error = _refused(api, "ops", ticket, {"event": "transfer", "version": ticket["version"]},
                     409)
    assert error["error"] == "guard_refused"
    assert error["reasons"] and "department" in error["reasons"][0]


def test_guard_refusal_is_a_409_with_reasons(api, people):
    ticket = api.open(kind="repair", caller_phone="13900000002")  # no customer on file
    error = _refused(api, "dispatcher", ticket,
                     {"event": "verify_customer", "version": ticket["version"]}, 409)
    assert error["error"] == "guard_refused" and error["event"] == "verify_customer"
    assert any("customer" in reason for reason in error["reasons"])
    assert error["guards"] == ["has_customer"]
    assert "Link the ticket to a customer" in error["message"]  # translated, not the raw guard


def test_reclassify_to_the_same_kind_is_refused(api, people):
    ticket = api.open(kind="consult")
    error = _refused(api, "agent", ticket, {"event": "reclassify", "version": ticket["version"],
                                            "to_kind": "consult", "reason": "same"}, 409)
    assert error["error"] == "guard_refused"


def test_failure_after_the_flush_rolls_everything_back(api, people, app):
    """A receiver (timers, notifications) that refuses after the state change was flushed:
    the handler rolls back, so neither the state nor the history row survive."""
    ticket = api.open(kind="consult")

    def refuse(sender, **kwargs):
        raise Conflict("timer_clash", "a timer refused")

    with tickets_transitioned.connected_to(refuse):
        error = _refused(api, "ops", ticket, {"event": "terminate", "version": ticket["version"],
                                              "note": "x"}, 409)
    assert error["error"] == "timer_clash"
    assert api.fire("ops", ticket["id"], "terminate", note="x").status_code == 200


def test_write_lost_between_read_and_flush_is_a_409_showing_the_fresh_state(
        api, people, app, monkeypatch):
    """Both requests passed the version check; the database's version column still stops the
    second one (on SQLite and PostgreSQL alike)."""
    ticket = api.open(kind="consult")
    from ticketing.tickets import operations
    real_clean = operations._clean_fields

    def someone_else_writes_first(event, raw):
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE tickets SET version = version + 1, "
                              "state = 'consult_handling' WHERE id = :id"), {"id": ticket["id"]})
        return real_clean(event, raw)

    monkeypatch.setattr(operations, "_clean_fields", someone_else_writes_first)
    before = api.stored(ticket["id"])
    response = api.post("ops", f"/tickets/{ticket['id']}/transitions",
                        {"event": "terminate", "version": before["version"], "note": "x"})
    assert response.status_code == 409, response.get_json()
    error = response.get_json()
    assert error["error"] == "stale_version"
    assert error["current_version"] == before["version"] + 1
    assert error["state"] == "consult_handling"
    assert api.stored(ticket["id"])["history"] == before["history"]


# --- history is append-only --------------------------------------------------------------


def test_history_cannot_be_changed_through_the_api(api, people):
    ticket = api.open(kind="consult")
    before = api.stored(ticket["id"])
    admin = people["admin"].headers
    path = f"/api/v1/tickets/{ticket['id']}/history"
    for method in ("put", "patch", "delete", "post"):
        response = getattr(api.client, method)(path, json={"note": "rewritten"}, headers=admin)
        assert response.status_code == 405, method
        assert response.get_json()["error"] == "method_not_allowed"
    history = api.get("admin", f"/tickets/{ticket['id']}/history").get_json()
    row_path = f"{path}/{history[0]['id']}"
    for method in ("get", "put", "patch", "delete"):
        assert getattr(api.client, method)(row_path, headers=admin).status_code == 404
    assert api.stored(ticket["id"]) == before


def test_a_ticket_is_changed_only_through_transitions(api, people):
    ticket = api.open(kind="consult")
    before = api.stored(ticket["id"])
    for method in ("put", "patch", "delete"):
        response = getattr(api.client, method)(f"/api/v1/tickets/{ticket['id']}",
                                               json={"state": "closed"},
                                               headers=people["admin"].headers)
        assert response.status_code == 405, method
    assert api.stored(ticket["id"]) == before


def test_history_rows_record_actor_note_and_fields(api, people):
    ticket = api.open(kind="consult", description="Asks about fees")
    inspection = api.department_id("inspection")
    assert api.fire("ops", ticket["id"], "transfer", department_id=inspection).status_code == 200
    assert api.fire("inspector", ticket["id"], "reply", note="Fees are fixed").status_code == 200
    history = api.get("admin", f"/tickets/{ticket['id']}/history").get_json()
    opened, transfer, reply = history
    assert opened["actor"]["username"] == "agent" and opened["note"] == "Asks about fees"
    assert transfer["actor"] == {"id": people["ops"].id, "username": "ops",
                                 "full_name": "Ops Person"}
    assert transfer["data"] == {"department_id": inspection}
    assert (reply["note"], reply["data"]) == ("Fees are fixed", {})
    assert opened["at"] <= transfer["at"] <= reply["at"]


def test_verifying_a_customer_again_records_the_new_time(api, people):
    """verify_customer is allowed again once the fault is classified; its "now" replaces
    the earlier time (it used to fail with a 500: every effect's value was computed, and
    "increment" cannot add to a time)."""
    ticket = api.open(kind="repair", customer_id=_repair_customer(api))
    for event, fields in (("verify_customer", {}), ("classify_fault", {"fault_type": "no_signal"}),
                          ("verify_customer", {})):
        response = api.fire("dispatcher", ticket["id"], event, **fields)
        assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["history"]["event"] == "verify_customer"
    assert result["ticket"]["state"] == "repair_classified"
