"""Bad input on incidents (issue 17): linking a non-repair, closed or already linked ticket,
editing or releasing at the wrong time, a stale version. Each is a clear 400/404/409 in the
one error shape, and nothing changes."""
from sqlalchemy import func, select

from ticketing.announcements.models import Announcement
from ticketing.extensions import db
from ticketing.incidents.models import Incident, IncidentLink
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.tickets.operations import fire_event, open_ticket


def _snapshot(app):
    with app.app_context():
        result = (
            {i.id: (i.state, i.version, i.name) for i in db.session.scalars(select(Incident))},
            {(l.incident_id, l.ticket_id, l.review) for l in db.session.scalars(
                select(IncidentLink))},
            {t.id: (t.state, t.version) for t in db.session.scalars(select(Ticket))},
            db.session.scalar(select(func.count(TicketEvent.id))),
            {a.id: a.state for a in db.session.scalars(select(Announcement))},
        )
        db.session.remove()
    return result


def _refused(response, status, error=None):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) >= {"error", "message"} and body["message"]
    if error:
        assert body["error"] == error, body


def test_linking_what_cannot_be_linked_is_refused_and_changes_nothing(
        app, api, customers_in, open_repairs):
    customers = customers_in("东城区", 3)
    good, closed_one, linked_one = open_repairs(customers)
    incident = api.open_incident()
    other = api.open_incident(name="另一起")
    path = f"/incidents/{incident['id']}/links"
    assert api.post("dispatcher", f"/incidents/{other['id']}/links",
                    {"ticket_ids": [linked_one]}).status_code == 201
    with app.app_context():
        ticket = db.session.get(Ticket, closed_one)
        fire_event(None, ticket, "reclassify", {"to_kind": "consult", "reason": "其实是咨询"})
        fire_event(None, ticket, "terminate", {"note": "已答复"})
        consult = open_ticket(None, kind="consult", customer_id=customers[0],
                              description="咨询")
        db.session.commit()
        consult_id = consult.id
        db.session.remove()
    before = _snapshot(app)
    _refused(api.post("dispatcher", path, {"ticket_ids": [good, consult_id]}), 400,
             "invalid_input")
    _refused(api.post("dispatcher", path, {"ticket_ids": [good, closed_one]}), 400)  # consult now
    _refused(api.post("dispatcher", path, {"ticket_ids": [good, linked_one]}), 409,
             "already_linked")
    _refused(api.post("dispatcher", path, {"ticket_ids": [good, 999999]}), 404, "not_found")
    _refused(api.post("dispatcher", path, {}), 400)
    _refused(api.post("dispatcher", path, {"ticket_ids": [good], "all_open_in_area": True}), 400)
    assert _snapshot(app) == before
    # A closed repair ticket: 409.
    closed_repair = open_repairs(customers[:1])[0]
    with app.app_context():
        ticket = db.session.get(Ticket, closed_repair)
        fire_event(None, ticket, "suspend", {"reason": "等待"})
        fire_event(None, ticket, "close", {"note": "关闭"})
        db.session.commit()
        db.session.remove()
    before = _snapshot(app)
    _refused(api.post("dispatcher", path, {"ticket_ids": [good, closed_repair]}), 409,
             "ticket_not_linkable")
    assert _snapshot(app) == before
    assert api.post("dispatcher", path, {"ticket_ids": [good]}).status_code == 201


