"""The mass-fault story end to end (SPEC §4, issue 17): an incident is opened and announced,
50 calls are linked (from the call screen and in bulk) and suspended with their clocks
paused, the authorised department reviews them (one rejected: back to its department, clock
running), the fault is cleared, the release resolves every linked ticket in one request and
withdraws the announcement."""
from datetime import datetime, timezone

from sqlalchemy import func, select

from ticketing import clock
from ticketing.announcements.models import Announcement
from ticketing.extensions import db
from ticketing.incidents.models import IncidentLink
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.timers.models import SlaClock

PASSWORD = "correct-horse-9"
AREA = "东城区"


def _tickets(app, ids):
    with app.app_context():
        rows = {t.id: (t.state, t.department_id, t.incident_ref) for t in db.session.scalars(
            select(Ticket).where(Ticket.id.in_(ids)))}
        db.session.remove()
    return rows


def _clock_statuses(app, ticket_id):
    with app.app_context():
        statuses = {c.clock: c.status for c in db.session.scalars(
            select(SlaClock).where(SlaClock.ticket_id == ticket_id))
            if c.stopped_at is None or c.clock == "resolution"}
        db.session.remove()
    return statuses


def _announcement(app, announcement_id):
    with app.app_context():
        row = db.session.get(Announcement, announcement_id)
        result = (row.state, row.title)
        db.session.remove()
    return result


