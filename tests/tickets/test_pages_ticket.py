"""The ticket page: facts, timeline, allowed actions as forms, firing them, conflicts."""
import re

from sqlalchemy import func, select

from ticketing.auth.models import User
from ticketing.customers.operations import create_customer
from ticketing.extensions import db
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.tickets.operations import fire_event, open_ticket


def _ticket(app, user, kind="repair", with_customer=True, **fields) -> int:
    with app.app_context():
        customer_id = None
        if with_customer:
            customer_id = create_customer(None, {"account_no": "KH700001", "name": "刘洋",
                                                 "phones": "13600000000"}).id
        ticket = open_ticket(db.session.get(User, user.id), kind=kind, customer_id=customer_id,
                             caller_phone="13600000000",
                             **{"description": "电视没有信号", **fields})
        db.session.commit()
        return ticket.id


def _fire(app, user, ticket_id, event, **fields) -> None:
    with app.app_context():
        fire_event(db.session.get(User, user.id), db.session.get(Ticket, ticket_id), event,
                   fields)
        db.session.commit()


def _state(app, ticket_id) -> tuple[str, int, int]:
    """(state, version, history rows) of a ticket, read fresh."""
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        rows = db.session.scalar(select(func.count(TicketEvent.id))
                                 .where(TicketEvent.ticket_id == ticket_id))
        return ticket.state, ticket.version, rows


def _action_urls(html: str) -> set[str]:
    return set(re.findall(r'action="/tickets/\d+/events/(\w+)"', html))


def _department_id(app, code) -> int:
    from ticketing.auth.operations import department_by_code
    with app.app_context():
        return department_by_code(code).id


def _ordered_repair(app, agent, dispatcher) -> int:
    ticket_id = _ticket(app, agent)
    _fire(app, dispatcher, ticket_id, "verify_customer")
    _fire(app, dispatcher, ticket_id, "classify_fault", fault_type="cable")
    _fire(app, dispatcher, ticket_id, "issue_work_order",
          department_id=_department_id(app, "repair_team_1"))
    return ticket_id


def test_ticket_page_shows_facts_and_the_timeline(app, client, auth, make_user):
    agent = make_user("agent", "call_center", full_name="李晓东")
    dispatcher = make_user("dispatcher", "dispatch", full_name="王建国")
    ticket_id = _ticket(app, agent, title="电视黑屏")
    _fire(app, dispatcher, ticket_id, "classify_fault", fault_type="fibre_cable")
    auth.login(agent.username)

    html = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)

    assert "电视黑屏" in html and "电视没有信号" in html and "刘洋" in html
    assert 'class="tag status-processing"' in html
    timeline = html[html.index('class="timeline'):]
    assert "李晓东" in timeline and "王建国" in timeline and "Fibre cable" in timeline
    assert timeline.count("<li class=\"event-") == 2


