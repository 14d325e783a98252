"""Bad bodies on the API are refused in the one JSON error shape, never with a 500: over the
size limit 413, malformed JSON 400, a body that is not JSON 400/415."""
import pytest

PASSWORD = "correct-horse-9"

# Every API endpoint that takes a JSON body (the token endpoint needs no login).
WRITES = [("POST", "/api/v1/tokens"), ("POST", "/api/v1/customers"),
          ("PATCH", "/api/v1/customers/{customer_id}"), ("POST", "/api/v1/tickets"),
          ("POST", "/api/v1/tickets/{ticket_id}/transitions"), ("POST", "/api/v1/screen-pop"),
          ("POST", "/api/v1/notifications/read"), ("POST", "/api/v1/incidents"),
          ("PATCH", "/api/v1/incidents/{incident_id}"),
          ("POST", "/api/v1/incidents/{incident_id}/links"),
          ("POST", "/api/v1/incidents/{incident_id}/links/{ticket_id}/review"),
          ("POST", "/api/v1/incidents/{incident_id}/clear"),
          ("POST", "/api/v1/incidents/{incident_id}/release"),
          ("PUT", "/api/v1/audit-rules"), ("POST", "/api/v1/audits/{audit_id}/decision"),
          ("POST", "/api/v1/tickets/{ticket_id}/liability"),
          ("POST", "/api/v1/tickets/{ticket_id}/liability/appeal"),
          ("POST", "/api/v1/tickets/{ticket_id}/liability/ruling"),
          ("POST", "/api/v1/announcements"),
          ("PATCH", "/api/v1/announcements/{announcement_id}"),
          *(("POST", f"/api/v1/announcements/{{announcement_id}}/{action}")
            for action in ("schedule", "publish", "cancel", "withdraw", "archive"))]


@pytest.fixture
def target(app, as_role):
    from sqlalchemy import select

    from ticketing.audits.models import Audit
    from ticketing.customers.operations import create_customer
    from ticketing.extensions import db
    from ticketing.incidents.operations import open_incident
    from ticketing.tickets.operations import fire_event, open_ticket
    _user, headers = as_role("admin", "management")
    with app.app_context():
        customer = create_customer(None, {"account_no": "KH1", "name": "王芳",
                                          "phones": ["13800138000"]})
        ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                             description="坏输入")
        incident = open_incident(None, {"name": "光缆中断", "areas": ["东城区"],
                                        "fault_category": "fibre_cable"})
        complaint = open_ticket(None, kind="complaint", caller_phone="13800138000",
                                description="坏输入")
        fire_event(None, complaint, "suspend", {"reason": "等待"})
        fire_event(None, complaint, "close", {"note": "结束"})
        from ticketing.announcements.operations import create_announcement
        announcement = create_announcement(None, {"title": "坏输入", "body": "正文"})
        db.session.commit()
        audit_id = db.session.scalar(select(Audit.id).where(Audit.ticket_id == complaint.id))
        ids = {"customer_id": customer.id, "ticket_id": ticket.id, "incident_id": incident.id,
               "audit_id": audit_id, "announcement_id": announcement.id}
    return headers, ids


def _json_error(response, statuses):
    assert response.status_code in statuses, (response.status_code, response.get_data(True))
    body = response.get_json()
    assert body is not None and set(body) >= {"error", "message"}, response.get_data(True)


BAD_JSON = ['{"kind": ', "[1, 2", "not json", "{'a': 1}", '{"kind": NaN}', "null", "[]",
            '"text"', "12", "true"]
NOT_JSON = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "application/xml", None]


@pytest.mark.parametrize("method,path", WRITES)
def test_bad_bodies_are_refused_in_the_error_shape_never_with_a_500(app, client, target,
                                                                    method, path):
    headers, ids = target
    url = path.format(**ids)
    limit = app.config["MAX_CONTENT_LENGTH"]
    oversized = client.open(url, method=method, headers=headers,
                            data='{"x": "' + "x" * limit + '"}', content_type="application/json")
    _json_error(oversized, {413})
    for body in BAD_JSON:
        response = client.open(url, method=method, headers=headers, data=body,
                               content_type="application/json")
        _json_error(response, {400})
    for content_type in NOT_JSON:
        kwargs = {"content_type": content_type} if content_type else {}
        response = client.open(url, method=method, headers=headers,
                               data='{"phone": "13800138000"}', **kwargs)
        _json_error(response, {400, 415})


def test_a_form_body_does_not_mark_every_notification_read(app, client, target):
    """It used to be read as an empty JSON object: "no ids" means all of them."""
    headers, _ids = target
    response = client.post("/api/v1/notifications/read", headers=headers, data={"ids": "1"})
    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_media_type"


def test_an_empty_post_without_a_body_is_still_json_free(client, target):
    """Marking all read needs no body at all; that stays allowed."""
    headers, _ids = target
    response = client.post("/api/v1/notifications/read", headers=headers)
    assert response.status_code in (200, 400), response.get_data(True)
    assert response.status_code != 415


def test_ids_and_versions_beyond_the_database_integer_are_refused_not_a_500(client, target):
    """Found by schemathesis: a huge id reached the driver (OverflowError / DataError)."""
    headers, ids = target
    huge = 2 ** 63
    for path in (f"/api/v1/tickets/{huge}", f"/api/v1/customers/{huge}",
                 f"/api/v1/tickets/{huge}/clocks", f"/api/v1/customers/{huge}/history"):
        response = client.get(path, headers=headers)
        _json_error(response, {404})
    for method, path, body in [
            ("PATCH", f"/api/v1/customers/{ids['customer_id']}", {"version": huge}),
            ("POST", "/api/v1/notifications/read", {"ids": [huge]}),
            ("POST", f"/api/v1/tickets/{ids['ticket_id']}/transitions",
             {"event": "suspend", "version": huge, "fields": {"reason": "x"}}),
            ("POST", "/api/v1/tickets", {"kind": "consult", "customer_id": huge,
                                         "description": "x"})]:
        _json_error(client.open(path, method=method, json=body, headers=headers), {400})
    for query in (f"department_id={huge}", f"customer_id={huge}", f"assignee_id={huge}"):
        _json_error(client.get(f"/api/v1/tickets?{query}", headers=headers), {400})
    _json_error(client.get(f"/api/v1/notifications?before_id={huge}", headers=headers), {400})
    _json_error(client.get(f"/api/v1/customers?after_id={huge}", headers=headers), {400})


def test_a_huge_id_in_a_page_url_is_a_404(client, make_user):
    user = make_user("admin", "management")
    client.post("/login", data={"username": user.username, "password": "correct-horse-9"})
    for path in (f"/tickets/{2 ** 63}", f"/customers/{2 ** 63}", f"/sla/calendars/{2 ** 63}",
                 f"/sla/policies/{2 ** 63}/edit"):
        assert client.get(path).status_code == 404, path
