"""The working day on the pages (issue 19): SLA in every list, hand-offs that land, the call
screen's lookups, actions in the usual order, long text folded, errors in the user's language."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from ticketing import clock
from ticketing.customers.operations import normalise_phone
from ticketing.extensions import db
from ticketing.tickets.operations import fire_event, open_ticket
from ticketing.timers.sweep import sweep_due_timers


@pytest.mark.parametrize("raw, number", [
    ("+86 187 8509 1285", "18785091285"), ("008618785091285", "18785091285"),
    ("8618785091285", "18785091285"), ("+86 10 6512 3456", "01065123456"),
    ("187-8509-1285", "18785091285"), ("+44 20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"), ("KH100001", None)])
def test_phone_numbers_in_e164_and_with_the_country_code_read_as_stored(raw, number):
    assert normalise_phone(raw) == number


def _customer(app, tier="ordinary", phone="18785091285", account="KH100001"):
    from ticketing.customers.operations import create_customer
    with app.app_context():
        customer = create_customer(None, {"account_no": account, "name": "张三", "tier": tier,
                                          "phones": [phone]})
        db.session.commit()
        return customer.id


def test_the_call_screen_finds_a_caller_by_account_number_and_shows_vip_priority(
        app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    _customer(app, tier="vip")
    auth.login(agent.username)

    html = client.get("/call?phone=KH100001").get_data(True)

    assert "张三" in html and "Not a phone number" not in html
    assert '<option selected value="high">' in html  # what the ticket will get, shown
    assert "VIP customer: at least high priority." in html
    assert 'autofocus' in html[html.index('id="kind"') - 200:html.index('id="kind"') + 200]
    by_e164 = client.get("/call?phone=%2B8618785091285").get_data(True)
    assert "张三" in by_e164


def test_lists_show_time_left_and_overdue_and_sort_by_deadline(app, client, auth, make_user):
    supervisor = make_user("supervisor", "supervision")
    clock.freeze(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))
    with app.app_context():
        late = open_ticket(None, kind="repair", caller_phone="13800138000", description="早")
        db.session.commit()
        clock.advance(hours=9)
        fresh = open_ticket(None, kind="repair", caller_phone="13800138001", description="晚")
        db.session.commit()
        late_number, fresh_number, late_id = late.number, fresh.number, late.id
        sweep_due_timers()
    auth.login(supervisor.username)

    html = client.get("/tickets?tab=open&sort=deadline").get_data(True)

    assert html.index(late_number) < html.index(fresh_number)  # most urgent first
    # Nobody answered either: the nearest deadline is the response clock's (1 h).
    assert re.search(r'class="sla sla-breached"[^>]*>Overdue by 8 h 0 min<', html)
    assert re.search(r'class="sla sla-ok"[^>]*>1 h 0 min left<', html)
    newest = client.get("/tickets?tab=open").get_data(True)
    assert newest.index(fresh_number) < newest.index(late_number)
    page = client.get(f"/tickets/{late_id}").get_data(True)
    head = page[page.index("<h1>"):page.index("</h1>")]
    assert "Overdue by 8 h 0 min" in head  # at the top of the ticket page
    escalations = client.get("/escalations").get_data(True)
    assert "Overdue by" in escalations


def test_after_a_hand_off_the_user_is_told_where_it_went_and_keeps_sight_of_it(
        app, client, auth, make_user):
    ops = make_user("staff", "operations")
    with app.app_context():
        ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                             description="咨询")
        db.session.commit()
        from ticketing.auth.models import Department
        inspection = db.session.scalar(select(Department.id).where(
            Department.code == "inspection"))
        ticket_id, number, version = ticket.id, ticket.number, ticket.version
    auth.login(ops.username)

    response = client.post(f"/tickets/{ticket_id}/events/transfer",
                           data={"version": str(version), "department_id": str(inspection)},
                           follow_redirects=True)

    html = response.get_data(True)
    assert response.status_code == 200 and "404" not in html
    assert f"Ticket {number} is now with Inspection." in html
    handled = client.get("/tickets?tab=handled").get_data(True)
    assert number in handled and "Handled by me" in handled


def test_actions_follow_the_usual_path_and_destructive_ones_ask_first(
        app, client, auth, make_user):
    ops = make_user("staff", "operations")
    with app.app_context():
        ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                             description="咨" * 700)
        db.session.commit()
        ticket_id = ticket.id
    auth.login(ops.username)

    html = client.get(f"/tickets/{ticket_id}").get_data(True)
    aside = html[html.index('class="ticket-actions'):]
    order = re.findall(r'/events/(\w+)"', aside)
    assert order.index("reply") < order.index("transfer") < order.index("terminate")
    assert order[-1] == "terminate"
    assert 'data-confirm="Terminate: this cannot be undone. Go ahead?"' in aside
    first = aside[:aside.index("/events/" + order[1])]
    assert 'class="primary"' in first or 'class="button primary"' in first  # the next step
    # A 700-character description folds away, and the timeline does not repeat it.
    assert 'data-collapsible' in html and "Show all (700 characters)" in html
    assert html.count("咨" * 500) == 1


def test_unassigned_leaves_closed_tickets_out_and_the_agent_has_no_empty_department_tab(
        app, client, auth, make_user):
    ops = make_user("staff", "operations")
    agent = make_user("agent", "call_center")
    with app.app_context():
        open_one = open_ticket(None, kind="consult", caller_phone="13800138000",
                               description="还在等")
        closed = open_ticket(None, kind="consult", caller_phone="13800138001",
                             description="已结束")
        fire_event(None, closed, "terminate", {"note": "已答复"})
        db.session.commit()
        numbers = open_one.number, closed.number
    auth.login(ops.username)
    unassigned = client.get("/tickets?tab=unassigned").get_data(True)
    assert numbers[0] in unassigned and numbers[1] not in unassigned
    auth.logout()
    auth.login(agent.username)
    tabs = client.get("/tickets").get_data(True)
    assert "tab=department" not in tabs and "tab=handled" in tabs


def test_error_pages_speak_the_users_language_and_a_csrf_failure_keeps_the_text(
        app, client, auth, make_user):
    ops = make_user("staff", "operations", locale="zh")
    auth.login(ops.username)
    missing = client.get("/tickets/999999").get_data(True)
    assert "There is no such page" not in missing and "没有这个页面" in missing
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post("/tickets/1/events/reply",
                              data={"version": "1", "note": "我打的字不能丢"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    html = refused.get_data(True)
    assert refused.status_code == 400
    assert "我打的字不能丢" in html and "CSRF" not in html