def test_only_the_actions_this_user_may_fire_are_offered(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    dispatcher = make_user("dispatcher", "dispatch")
    ticket_id = _ordered_repair(app, agent, dispatcher)

    auth.login(agent.username)
    agent_actions = _action_urls(client.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    auth.logout()
    auth.login(dispatcher.username)
    dispatcher_actions = _action_urls(
        client.get(f"/tickets/{ticket_id}").get_data(as_text=True))

    assert "dispatch" not in agent_actions
    assert agent_actions == {"suspend", "reclassify"}
    assert dispatcher_actions == {"dispatch", "suspend"}


def test_an_action_form_has_the_fields_of_its_event(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    dispatcher = make_user("dispatcher", "dispatch")
    ticket_id = _ordered_repair(app, agent, dispatcher)
    auth.login(dispatcher.username)

    html = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    form = html[html.index(f'action="/tickets/{ticket_id}/events/dispatch"'):]
    form = form[:form.index("</form>")]

    assert '<select id="dispatch-department_id" name="department_id"' in form
    # The assignee list names its department field, so it offers only that team's members.
    assert '<select data-members-of="dispatch-department_id" id="dispatch-assignee_id" ' \
        'name="assignee_id"' in form
    assert f'name="version" value="{_state(app, ticket_id)[1]}"' in form


def test_firing_an_action_through_the_page_changes_state_and_adds_history(app, client, auth,
                                                                          make_user):
    agent = make_user("agent", "call_center")
    dispatcher = make_user("dispatcher", "dispatch")
    ticket_id = _ticket(app, agent)
    _state_before, version, rows = _state(app, ticket_id)
    auth.login(dispatcher.username)

    response = client.post(f"/tickets/{ticket_id}/events/classify_fault",
                           data={"version": str(version), "fault_type": "equipment"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tickets/{ticket_id}")
    assert _state(app, ticket_id) == ("repair_classified", version + 1, rows + 1)
    with app.app_context():
        last = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                  .order_by(TicketEvent.id.desc())).first()
        assert (last.event, last.actor_id, last.data["fault_type"]) == ("classify_fault",
                                                                        dispatcher.id, "equipment")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash-success"' in page


def test_a_stale_version_shows_the_conflict_and_changes_nothing(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    dispatcher = make_user("dispatcher", "dispatch")
    ticket_id = _ticket(app, agent)
    _state_now, seen_version, _rows = _state(app, ticket_id)
    _fire(app, agent, ticket_id, "classify_fault", fault_type="cable")  # someone else acts first
    before = _state(app, ticket_id)
    auth.login(dispatcher.username)

    response = client.post(f"/tickets/{ticket_id}/events/suspend",
                           data={"version": str(seen_version), "reason": "等待配件"},
                           follow_redirects=True)

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'class="flash flash-error"' in html
    assert f'name="version" value="{before[1]}"' in html  # the fresh page carries the new one
    assert "等待配件" in html  # what the user typed is kept, in the open form
    assert "<details class=\"action\" open>" in html
    assert f"version {before[1]}" not in html  # no internal version numbers in the message
    assert _state(app, ticket_id) == before


def test_missing_required_field_rerenders_with_the_error(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    dispatcher = make_user("dispatcher", "dispatch")
    ticket_id = _ticket(app, agent)
    before = _state(app, ticket_id)
    auth.login(dispatcher.username)

    response = client.post(f"/tickets/{ticket_id}/events/classify_fault",
                           data={"version": str(before[1]), "fault_type": ""})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<details class=\"action\" open>" in html
    assert 'class="field has-error"' in html
    assert _state(app, ticket_id) == before


def test_a_rule_refusal_is_flashed_on_the_fresh_page(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    dispatcher = make_user("dispatcher", "dispatch")
    ticket_id = _ticket(app, agent, with_customer=False)
    before = _state(app, ticket_id)
    auth.login(dispatcher.username)

    response = client.post(f"/tickets/{ticket_id}/events/verify_customer",
                           data={"version": str(before[1])}, follow_redirects=True)

    assert response.status_code == 409
    assert 'class="flash flash-error"' in response.get_data(as_text=True)
    assert _state(app, ticket_id) == before


def test_an_event_not_allowed_in_the_state_changes_nothing(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    admin = make_user("admin", "management")
    ticket_id = _ticket(app, agent)
    before = _state(app, ticket_id)
    auth.login(admin.username)

    response = client.post(f"/tickets/{ticket_id}/events/accept",
                           data={"version": str(before[1])}, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    # The message names the state in words, without internal codes.
    assert "Accept is no longer possible: the ticket is now “Repair: new”" in html
    assert "repair_new" not in html
    assert _state(app, ticket_id) == before


def test_a_user_without_the_event_permission_gets_403(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    callback = make_user("callback_agent", "callback")
    ticket_id = _ticket(app, agent, kind="consult", with_customer=False)
    before = _state(app, ticket_id)
    auth.login(callback.username)

    assert client.get(f"/tickets/{ticket_id}").status_code == 200
    response = client.post(f"/tickets/{ticket_id}/events/terminate",
                           data={"version": str(before[1]), "note": "不该能做"})

    assert response.status_code == 403
    assert _state(app, ticket_id) == before


def test_department_staff_get_404_for_another_departments_ticket(app, client, auth,
                                                                 make_user):
    agent = make_user("agent", "call_center")
    repair_staff = make_user("staff", "repair_team_1")
    ticket_id = _ticket(app, agent, kind="consult", with_customer=False)  # goes to operations
    before = _state(app, ticket_id)
    auth.login(repair_staff.username)

    assert client.get(f"/tickets/{ticket_id}").status_code == 404
    assert client.post(f"/tickets/{ticket_id}/events/reply",
                       data={"version": str(before[1]), "note": "x"}).status_code == 404
    assert client.get("/tickets/999999").status_code == 404
    assert _state(app, ticket_id) == before


def test_a_script_in_the_description_is_shown_escaped(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    ticket_id = _ticket(app, agent, kind="consult", with_customer=False,
                        description="<script>alert(1)</script>")
    auth.login(agent.username)

    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    queue = client.get("/tickets?tab=open").get_data(as_text=True)

    for html in (page, queue):
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_complaint_walks_through_its_page_forms(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    admin = make_user("admin", "management")
    ticket_id = _ticket(app, agent, kind="complaint", with_customer=False)
    operations = _department_id(app, "operations")
    auth.login(admin.username)

    def post(event, **data):
        return client.post(f"/tickets/{ticket_id}/events/{event}",
                           data={"version": str(_state(app, ticket_id)[1]), **data})

    assert post("send_to_inspection").status_code == 302
    assert post("analyse", note="装维人员态度问题").status_code == 302
    assert post("assign", department_id=str(operations)).status_code == 302
    out_of_range = post("handle", note="已道歉", receipt_person="张三", satisfaction="9")
    assert out_of_range.status_code == 400
    assert 'id="handle-satisfaction"' in out_of_range.get_data(as_text=True)
    assert _state(app, ticket_id)[0] == "complaint_assigned"
    assert post("handle", note="已道歉", receipt_person="张三", satisfaction="4").status_code == 302

    assert _state(app, ticket_id)[0] == "complaint_handled"
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert (ticket.department_id, ticket.customer_satisfaction) == (operations, 4)


def test_other_areas_add_cards_to_the_ticket_page(app, client, auth, make_user, monkeypatch):
    from ticketing.wiring import wiring
    agent = make_user("agent", "call_center")
    ticket_id = _ticket(app, agent, with_customer=False)
    monkeypatch.setattr(wiring(app), "ticket_sections", [
        lambda ticket: {"title": f"Deadlines of {ticket.number}",
                        "template": "tickets/_ticket_list.html",
                        "context": {"tickets": []}},
        lambda ticket: None])
    auth.login(agent.username)

    html = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)

    assert "Deadlines of GD" in html