def test_edits_and_state_changes_at_the_wrong_time_are_refused(app, api, customers_in,
                                                               open_repairs):
    incident = api.open_incident()
    iid = incident["id"]
    # A stale version: 409 with the current one; nothing changed.
    before = _snapshot(app)
    response = api.patch("dispatcher", f"/incidents/{iid}", {"version": 7, "name": "改名"})
    _refused(response, 409, "stale_version")
    assert response.get_json()["current_version"] == incident["version"]
    _refused(api.patch("dispatcher", f"/incidents/{iid}", {"version": incident["version"],
                                                           "fault_category": "nope"}), 400)
    _refused(api.patch("dispatcher", f"/incidents/{iid}", {"version": incident["version"],
                                                           "areas": []}), 400)
    _refused(api.post("dispatcher", f"/incidents/{iid}/release", {}), 409, "incident_state")
    assert _snapshot(app) == before
    # A valid edit changes the announcement's text too.
    response = api.patch("dispatcher", f"/incidents/{iid}", {"version": incident["version"],
                                                             "name": "东城停电"})
    assert response.status_code == 200 and response.get_json()["name"] == "东城停电"
    with app.app_context():
        assert "东城停电" in db.session.get(Announcement, incident["announcement_id"]).title
        db.session.remove()
    version = response.get_json()["version"]
    assert api.post("repair_head", f"/incidents/{iid}/clear", {"version": version}) \
        .status_code == 200
    ticket = open_repairs(customers_in("东城区", 1))[0]
    before = _snapshot(app)
    _refused(api.post("repair_head", f"/incidents/{iid}/clear", {}), 409, "incident_state")
    _refused(api.patch("dispatcher", f"/incidents/{iid}", {"version": version + 1,
                                                           "name": "再改"}), 409)
    _refused(api.post("dispatcher", f"/incidents/{iid}/links", {"ticket_ids": [ticket]}), 409)
    _refused(api.post("dispatcher", f"/incidents/{iid}/release", {"version": 1}), 409,
             "stale_version")
    assert _snapshot(app) == before
    assert api.post("dispatcher", f"/incidents/{iid}/release", {}).status_code == 200
    _refused(api.post("dispatcher", f"/incidents/{iid}/release", {}), 409, "incident_state")
    _refused(api.get("dispatcher", "/incidents/999999"), 404, "not_found")


def test_opening_an_incident_needs_its_fields(app, api):
    before = _snapshot(app)
    for body in ({"name": "x", "areas": ["东城区"], "fault_category": "nope"},
                 {"name": "", "areas": ["东城区"], "fault_category": "cable"},
                 {"name": "x", "areas": [], "fault_category": "cable"},
                 {"name": "x", "areas": ["东城区"], "fault_category": "cable",
                  "suspension_type": "whatever"},
                 {"name": "x", "areas": ["东城区"], "fault_category": "cable",
                  "department_id": 999999}):
        _refused(api.post("dispatcher", "/incidents", body), 400, "invalid_input")
    assert _snapshot(app) == before
    # Categories are data: an admin's new one is usable at once.
    with app.app_context():
        from ticketing.incidents.models import FaultCategory
        db.session.add(FaultCategory(code="wireless", name="无线", name_en="Wireless"))
        db.session.commit()
        db.session.remove()
    codes = [c["code"] for c in api.get("agent", "/fault-categories").get_json()]
    assert codes[:5] == ["fibre_cable", "cable", "equipment", "machine_room", "power_cut"]
    assert "wireless" in codes
    assert api.open_incident(fault_category="wireless")["fault_category"]["code"] == "wireless"


def test_only_the_authorised_department_reviews_and_clears(app, api, customers_in,
                                                           open_repairs, as_role):
    incident = api.open_incident()
    ticket = open_repairs(customers_in("东城区", 1))[0]
    api.post("dispatcher", f"/incidents/{incident['id']}/links", {"ticket_ids": [ticket]})
    review = f"/incidents/{incident['id']}/links/{ticket}/review"
    before = _snapshot(app)
    for who in ("team_head", "dispatcher", "agent", "repair_staff"):
        _refused(api.post(who, review, {"confirm": True}), 403, "forbidden")
        _refused(api.post(who, f"/incidents/{incident['id']}/clear", {}), 403, "forbidden")
    _refused(api.post("repair_head", review, {"confirm": False}), 400)  # a reason is needed
    _refused(api.post("repair_head", f"/incidents/{incident['id']}/links/999/review",
                      {"confirm": True}), 404)
    assert _snapshot(app) == before
    assert api.post("repair_head", review, {"confirm": True}).status_code == 200
