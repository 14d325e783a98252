"""Queues per tab with filters and paging, home panels, the customer page's tickets, and the
workflow page."""
import re

import pytest

from ticketing.auth.models import User
from ticketing.auth.operations import department_by_code
from ticketing.customers.operations import create_customer
from ticketing.extensions import db
from ticketing.tickets import views
from ticketing.tickets.operations import fire_event, open_ticket


def _numbers(html: str) -> set[str]:
    return set(re.findall(r">(GD\d+)</a>", html))


@pytest.fixture
def world(app, make_user):
    """A repair team worker with one ticket assigned and one waiting in the team's queue,
    a consult at operations, and a closed consult."""
    agent = make_user("agent", "call_center")
    dispatcher = make_user("dispatcher", "dispatch")
    worker = make_user("staff", "repair_team_1")
    with app.app_context():
        by_agent = db.session.get(User, agent.id)
        by_dispatcher = db.session.get(User, dispatcher.id)
        team = department_by_code("repair_team_1").id
        customer = create_customer(None, {"account_no": "KH800001", "name": "赵磊",
                                          "phones": "13512345678"})
        numbers = {}
        for name in ("assigned", "waiting"):
            ticket = open_ticket(by_agent, kind="repair", customer_id=customer.id,
                                 description=f"repair {name}")
            for event, fields in (("verify_customer", {}),
                                  ("classify_fault", {"fault_type": "cable"}),
                                  ("issue_work_order", {"department_id": team})):
                fire_event(by_dispatcher, ticket, event, fields)
            numbers[name] = ticket
        fire_event(by_dispatcher, numbers["assigned"], "dispatch",
                   {"department_id": team, "assignee_id": worker.id})
        numbers["consult"] = open_ticket(by_agent, kind="consult", caller_phone="13900000000",
                                         description="资费咨询")
        numbers["closed"] = open_ticket(by_agent, kind="consult", caller_phone="13900000001",
                                        description="已答复")
        fire_event(by_agent, numbers["closed"], "terminate", {"note": "已解释"})
        db.session.commit()
        numbers = {name: ticket.number for name, ticket in numbers.items()}
    return {"agent": agent, "dispatcher": dispatcher, "worker": worker,
            "customer_id": customer.id, **numbers}


def test_each_tab_shows_its_tickets(client, auth, world):
    auth.login(world["worker"].username)

    mine = _numbers(client.get("/tickets?tab=mine").get_data(as_text=True))
    department = _numbers(client.get("/tickets?tab=department").get_data(as_text=True))
    unassigned = _numbers(client.get("/tickets?tab=unassigned").get_data(as_text=True))

    assert mine == {world["assigned"]}
    assert department == {world["assigned"], world["waiting"]}
    assert unassigned == {world["waiting"]}


def test_queue_parameter_names_the_tab_as_in_the_api(client, auth, world):
    auth.login(world["worker"].username)

    department = client.get("/tickets?queue=department").get_data(as_text=True)
    unassigned = client.get("/tickets?queue=unassigned").get_data(as_text=True)

    assert _numbers(department) == {world["assigned"], world["waiting"]}
    assert 'href="/tickets?tab=department" aria-current="page"' in department
    assert _numbers(unassigned) == {world["waiting"]}
    assert client.get("/tickets?queue=theirs").status_code == 404


def test_queue_rows_show_labels_names_and_local_times(client, auth, world, app):
    """The queue's rows (read as plain columns) show what the ORM objects showed."""
    from flask_babel import format_datetime, get_locale
    from flask_login import login_user

    from ticketing.tickets.models import Ticket
    auth.login(world["worker"].username)
    html = client.get("/tickets?tab=department").get_data(as_text=True)

    with app.test_request_context():
        login_user(db.session.get(User, world["worker"].id))
        ticket = db.session.scalar(db.select(Ticket).where(Ticket.number == world["assigned"]))
        opened = format_datetime(ticket.created_at, "short")
        team = ticket.department.display_name(str(get_locale()))
        assignee = ticket.assignee.display_name
        detail = f'href="/tickets/{ticket.id}">{ticket.number}</a>'
    assert detail in html and f"<td>{opened}</td>" in html
    assert f"<td>{team}</td>" in html and f"<td>{assignee}</td>" in html
    assert "赵磊" in html and 'class="tag status-processing"' in html


