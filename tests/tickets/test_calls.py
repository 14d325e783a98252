"""Screen pop and repeat callers (SPEC §7, issue 18): every screen pop is recorded (number,
time, agent, the ticket it led to); a repeat caller within the window is flagged with their
earlier calls, and their call can join their open ticket (a history entry) instead of
opening a duplicate."""
from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import PASSWORD
from ticketing import clock
from ticketing.auth.models import Role
from ticketing.calls.models import Call
from ticketing.extensions import db
from ticketing.tickets.models import Ticket, TicketEvent

PHONE = "13700001111"


def _pop(api, who="agent", phone=PHONE):
    response = api.post(who, "/screen-pop", {"phone": phone})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _call(api, call_id) -> dict:
    with api.app.app_context():
        call = db.session.get(Call, call_id)
        return {"phone": call.phone, "agent_id": call.agent_id, "ticket_id": call.ticket_id,
                "outcome": call.outcome, "at": call.at}


def _count(api, model) -> int:
    with api.app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def test_a_screen_pop_records_the_call_with_number_time_and_agent(api, people):
    clock.freeze(clock.utcnow().replace(microsecond=0))
    pop = _pop(api)
    call = _call(api, pop["call_id"])
    assert call["phone"] == PHONE and call["agent_id"] == people["agent"].id
    assert call["at"] == clock.utcnow() and call["ticket_id"] is None
    assert pop["repeat_caller"] is False and pop["previous_calls"] == []


def test_the_ticket_opened_for_the_call_is_recorded_on_it(api, people):
    pop = _pop(api)
    ticket = api.open(caller_phone=PHONE, call_id=pop["call_id"])
    assert _call(api, pop["call_id"])["ticket_id"] == ticket["id"]
    assert _call(api, pop["call_id"])["outcome"] == "opened"
    again = api.post("agent", "/tickets", {"kind": "consult", "caller_phone": PHONE,
                                           "description": "x", "call_id": pop["call_id"]})
    assert again.status_code == 409 and again.get_json()["error"] == "call_already_linked"
    unknown = api.post("agent", "/tickets", {"kind": "consult", "caller_phone": PHONE,
                                             "description": "x", "call_id": 999999})
    assert unknown.status_code == 400 and "call_id" in unknown.get_json()["fields"]
    assert _count(api, Ticket) == 1


def test_a_second_call_within_the_window_is_a_repeat_caller_with_the_earlier_call(api, people):
    start = clock.utcnow()
    clock.freeze(start)
    first = _pop(api, "agent")
    ticket = api.open(caller_phone=PHONE, call_id=first["call_id"])
    clock.freeze(start + timedelta(hours=71))
    second = _pop(api, "agent2")
    assert second["repeat_caller"] is True
    assert [(c["id"], c["ticket_number"], c["agent"]["username"], c["outcome"])
            for c in second["previous_calls"]] == [
        (first["call_id"], ticket["number"], "agent", "opened")]
    assert [t["number"] for t in second["open_tickets"]] == [ticket["number"]]


def test_calls_older_than_the_window_do_not_make_a_repeat_caller(api, people):
    start = clock.utcnow()
    clock.freeze(start)
    _pop(api)
    clock.freeze(start + timedelta(hours=73))  # REPEAT_CALLER_WINDOW_HOURS is 72
    later = _pop(api)
    assert later["repeat_caller"] is False and later["previous_calls"] == []


