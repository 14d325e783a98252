"""POST /api/v1/tickets: a call becomes a ticket; bad input is a 400 listing the fields."""


def test_open_ticket_returns_201_with_the_new_ticket(api, people):
    response = api.post("agent", "/tickets", {
        "kind": "repair", "caller_phone": "139-0000 0000", "caller_name": "王五",
        "channel": "web", "category": "signal", "title": "No picture",
        "description": "The TV shows no signal since this morning"})
    assert response.status_code == 201, response.get_json()
    ticket = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/tickets/{ticket['id']}")
    assert ticket["number"].startswith("GD") and ticket["kind"] == "repair"
    assert ticket["state"] == "repair_new" and ticket["status"] == "pending"
    assert isinstance(ticket["version"], int) and ticket["priority"] == "normal"
    assert ticket["caller_phone"] == "13900000000" and ticket["channel"] == "web"
    assert ticket["department"]["code"] == "dispatch"
    assert ticket["created_by"]["username"] == "agent" and ticket["assignee"] is None
    assert "reclassify" in ticket["allowed_events"]
    history = api.get("agent", f"/tickets/{ticket['id']}/history").get_json()
    assert [(h["event"], h["from_state"], h["to_state"]) for h in history] == [
        ("open", None, "repair_new")]


def test_each_kind_starts_in_its_new_state_at_its_first_department(api):
    expected = {"consult": "operations", "repair": "dispatch", "complaint": "inspection"}
    for kind, department in expected.items():
        ticket = api.open(kind=kind)
        assert (ticket["state"], ticket["department"]["code"]) == (f"{kind}_new", department)


def test_vip_customer_bumps_priority_to_high(api):
    vip = api.customer(tier="vip", phones=["13800000009"])
    ticket = api.open(kind="repair", customer_id=vip["id"], caller_phone="", priority="low")
    assert ticket["priority"] == "high"
    assert ticket["customer"] == {"id": vip["id"], "name": "张三",
                                  "account_no": vip["account_no"], "tier": "vip"}
    assert ticket["caller_phone"] == "13800000009"  # taken from the customer record
    urgent = api.open(kind="repair", customer_id=vip["id"], priority="urgent")
    assert urgent["priority"] == "urgent"  # never lowered


def test_ordinary_customer_keeps_the_priority_given(api):
    customer = api.customer(tier="ordinary", phones=["13800000010"])
    assert api.open(customer_id=customer["id"], priority="low")["priority"] == "low"


MALFORMED = [
    ({}, {"kind", "description"}),
    ({"kind": "question", "description": "x", "caller_phone": "13900000000"}, {"kind"}),
    ({"kind": "consult", "description": "x", "caller_phone": "13900000000",
      "priority": "asap", "channel": "pigeon"}, {"priority", "channel"}),
    ({"kind": "consult", "description": "x", "customer_id": "7"}, {"customer_id"}),
    ({"kind": "consult", "description": "x", "customer_id": True}, {"customer_id"}),
    ({"kind": "consult", "description": 5, "caller_phone": "13900000000"}, {"description"}),
    ({"kind": "consult", "description": "x", "caller_phone": "13900000000",
      "colour": "red"}, {"colour"}),
    ({"kind": "consult", "description": "x" * 4001, "caller_phone": "13900000000"},
     {"description"}),
    ({"kind": "consult", "description": "x", "caller_phone": "1" * 31}, {"caller_phone"}),
    ({"kind": "consult", "description": "x", "caller_phone": "13900000000",
      "title": "t" * 201}, {"title"}),
]


def test_malformed_ticket_is_a_400_naming_the_fields(api, people):
    for body, bad_fields in MALFORMED:
        response = api.post("agent", "/tickets", body)
        assert response.status_code == 400, body
        error = response.get_json()
        assert error["error"] == "invalid_input" and error["message"]
        assert set(error["fields"]) == bad_fields, body


NO_REAL_CALLER = [
    ({"kind": "consult", "description": "x"}, "customer_id"),
    ({"kind": "consult", "description": "x", "customer_id": 999999}, "customer_id"),
    ({"kind": "consult", "description": "x", "caller_phone": "call me"}, "caller_phone"),
    ({"kind": "consult", "description": "   ", "caller_phone": "13900000000"}, "description"),
]


def test_ticket_without_a_real_caller_or_description_is_a_400_and_not_stored(api, people):
    for body, bad_field in NO_REAL_CALLER:
        response = api.post("agent", "/tickets", body)
        assert response.status_code == 400, body
        assert bad_field in response.get_json()["fields"], body
    assert api.get("agent", "/tickets").get_json()["items"] == []


def test_opening_needs_a_token(client):
    response = client.post("/api/v1/tickets", json={"kind": "consult", "description": "x",
                                                    "caller_phone": "13900000000"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"


def test_opening_needs_the_create_permission(api):
    response = api.post("team1", "/tickets", {"kind": "consult", "description": "x",
                                              "caller_phone": "13900000000"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_body_over_the_size_limit_is_refused(api, people):
    response = api.post("agent", "/tickets", {"kind": "consult", "caller_phone": "139000000",
                                              "description": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"


def test_non_json_body_is_a_400_not_a_500(api, people):
    response = api.client.post("/api/v1/tickets", data="kind=consult",
                               headers={**people["agent"].headers,
                                        "Content-Type": "application/json"})
    assert response.status_code == 400