def test_the_open_tab_answers_a_department_user_as_the_api_does(app, client, auth, world):
    auth.login(world["worker"].username)
    page = client.get("/tickets?queue=open")
    assert page.status_code == 200
    api = client.get("/api/v1/tickets?queue=open").get_json()
    assert _numbers(page.get_data(as_text=True)) == {t["number"] for t in api["items"]} \
        == {world["assigned"], world["waiting"]}
    assert 'href="/tickets?tab=open"' in client.get("/tickets").get_data(as_text=True)
    auth.logout()

    auth.login(world["agent"].username)
    html = client.get("/tickets?tab=open").get_data(as_text=True)

    assert _numbers(html) == {world["assigned"], world["waiting"], world["consult"]}


def test_filters_narrow_the_queue(client, auth, world):
    auth.login(world["agent"].username)

    consults = client.get("/tickets?tab=open&kind=consult").get_data(as_text=True)
    pending = client.get("/tickets?tab=open&status=pending").get_data(as_text=True)
    text = client.get("/tickets?tab=open&text=资费").get_data(as_text=True)

    assert _numbers(consults) == {world["consult"]}
    assert _numbers(pending) == {world["consult"]}
    assert _numbers(text) == {world["consult"]}


def test_next_page_follows_the_cursor_and_keeps_the_filters(client, auth, world,
                                                            monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    auth.login(world["agent"].username)

    first = client.get("/tickets?tab=open&text=repair").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    rest = client.get(link).get_data(as_text=True)

    assert "text=repair" in link and "tab=open" in link
    assert len(_numbers(first)) == 1 and len(_numbers(rest)) == 1
    assert _numbers(first) | _numbers(rest) == {world["assigned"], world["waiting"]}
    assert 'rel="next"' not in rest


def test_a_bad_cursor_is_refused_without_a_crash(client, auth, world):
    auth.login(world["agent"].username)
    response = client.get("/tickets?tab=open&cursor=%%%garbage")
    assert response.status_code == 400


def test_home_shows_my_tickets_and_my_departments_unassigned(client, auth, world):
    auth.login(world["worker"].username)

    html = client.get("/").get_data(as_text=True)

    panels = {re.search(r"<h2>(.*?)</h2>", p).group(1): p
              for p in html.split('<section class="card panel">')[1:]}
    assert _numbers(panels["My tickets"]) == {world["assigned"]}
    unassigned = next(html for title, html in panels.items() if "unassigned" in title)
    assert _numbers(unassigned) == {world["waiting"]}
    # Being assigned the ticket told the worker so, in the header and on the home page.
    assert "Unread notifications" in panels and 'class="badge"' in html
    assert "was assigned to you" in panels["Unread notifications"]


def test_customer_page_lists_the_customers_tickets(client, auth, world):
    auth.login(world["agent"].username)

    html = client.get(f"/customers/{world['customer_id']}").get_data(as_text=True)

    assert _numbers(html) == {world["assigned"], world["waiting"]}
    assert "/call?phone=13512345678" in html


def test_workflow_page_lists_the_five_top_level_states(client, auth, make_user):
    user = make_user("staff", "operations")
    assert client.get("/workflow").status_code == 302  # login required
    auth.login(user.username)

    html = client.get("/workflow").get_data(as_text=True)

    for state in ("consult", "repair", "complaint", "suspended", "closed"):
        assert f'<tbody id="state-{state}">' in html
    assert 'src="/static/workflow.js"' in html
    with client.get("/static/workflow.js") as script:
        assert script.status_code == 200


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_queue_dates_read_as_the_dt_filter_writes_them(app, lang):
    """The queue formats its dates once per page; the text is the |dt filter's."""
    from datetime import datetime, timedelta, timezone

    from flask_babel import format_datetime

    from ticketing.templating import _format_dt, short_datetime_formatter

    start = datetime(2024, 12, 31, 15, 59, 30, tzinfo=timezone.utc)
    times = [start + timedelta(minutes=37 * i, seconds=i) for i in range(400)]
    times.append(datetime(2025, 6, 1, 23, 5))  # naive: read as UTC, as flask_babel does
    with app.test_request_context(f"/?lang={lang}"):
        opened = short_datetime_formatter()
        assert [opened(t) for t in times] == [format_datetime(t, "short") for t in times]
        assert opened(None) == "—"
        # The dt filter itself takes the same road.
        assert [_format_dt(t) for t in times] == [format_datetime(t, "short") for t in times]
