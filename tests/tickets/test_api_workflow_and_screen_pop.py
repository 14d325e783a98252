"""The workflow as data, the OpenAPI document, and the phone system's screen pop."""
from datetime import timedelta

import pytest

from ticketing import clock
from workflows.tickets import EVENTS, LEAVES


def test_workflow_lists_the_five_top_level_states_with_labels(api, people):
    response = api.get("agent", "/workflows")
    assert response.status_code == 200
    workflow = response.get_json()
    assert [s["name"] for s in workflow["states"]] == [
        "consult", "repair", "complaint", "suspended", "closed"]
    repair = workflow["states"][1]
    assert repair["label"] == "Repair"
    assert {"name": "working", "state": "repair_working",
            "label": "Repair: team working"} in repair["children"]
    assert set(workflow["leaves"]) == set(LEAVES)
    assert [e["name"] for e in workflow["events"]] == list(EVENTS)
    dispatch = next(e for e in workflow["events"] if e["name"] == "dispatch")
    assert dispatch["label"] == "Dispatch field team"
    assert dispatch["permission"] == "tickets.dispatch"
    assert {"source": "repair_ordered", "dest": "repair_dispatched"} in dispatch["transitions"]
    assert dispatch["fields"]["department_id"]["label"] == "Department"
    assert workflow["labels"]["statuses"]["pending"] == "Pending"
    assert workflow["display_status"]["closed"] == "processed"


def test_workflow_labels_follow_the_users_language(api, as_role):
    _user, headers = as_role("agent", "call_center", username="zh_agent", locale="zh")
    workflow = api.get(headers, "/workflows").get_json()
    # Whatever the catalogue holds, the labels are the translated strings of labels.py.
    from ticketing.tickets.labels import STATE_LABELS
    from flask_babel import force_locale
    with api.app.test_request_context(), force_locale("zh"):
        assert workflow["states"][4]["label"] == str(STATE_LABELS["closed"])


def test_workflow_needs_a_login(client):
    assert client.get("/api/v1/workflows").status_code == 401


def test_openapi_document_lists_the_ticket_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"/api/v1/tickets", "/api/v1/tickets/{ticket_id}",
            "/api/v1/tickets/{ticket_id}/transitions", "/api/v1/tickets/{ticket_id}/history",
            "/api/v1/workflows", "/api/v1/screen-pop"} <= set(paths)
    methods = {path: set(paths[path]) - {"parameters"} for path in paths}
    assert methods["/api/v1/tickets"] == {"get", "post"}
    assert methods["/api/v1/tickets/{ticket_id}"] == {"get"}
    assert methods["/api/v1/tickets/{ticket_id}/history"] == {"get"}
    transitions = paths["/api/v1/tickets/{ticket_id}/transitions"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(transitions["responses"])
    schemas = spec["components"]["schemas"]
    assert schemas["Transition"]["properties"]["event"]["enum"] == list(EVENTS)
    assert {"event", "version"} <= set(schemas["Transition"]["required"])


# --- screen pop (SPEC §7) ------------------------------------------------------------------


def test_screen_pop_returns_customers_open_tickets_and_repeat_flag(api, people):
    customer = api.customer(phones=["13800000001", "0755-1234567"])
    by_customer = api.open(kind="repair", customer_id=customer["id"], caller_phone="")
    by_phone = api.open(kind="consult", caller_phone="138 0000 0001")
    done = api.open(kind="consult", caller_phone="13800000001")
    assert api.fire("ops", done["id"], "terminate", note="answered").status_code == 200
    response = api.post("agent", "/screen-pop", {"phone": "+8613800000001"})
    assert response.status_code == 200
    # The country code is read off: +86 13800000001 is the stored 13800000001.
    assert [c["id"] for c in response.get_json()["customers"]] == [customer["id"]]
    pop = api.post("agent", "/screen-pop", {"phone": "138-0000-0001"}).get_json()
    assert pop["phone"] == "13800000001"
    assert [c["id"] for c in pop["customers"]] == [customer["id"]]
    assert pop["customers"][0]["phones"] == ["13800000001", "07551234567"]
    open_numbers = {t["number"] for t in pop["open_tickets"]}
    assert open_numbers == {by_customer["number"], by_phone["number"]}
    assert pop["repeat_caller"] is True


def test_customer_reached_on_another_number_shows_their_open_tickets(api, people):
    customer = api.customer(phones=["13800000001", "075512345678"])
    ticket = api.open(kind="repair", customer_id=customer["id"], caller_phone="13800000001")
    pop = api.post("agent", "/screen-pop", {"phone": "075512345678"}).get_json()
    assert [t["number"] for t in pop["open_tickets"]] == [ticket["number"]]
    assert pop["repeat_caller"] is False  # that number itself opened nothing


def test_repeat_caller_only_within_the_configured_window(api, app, people):
    people["agent"]
    window = app.config["REPEAT_CALLER_WINDOW_HOURS"]
    now = clock.utcnow()
    clock.freeze(now - timedelta(hours=window, minutes=1))
    api.open(caller_phone="13700000001")
    clock.freeze(now)
    assert api.post("agent", "/screen-pop",
                    {"phone": "13700000001"}).get_json()["repeat_caller"] is False
    clock.freeze(now - timedelta(hours=window - 1))
    api.open(caller_phone="13700000001")
    clock.freeze(now)
    assert api.post("agent", "/screen-pop",
                    {"phone": "13700000001"}).get_json()["repeat_caller"] is True


@pytest.mark.parametrize("app_config", [{"REPEAT_CALLER_WINDOW_HOURS": 1}])
def test_repeat_caller_window_comes_from_the_configuration(api, people, app_config):
    people["agent"]
    now = clock.utcnow()
    clock.freeze(now - timedelta(hours=2))
    api.open(caller_phone="13700000002")
    clock.freeze(now)
    assert api.post("agent", "/screen-pop",
                    {"phone": "13700000002"}).get_json()["repeat_caller"] is False


def test_unknown_caller_gets_an_empty_screen_pop(api, people):
    pop = api.post("agent", "/screen-pop", {"phone": "13600000000"}).get_json()
    assert isinstance(pop.pop("call_id"), int)  # the call is recorded
    assert pop == {"phone": "13600000000", "customers": [], "open_tickets": [],
                   "previous_calls": [], "repeat_caller": False, "open_incidents": []}


def test_screen_pop_shows_only_tickets_the_user_may_see(api, people):
    api.open(kind="consult", caller_phone="13500000000")  # with operations
    pop = api.post("team2", "/screen-pop", {"phone": "13500000000"}).get_json()
    assert pop["open_tickets"] == [] and pop["repeat_caller"] is True


def test_bad_screen_pop_request_is_a_400(api, people):
    for body, field in (({}, "phone"), ({"phone": "not a number"}, "phone"),
                        ({"phone": ""}, "phone"), ({"phone": 13800000001}, "phone"),
                        ({"phone": "1" * 31}, "phone"),
                        ({"phone": "13800000001", "extension": "12"}, "extension")):
        response = api.post("agent", "/screen-pop", body)
        assert response.status_code == 400, body
        assert list(response.get_json()["fields"]) == [field], body


def test_screen_pop_needs_a_token(client):
    assert client.post("/api/v1/screen-pop", json={"phone": "13800000001"}).status_code == 401
