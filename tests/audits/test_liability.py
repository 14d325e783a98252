"""Complaint liability (责任定性) and its one appeal (申诉): a supervisor rules, the responsible
department appeals once, a second supervisor (never the first) rules on the appeal; refused
cases answer 400/409 with the reason and change nothing."""
from sqlalchemy import select

from ticketing.extensions import db


def _liability_rows(app):
    from ticketing.audits.models import ComplaintLiability
    with app.app_context():
        rows = [(r.id, r.justified, r.department_id, r.appealed_at, r.ruled_at, r.version)
                for r in db.session.scalars(select(ComplaintLiability)).unique()]
        db.session.remove()
    return rows


def test_the_appeal_flow_with_its_refusals(desk, sh, client, as_role, make_user, app):
    first, first_headers = as_role("supervisor", "supervision")
    second, second_headers = as_role("supervisor", "supervision")
    staff, staff_headers = as_role("staff", "operations")
    # Holds every permission and sees every ticket, but is not of the responsible department.
    _outsider, outsider_headers = as_role("admin", "management")
    person = make_user("staff", "operations")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    operations = desk.department_id("operations")
    base = f"/api/v1/tickets/{ticket}/liability"

    # Nothing to appeal or rule on yet.
    early = client.post(base + "/appeal", headers=staff_headers, json={"reason": "不服"})
    assert early.status_code == 409 and early.get_json()["error"] == "no_liability"

    response = client.post(base, headers=first_headers, json={
        "justified": True, "department_id": operations, "person_id": person.id,
        "note": "服务态度差属实"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "recorded" and body["reviewer"]["id"] == first.id
    assert body["department"]["id"] == operations and body["person"]["id"] == person.id

    # Someone outside the responsible department may not appeal.
    before = _liability_rows(app)
    outside = client.post(base + "/appeal", headers=outsider_headers, json={"reason": "不服"})
    assert outside.status_code == 403 and _liability_rows(app) == before
    # A ruling before any appeal is refused.
    no_appeal = client.post(base + "/ruling", headers=second_headers, json={"upheld": True})
    assert no_appeal.status_code == 409 and no_appeal.get_json()["error"] == "no_appeal"
    stale = client.post(base + "/appeal", headers=staff_headers,
                        json={"reason": "不服", "version": body["version"] + 1})
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    assert _liability_rows(app) == before

    appealed = client.post(base + "/appeal", headers=staff_headers,
                           json={"reason": "客户无理取闹，有录音为证", "version": body["version"]})
    assert appealed.status_code == 200, appealed.get_json()
    assert appealed.get_json()["status"] == "appealed"
    assert appealed.get_json()["appealed_by"]["id"] == staff.id

    before = _liability_rows(app)
    second_appeal = client.post(base + "/appeal", headers=staff_headers, json={"reason": "再申诉"})
    assert second_appeal.status_code == 409 and second_appeal.get_json()["error"] == "appealed"
    correction = client.post(base, headers=first_headers, json={"justified": False})
    assert correction.status_code == 409 and correction.get_json()["error"] == "appealed"
    own = client.post(base + "/ruling", headers=first_headers, json={"upheld": True})
    assert own.status_code == 409 and own.get_json()["error"] == "same_reviewer"
    assert "second" in own.get_json()["message"]
    assert _liability_rows(app) == before

    ruled = client.post(base + "/ruling", headers=second_headers,
                        json={"upheld": False, "note": "录音证明客户诉求不实"})
    assert ruled.status_code == 200, ruled.get_json()
    assert ruled.get_json()["status"] == "overturned"
    assert ruled.get_json()["ruled_by"]["id"] == second.id
    again = client.post(base + "/ruling", headers=second_headers, json={"upheld": True})
    assert again.status_code == 409 and again.get_json()["error"] == "ruled"

    # The audit shows the liability beside the steps.
    [audit] = desk.audits(ticket)
    detail = client.get(f"/api/v1/audits/{audit.id}", headers=first_headers).get_json()
    assert detail["liability"]["status"] == "overturned"
    assert detail["liability"]["appeal_reason"] == "客户无理取闹，有录音为证"


def test_bad_liability_input_is_refused_and_changes_nothing(desk, sh, client, as_role,
                                                           make_user, app):
    _user, headers = as_role("supervisor", "supervision")
    _admin, admin_headers = as_role("admin", "management")
    desk.at(sh(2026, 3, 2, 10, 0))
    consult, complaint = desk.open("consult"), desk.open("complaint")
    operations = desk.department_id("operations")
    outsider = make_user("agent", "call_center")
    cases = [
        (consult, {"justified": True, "department_id": operations}, 409, "not_a_complaint"),
        (complaint, {"justified": True}, 400, "invalid_input"),
        (complaint, {"justified": False, "department_id": operations}, 400, "invalid_input"),
        (complaint, {"justified": True, "department_id": 99999}, 400, "invalid_input"),
        (complaint, {"justified": True, "department_id": operations,
                     "person_id": outsider.id}, 400, "invalid_input"),
        (complaint, {"justified": True, "department_id": operations, "version": 4}, 409,
         "stale_version"),
        (complaint, {"justified": "maybe"}, 400, "invalid_input"),
    ]
    for ticket, body, status, code in cases:
        response = client.post(f"/api/v1/tickets/{ticket}/liability", headers=headers,
                               json=body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"] == code
        assert _liability_rows(app) == []
    assert client.post("/api/v1/tickets/99999/liability", headers=headers,
                       json={"justified": False}).status_code == 404
    # Unjustified: nobody is responsible, so there is nothing to appeal.
    assert client.post(f"/api/v1/tickets/{complaint}/liability", headers=headers,
                       json={"justified": False, "note": "客户误会"}).status_code == 200
    refused = client.post(f"/api/v1/tickets/{complaint}/liability/appeal",
                          headers=admin_headers, json={"reason": "不服"})
    assert refused.status_code == 409 and refused.get_json()["error"] == "not_justified"
    blank = client.post(f"/api/v1/tickets/{complaint}/liability/appeal",
                        headers=admin_headers, json={"reason": "   "})
    assert blank.status_code == 400


def test_the_database_refuses_a_ruling_by_the_first_reviewer(desk, sh, app, make_user):
    """The rule is a CHECK constraint too, not only Python."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from ticketing.audits.models import ComplaintLiability
    from ticketing.clock import utcnow
    reviewer = make_user("supervisor", "supervision")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    with app.app_context():
        now = utcnow()
        db.session.add(ComplaintLiability(
            ticket_id=ticket, justified=False, reviewer_id=reviewer.id, recorded_at=now,
            appeal_reason="x", appealed_at=now, upheld=True, ruled_by_id=reviewer.id,
            ruled_at=now))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
