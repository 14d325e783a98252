"""User-entered text is escaped on every page that shows it: a `<script>` stored in every text
field (customer, ticket, event fields, SLA policy and calendar names) never comes back raw."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ticketing import clock
from ticketing.extensions import db

PASSWORD = "correct-horse-9"
XSS = "<script>alert(1)</script>"
RAW = "<script>alert(1)"


def _tag(label):
    """Each field gets its own marker so a failure says which one leaked."""
    return f"{label}{XSS}"


@pytest.fixture
def admin(app, make_user):
    user = make_user("admin", "management", username="boss")
    client = app.test_client()
    assert client.post("/login", data={"username": "boss",
                                       "password": PASSWORD}).status_code == 302
    token = client.post("/api/v1/tokens", json={"username": "boss", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    return user, client, headers


def _dept(app, code):
    from ticketing.auth.models import Department
    with app.app_context():
        return db.session.scalar(select(Department.id).where(Department.code == code))


def _walk(client, headers, ticket_id, steps):
    for event, fields in steps:
        version = client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).get_json()["version"]
        response = client.post(f"/api/v1/tickets/{ticket_id}/transitions", headers=headers,
                               json={"event": event, "version": version, "fields": fields})
        assert response.status_code == 200, (event, response.get_json())


def test_script_in_every_text_field_is_escaped_on_every_page(app, admin, make_user):
    user, client, headers = admin
    ops_id, team_id = _dept(app, "operations"), _dept(app, "repair_team_1")
    worker = make_user("staff", "repair_team_1", username="fixer")
    customer = client.post("/api/v1/customers", headers=headers, json={
        "account_no": "KH-XSS", "name": _tag("cname"), "address": _tag("caddr"),
        "area": _tag("carea"), "notes": _tag("cnotes"), "phones": ["13800138000"]})
    assert customer.status_code == 201, customer.get_json()
    customer_id = customer.get_json()["id"]

    def open_ticket(kind, **extra):
        response = client.post("/api/v1/tickets", headers=headers, json={
            "kind": kind, "customer_id": customer_id, "caller_phone": "13800138000",
            "caller_name": _tag(f"{kind}-caller"), "category": _tag(f"{kind}-cat"),
            "title": _tag(f"{kind}-title"), "description": _tag(f"{kind}-desc"), **extra})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    # A fault type is chosen from the categories: the text a person types is its name.
    from ticketing.faults.operations import save_category
    with app.app_context():
        save_category(None, code="xss_fault", name=_tag("fault"), name_en=_tag("fault"),
                      active=True, mass_fault=False, sort_order=None)
        db.session.commit()
    repair = open_ticket("repair")
    _walk(client, headers, repair, [
        ("verify_customer", {}), ("classify_fault", {"fault_type": "xss_fault"}),
        ("issue_work_order", {"department_id": team_id}),
        ("dispatch", {"department_id": team_id, "assignee_id": worker.id}),
        ("accept", {}), ("report_repaired", {"note": _tag("repaired")}),
        ("resolve", {"note": _tag("resolved")}), ("reopen", {"reason": _tag("reopen")}),
        ("suspend", {"reason": _tag("suspend")}), ("reject_suspension", {"note": _tag("rej")}),
        ("suspend", {"reason": _tag("suspend")}),
        ("approve_suspension", {"note": _tag("approve")})])
    mass_fault = open_ticket("repair")
    _walk(client, headers, mass_fault, [("classify_fault", {"fault_type": "power_cut"}),
                                        ("link_incident", {"incident_ref": _tag("incident")})])
    complaint = open_ticket("complaint")
    _walk(client, headers, complaint, [
        ("send_to_inspection", {}), ("analyse", {"note": _tag("analyse")}),
        ("assign", {"department_id": ops_id}),
        ("handle", {"note": _tag("handle"), "receipt_person": _tag("receipt"),
                    "satisfaction": 3})])
    consult = open_ticket("consult")
    _walk(client, headers, consult, [
        ("transfer", {"department_id": ops_id}), ("reply", {"note": _tag("reply")}),
        ("relay", {"note": _tag("relay")})])
    other = open_ticket("consult")
    _walk(client, headers, other, [("reclassify", {"to_kind": "repair",
                                                   "reason": _tag("reclassify")}),
                                   ("suspend", {"reason": "等待"}),
                                   ("close", {"note": _tag("close")})])
    third = open_ticket("consult")
    _walk(client, headers, third, [("terminate", {"note": _tag("terminate")})])
    waiting = open_ticket("complaint")  # stays open, so the clocks escalate

    # SLA policy and calendar names, a calendar day's note: through the admin pages.
    from ticketing.timers.models import Calendar, SlaPolicy
    with app.app_context():
        policy_id = db.session.scalar(select(func.min(SlaPolicy.id)))
        calendar_id = db.session.scalar(select(func.min(Calendar.id)))
    page = client.get(f"/sla/calendars/{calendar_id}")
    assert page.status_code == 200
    saved = client.post(f"/sla/calendars/{calendar_id}", data={
        "name": _tag("calendar"), "timezone": "Asia/Shanghai", "day0": "09:00-18:00",
        "day1": "09:00-18:00", "day2": "09:00-18:00", "day3": "09:00-18:00",
        "day4": "09:00-18:00", "day5": "", "day6": ""})
    assert saved.status_code == 302
    assert client.post(f"/sla/calendars/{calendar_id}/days", data={
        "day": "2031-05-06", "kind": "holiday", "note": _tag("daynote")}).status_code == 302
    with app.app_context():
        policy = db.session.get(SlaPolicy, policy_id)
        form = {"name": _tag("policy"), "kind": policy.kind or "",
                "priority": policy.priority or "", "customer_tier": policy.customer_tier or "",
                "response_minutes": str(policy.response_minutes),
                "resolution_minutes": str(policy.resolution_minutes),
                "complaint_limit_minutes": str(policy.complaint_limit_minutes or ""),
                "warn_before_minutes": str(policy.warn_before_minutes),
                "level2_after_minutes": str(policy.level2_after_minutes),
                "level3_after_minutes": str(policy.level3_after_minutes),
                "calendar_id": str(calendar_id), "active": "y"}
    assert client.post(f"/sla/policies/{policy_id}/edit", data=form).status_code == 302

    # Let every clock run out, so escalations and notifications show the tickets too.
    from ticketing.timers.sweep import sweep_due_timers
    clock.freeze(clock.utcnow() + timedelta(days=60))
    with app.app_context():
        sweep_due_timers()
    head = make_user("department_head", "inspection", username="head")
    head_client = app.test_client()
    head_client.post("/login", data={"username": head.username, "password": PASSWORD})

    pages = ["/", "/customers", "/customers?q=KH-XSS", "/customers?q=13800138000",
             f"/customers/{customer_id}", f"/customers/{customer_id}/edit",
             "/call?phone=13800138000", "/tickets?tab=open", "/tickets?tab=mine",
             "/tickets?tab=open&text=script", f"/tickets?tab=open&customer={customer_id}",
             "/escalations", "/notifications", "/sla/policies", f"/sla/policies/{policy_id}/edit",
             "/sla/calendars", f"/sla/calendars/{calendar_id}",
             *(f"/tickets/{t}" for t in (repair, mass_fault, complaint, consult, other, third,
                                         waiting))]
    shown = set()
    for who, browser in (("admin", client), ("head", head_client)):
        for path in pages:
            response = browser.get(path)
            if who == "head" and response.status_code in (403, 404):
                continue
            assert response.status_code == 200, (who, path, response.status_code)
            body = response.get_data(True)
            assert RAW not in body, f"{path} ({who}) shows a raw <script>"
            shown.update(label for label in _labels() if f"{label}&lt;script&gt;" in body)
    missing = set(_labels()) - shown
    assert missing == set(), f"never shown on any page (so never checked): {sorted(missing)}"


def _labels():
    return ["cname", "caddr", "cnotes", "fault", "repaired", "resolved", "reopen", "suspend",
            "rej", "incident", "approve", "analyse", "handle", "receipt", "reply", "relay",
            "reclassify", "close", "terminate", "calendar", "daynote", "policy",
            *(f"{k}-{f}" for k in ("repair", "complaint", "consult")
              for f in ("caller", "title", "desc"))]