def test_mass_fault_from_incident_to_release(app, client, api, customers_in, open_repairs):
    clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))  # a Tuesday, 10:00 in Shanghai
    callers = customers_in(AREA, 50)
    elsewhere = customers_in("西城区", 2)

    # Opening the incident publishes its announcement in the same transaction.
    incident = api.open_incident()
    assert incident["state"] == "open" and incident["fault_category"]["code"] == "fibre_cable"
    assert _announcement(app, incident["announcement_id"])[0] == "current"
    iid = incident["id"]

    # The phone system's screen pop names the open incident in the caller's area.
    pop = api.post("dispatcher", "/screen-pop", {"phone": "13900000001"}).get_json()
    assert [i["id"] for i in pop["open_incidents"]] == [iid]
    far = api.post("dispatcher", "/screen-pop", {"phone": "13900000051"}).get_json()
    assert far["customers"] and far["open_incidents"] == []

    # Five callers: the call screen shows the incident and opens their ticket linked to it.
    dispatcher = api.users["dispatcher"]
    assert client.post("/login", data={"username": dispatcher.username,
                                       "password": PASSWORD}).status_code == 302
    page = client.get("/call?phone=13900000001")
    assert page.status_code == 200 and "东城光缆中断" in page.get_data(as_text=True)
    from_call_screen = []
    for n in range(1, 6):
        response = client.post(f"/incidents/{iid}/call-ticket", data={
            "customer_id": str(callers[n - 1]), "caller_phone": f"139{n:08d}",
            "description": "电视没有信号"})
        assert response.status_code == 302, response.get_data(as_text=True)
        from_call_screen.append(int(response.headers["Location"].rsplit("/", 1)[1]))

    # The other 45 called earlier; their tickets are linked in bulk. The other area's are not.
    earlier = open_repairs(callers[5:])
    other = open_repairs(elsewhere)
    response = api.post("dispatcher", f"/incidents/{iid}/links", {"all_open_in_area": True})
    assert response.status_code == 201, response.get_json()
    assert sorted(response.get_json()["ticket_ids"]) == sorted(earlier)
    linked = from_call_screen + earlier
    assert len(linked) == 50
    states = _tickets(app, linked + other)
    assert {states[t] [0] for t in linked} == {"suspended"}
    assert {states[t][2] for t in linked} == {incident["ref"]}
    assert {states[t][0] for t in other} == {"repair_new"}
    assert _clock_statuses(app, linked[0])["resolution"] == "paused"

    # The authorised department (repair) reviews: a dispatcher or another team may not.
    path = f"/incidents/{iid}/links/{linked[0]}/review"
    assert api.post("dispatcher", path, {"confirm": True}).status_code == 403
    assert api.post("team_head", path, {"confirm": True}).status_code == 403
    rejected = linked[7]
    response = api.post("repair_head", f"/incidents/{iid}/links/{rejected}/review",
                        {"confirm": False, "reason": "该用户机顶盒故障，与光缆无关"})
    assert response.status_code == 200 and response.get_json()["review"] == "rejected"
    for ticket_id in linked[:40]:
        if ticket_id != rejected:
            assert api.post("repair_head", f"/incidents/{iid}/links/{ticket_id}/review",
                            {"confirm": True}).status_code == 200
    # Reviewing twice is refused.
    assert api.post("repair_head", f"/incidents/{iid}/links/{rejected}/review",
                    {"confirm": True}).status_code == 409
    before = _tickets(app, [rejected])[rejected]
    assert before[0] == "repair_classified"
    assert before[1] == _tickets(app, [other[0]])[other[0]][1]  # back in its department
    assert _clock_statuses(app, rejected)["resolution"] == "running"

    # Release before the fault is cleared: 409, nothing changed.
    assert api.post("dispatcher", f"/incidents/{iid}/release", {}).status_code == 409
    assert {s[0] for s in _tickets(app, linked).values()} == {"suspended", "repair_classified"}

    clock.advance(minutes=90)
    response = api.post("repair_head", f"/incidents/{iid}/clear", {})
    assert response.status_code == 200 and response.get_json()["state"] == "cleared"

    response = api.post("dispatcher", f"/incidents/{iid}/release", {"note": "信号已恢复"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["resolved"] == 49
    assert response.get_json()["incident"]["state"] == "released"
    states = _tickets(app, linked)
    assert {states[t][0] for t in linked if t != rejected} == {"closed"}
    assert states[rejected][0] == "repair_classified"
    assert _announcement(app, incident["announcement_id"])[0] == "revoked"
    resolution = _clock_statuses(app, linked[0])["resolution"]
    assert resolution == "stopped"
    with app.app_context():
        history = db.session.scalars(select(TicketEvent.event).where(
            TicketEvent.ticket_id == linked[0]).order_by(TicketEvent.id)).all()
        released = db.session.scalar(select(func.count()).select_from(IncidentLink).where(
            IncidentLink.released_at.is_not(None)))
        used = db.session.scalar(select(SlaClock.business_minutes_used).where(
            SlaClock.ticket_id == linked[0], SlaClock.clock == "resolution"))
    assert history[-3:] == ["link_incident", "approve_suspension", "release_incident"]
    assert released == 49
    assert used < 1  # the 90 minutes suspended did not count against the deadline

    # Releasing twice is refused and changes nothing; no incident shows on the screen pop.
    assert api.post("dispatcher", f"/incidents/{iid}/release", {}).status_code == 409
    assert api.post("dispatcher", "/screen-pop",
                    {"phone": "13900000001"}).get_json()["open_incidents"] == []
    board = client.get(f"/incidents/{iid}")
    assert board.status_code == 200 and "Released" in board.get_data(as_text=True)


def test_a_release_without_a_note_says_service_restored_in_each_readers_language(
        app, api, customers_in, open_repairs):
    from flask_babel import force_locale

    from ticketing.tickets.labels import history_note
    clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))
    [ticket_id] = open_repairs(customers_in(AREA, 1))
    incident = api.open_incident()
    iid = incident["id"]
    assert api.post("dispatcher", f"/incidents/{iid}/links",
                    {"all_open_in_area": True}).status_code == 201
    assert api.post("repair_head", f"/incidents/{iid}/links/{ticket_id}/review",
                    {"confirm": True}).status_code == 200
    assert api.post("repair_head", f"/incidents/{iid}/clear", {}).status_code == 200
    response = api.post("dispatcher", f"/incidents/{iid}/release", {})
    assert response.status_code == 200 and response.get_json()["resolved"] == 1
    with app.test_request_context():
        row = db.session.scalar(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.event == "release_incident"))
        assert row.note == "" and row.data["incident_ref"] == incident["ref"]
        assert db.session.get(Ticket, ticket_id).state == "closed"
        with force_locale("en"):
            assert history_note(row) == f"Service restored: incident {incident['ref']} released."
        with force_locale("zh"):
            assert history_note(row) == f"服务已恢复：事件 {incident['ref']} 已解除。"