def test_linking_a_repeat_call_adds_to_the_open_ticket_instead_of_a_duplicate(api, people):
    first = _pop(api)
    ticket = api.open(caller_phone=PHONE, call_id=first["call_id"], description="电视没有信号")
    second = _pop(api, "agent2")
    before = api.stored(ticket["id"])
    response = api.post("agent2", f"/calls/{second['call_id']}/link",
                        {"ticket_id": ticket["id"], "note": "客户再次来电催促"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["history"]["event"] == "repeat_call"
    assert body["history"]["note"] == "客户再次来电催促"
    assert body["history"]["actor"]["username"] == "agent2"
    assert body["call"]["outcome"] == "linked" and body["call"]["ticket_id"] == ticket["id"]
    after = api.stored(ticket["id"])
    assert after["history"] == before["history"] + 1
    assert (after["state"], after["version"]) == (before["state"], before["version"])
    assert _count(api, Ticket) == 1
    # the note is searchable, like every note a person writes
    found = api.get("supervisor", "/search/tickets", query_string={"q": "催促"}).get_json()
    assert [i["number"] for i in found["items"]] == [ticket["number"]]


def test_a_call_is_linked_once_and_never_to_a_closed_ticket(api, people):
    ticket = api.open(caller_phone=PHONE)
    call = _pop(api)
    assert api.post("agent", f"/calls/{call['call_id']}/link",
                    {"ticket_id": ticket["id"]}).status_code == 200
    twice = api.post("agent", f"/calls/{call['call_id']}/link", {"ticket_id": ticket["id"]})
    assert twice.status_code == 409 and twice.get_json()["error"] == "call_already_linked"
    assert api.fire("ops", ticket["id"], "terminate", note="已解释").status_code == 200
    other = _pop(api)
    closed = api.post("agent", f"/calls/{other['call_id']}/link", {"ticket_id": ticket["id"]})
    assert closed.status_code == 409 and closed.get_json()["error"] == "ticket_closed"
    assert _call(api, other["call_id"])["ticket_id"] is None
    assert api.post("agent", "/calls/999999/link",
                    {"ticket_id": ticket["id"]}).status_code == 404
    assert api.post("agent", f"/calls/{other['call_id']}/link",
                    {"ticket_id": 999999}).status_code == 404
    assert api.post("agent", f"/calls/{other['call_id']}/link",
                    {"ticket_id": ticket["id"], "note": "x" * 1001}).status_code == 400


def test_a_ticket_the_agent_may_not_see_cannot_be_linked(api, people, as_role):
    with api.app.app_context():  # a desk that opens tickets but sees only its department's
        desk = Role(name="desk")
        desk.set_permissions({"tickets.create", "tickets.view", "customers.view"})
        db.session.add(desk)
        db.session.commit()
    _user, headers = as_role("desk", "call_center")
    complaint = api.open(kind="complaint", caller_phone=PHONE)  # inspection; agent opened it
    call = _pop(api, headers)
    response = api.post(headers, f"/calls/{call['call_id']}/link",
                        {"ticket_id": complaint["id"]})
    assert response.status_code == 404
    assert _call(api, call["call_id"])["ticket_id"] is None


def test_the_call_screen_offers_to_link_a_repeat_callers_call(api, people, client):
    ticket = api.open(caller_phone=PHONE, description="电视没有信号")
    people["agent"]
    assert client.post("/login", data={"username": "agent",
                                       "password": PASSWORD}).status_code == 302
    html = client.get(f"/call?phone={PHONE}").get_data(as_text=True)
    assert "Repeat caller" in html and f"Link this call to {ticket['number']}" in html
    response = client.post("/calls/link", data={"phone": PHONE, "ticket_id": str(ticket["id"]),
                                                "note": "又来电了"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tickets/{ticket['id']}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Repeat call" in page and "又来电了" in page
    with api.app.app_context():
        rows = db.session.scalars(select(TicketEvent.event).where(
            TicketEvent.ticket_id == ticket["id"])).all()
        call = db.session.scalar(select(Call).where(Call.ticket_id == ticket["id"]))
        assert rows == ["open", "repeat_call"] and call.outcome == "linked"
    assert _count(api, Ticket) == 1


def test_a_ticket_opened_on_the_call_screen_records_its_call(api, people, client):
    people["agent"]
    client.post("/login", data={"username": "agent", "password": PASSWORD})
    pop = _pop(api)
    page = client.get(f"/call?phone={PHONE}&call={pop['call_id']}").get_data(as_text=True)
    assert f'value="{pop["call_id"]}"' in page
    response = client.post("/tickets/new", data={
        "kind": "consult", "caller_phone": PHONE, "channel": "phone", "priority": "normal",
        "description": "咨询资费", "call_id": str(pop["call_id"])})
    assert response.status_code == 302
    call = _call(api, pop["call_id"])
    assert call["outcome"] == "opened" and call["ticket_id"] is not None
    # without a screen pop the call is recorded all the same
    client.post("/tickets/new", data={"kind": "consult", "caller_phone": "13700002222",
                                      "channel": "phone", "priority": "normal",
                                      "description": "咨询资费"})
    with api.app.app_context():
        assert db.session.scalar(select(Call.outcome).where(Call.phone == "13700002222")) \
            == "opened"
