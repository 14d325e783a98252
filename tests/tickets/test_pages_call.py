"""The agent's call screen: caller lookup, repeat callers, opening a ticket from the form."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from ticketing import clock
from ticketing.auth.models import User
from ticketing.customers.operations import create_customer
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import fire_event, open_ticket

PHONE = "13800138000"


def _customer(app, name="王芳", phones=PHONE, account="KH900001", tier="ordinary") -> int:
    with app.app_context():
        customer = create_customer(None, {"account_no": account, "name": name,
                                          "phones": phones, "tier": tier})
        db.session.commit()
        return customer.id


def _ticket(app, user, **fields) -> tuple[int, str]:
    with app.app_context():
        actor = db.session.get(User, user.id)
        ticket = open_ticket(actor, **{"kind": "consult", "description": "账单疑问", **fields})
        db.session.commit()
        return ticket.id, ticket.number


def _count_tickets(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Ticket.id)))


def test_call_screen_lookup_finds_the_customer_and_their_open_tickets(app, client, auth,
                                                                       make_user):
    agent = make_user("agent", "call_center")
    customer_id = _customer(app)
    _open_id, open_number = _ticket(app, agent, customer_id=customer_id,
                                    description="宽带无法上网")
    closed_id, closed_number = _ticket(app, agent, customer_id=customer_id)
    with app.app_context():
        fire_event(db.session.get(User, agent.id), db.session.get(Ticket, closed_id),
                   "terminate", {"note": "已解释"})
        db.session.commit()
    auth.login(agent.username)

    page = client.get("/call", query_string={"phone": "138-0013-8000"})

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "王芳" in html and "KH900001" in html
    assert open_number in html
    assert closed_number not in html
    # The only match is preselected in the new-ticket form, with the number prefilled.
    assert f'<option selected value="{customer_id}">' in html
    assert f'value="{PHONE}"' in html


def test_unknown_number_offers_to_create_a_customer(client, auth, make_user):
    agent = make_user("agent", "call_center")
    auth.login(agent.username)

    html = client.get("/call?phone=13999999999").get_data(as_text=True)

    assert "/customers/new?phone=13999999999" in html


def test_repeat_caller_is_flagged_only_within_the_window(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    window = app.config["REPEAT_CALLER_WINDOW_HOURS"]
    now = datetime.now(timezone.utc)
    clock.freeze(now - timedelta(hours=window + 1))
    _ticket(app, agent, caller_phone="13700000001")
    clock.freeze(now - timedelta(hours=window - 1))
    _ticket(app, agent, caller_phone="13700000002")
    clock.freeze(now)
    auth.login(agent.username)

    old = client.get("/call?phone=13700000001").get_data(as_text=True)
    recent = client.get("/call?phone=13700000002").get_data(as_text=True)

    assert 'class="repeat-caller"' not in old
    assert 'class="repeat-caller"' in recent


def test_opening_a_ticket_from_the_call_screen_redirects_to_its_page(app, client, auth,
                                                                     make_user):
    agent = make_user("agent", "call_center")
    customer_id = _customer(app)
    auth.login(agent.username)

    response = client.post("/tickets/new", data={
        "kind": "repair", "customer_id": str(customer_id), "caller_phone": PHONE,
        "caller_name": "王芳", "channel": "phone", "priority": "normal",
        "category": "宽带", "title": "断网", "description": "家里宽带从早上开始断网"})

    assert response.status_code == 302
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert (ticket.kind, ticket.state, ticket.customer_id) == ("repair", "repair_new",
                                                                   customer_id)
        assert ticket.created_by_id == agent.id
        assert response.headers["Location"].endswith(f"/tickets/{ticket.id}")
        number = ticket.number
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert number in page and "家里宽带从早上开始断网" in page


def test_a_ticket_without_description_is_refused_and_nothing_is_created(app, client, auth,
                                                                        make_user):
    agent = make_user("agent", "call_center")
    auth.login(agent.username)

    response = client.post("/tickets/new", data={
        "kind": "consult", "customer_id": "", "caller_phone": PHONE, "channel": "phone",
        "priority": "normal", "description": ""})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="field has-error"' in html
    assert f'value="{PHONE}"' in html  # what was typed is kept
    assert _count_tickets(app) == 0


def test_rules_of_open_ticket_come_back_as_field_errors(app, client, auth, make_user):
    agent = make_user("agent", "call_center")
    auth.login(agent.username)

    response = client.post("/tickets/new", data={
        "kind": "consult", "caller_phone": "not-a-number", "channel": "phone",
        "priority": "normal", "description": "咨询资费"})

    assert response.status_code == 400
    assert "not-a-number" in response.get_data(as_text=True)
    assert 'class="field has-error"' in response.get_data(as_text=True)
    assert _count_tickets(app) == 0


def test_only_users_who_open_tickets_get_the_call_screen(client, auth, make_user):
    staff = make_user("staff", "operations")
    auth.login(staff.username)

    assert client.get("/call").status_code == 403
    assert client.post("/tickets/new", data={"kind": "consult",
                                             "description": "x"}).status_code == 403


def test_nav_shows_call_screen_and_tickets_by_permission(client, auth, make_user):
    agent = make_user("agent", "call_center")
    staff = make_user("staff", "operations")
    auth.login(agent.username)
    agent_home = client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(staff.username)
    staff_home = client.get("/").get_data(as_text=True)

    assert 'href="/call"' in agent_home and 'href="/tickets"' in agent_home
    assert 'href="/call"' not in staff_home and 'href="/tickets"' in staff_home
