"""The refusals of the audit and liability endpoints are the ones the OpenAPI document
describes (schemathesis rarely reaches a finished audit or a pending appeal)."""
import pytest

jsonschema_rs = pytest.importorskip("jsonschema_rs")


def _schema(client, path: str, method: str, status: str) -> dict:
    spec = client.get("/api/v1/openapi.json").get_json()
    answer = spec["paths"][path][method]["responses"][status]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return {**spec["components"]["schemas"][ref], "components": spec["components"]}


def test_every_audit_and_liability_refusal_matches_its_documented_schema(desk, sh, client,
                                                                         as_role):
    _first, first_headers = as_role("supervisor", "supervision")
    _staff, staff_headers = as_role("staff", "operations")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    [audit] = desk.audits(ticket)
    decision = f"/api/v1/audits/{audit.id}/decision"
    liability = f"/api/v1/tickets/{ticket}/liability"
    client.post(decision, headers=first_headers, json={"decision": "pass"})
    client.post(liability, headers=first_headers,
                json={"justified": True, "department_id": desk.department_id("operations")})
    client.post(liability + "/appeal", headers=staff_headers, json={"reason": "不服"})
    answers = [
        ("/api/v1/audits/{audit_id}/decision", "409",
         client.post(decision, headers=first_headers, json={"decision": "reject", "reason": "x"})),
        ("/api/v1/audits/{audit_id}/decision", "400",
         client.post(decision, headers=first_headers, json={"decision": "maybe"})),
        ("/api/v1/tickets/{ticket_id}/liability", "409",
         client.post(liability, headers=first_headers, json={"justified": False})),
        ("/api/v1/tickets/{ticket_id}/liability/appeal", "409",
         client.post(liability + "/appeal", headers=staff_headers, json={"reason": "再申诉"})),
        ("/api/v1/tickets/{ticket_id}/liability/ruling", "409",
         client.post(liability + "/ruling", headers=first_headers, json={"upheld": True})),
        ("/api/v1/tickets/{ticket_id}/liability/appeal", "409",
         client.post(liability + "/appeal", headers=staff_headers,
                     json={"reason": "x", "version": 99})),
    ]
    codes = set()
    for path, status, response in answers:
        assert str(response.status_code) == status, response.get_json()
        jsonschema_rs.validate(_schema(client, path, "post", status), response.get_json())
        codes.add(response.get_json()["error"])
    assert codes == {"audit_done", "invalid_input", "appealed", "same_reviewer",
                     "stale_version"}
