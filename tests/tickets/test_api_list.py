"""GET /api/v1/tickets: filters, queues, keyset paging, and who sees what."""
import json
from datetime import datetime, timedelta, timezone

from ticketing import clock
from ticketing.auth.models import User
from ticketing.extensions import db

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)


def _numbers(page):
    return [t["number"] for t in page["items"]]


def _list(api, who="agent", **query):
    response = api.get(who, "/tickets", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_paging_with_the_cursor_walks_every_ticket_once_newest_first(api, people):
    people["agent"]
    opened = []
    for i in range(30):
        # Groups of three share a creation time: the id breaks the tie.
        clock.freeze(T0 + timedelta(minutes=i // 3))
        opened.append(api.open(description=f"call {i}")["number"])
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = _list(api, **query)
        pages += 1
        seen += _numbers(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert seen == list(reversed(opened))


def test_last_full_page_has_no_next_cursor(api):
    for _ in range(4):
        api.open()
    page = _list(api, limit=4)
    assert len(page["items"]) == 4 and page["next_cursor"] is None


BAD_FILTERS = [
    ({"cursor": "garbage!"}, "cursor"), ({"cursor": "Zm9vYmFy"}, "cursor"),
    ({"cursor": "MjAyNS0wMy0wM3x4"}, "cursor"),
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"limit": "many"}, "limit"),
    ({"kind": "question"}, "kind"), ({"state": "repair_lost"}, "state"),
    ({"status": "done"}, "status"), ({"queue": "theirs"}, "queue"),
    ({"created_from": "yesterday"}, "created_from"), ({"text": "x" * 101}, "text"),
    ({"department_id": "ops"}, "department_id"),
]


def test_bad_filter_or_cursor_is_a_400_naming_it(api, people):
    for query, field in BAD_FILTERS:
        response = api.get("agent", "/tickets", query_string=query)
        assert response.status_code == 400, query
        assert field in response.get_json()["fields"], query


def test_filters_by_kind_state_status_and_customer(api, people):
    customer = api.customer(phones=["13800000001"])
    consult = api.open(kind="consult")
    repair = api.open(kind="repair", customer_id=customer["id"])
    api.open(kind="complaint")
    assert api.fire("dispatcher", repair["id"], "verify_customer").status_code == 200
    assert _numbers(_list(api, kind="consult")) == [consult["number"]]
    assert _numbers(_list(api, state="repair_verified")) == [repair["number"]]
    assert _numbers(_list(api, state="repair")) == [repair["number"]]
    assert len(_list(api, status="pending")["items"]) == 2
    assert _numbers(_list(api, status="processing")) == [repair["number"]]
    assert _numbers(_list(api, customer_id=customer["id"])) == [repair["number"]]


def test_filters_by_department_and_assignee(api, people):
    team1 = people["team1"]
    repair = _dispatched_repair(api, team1)
    api.open(kind="consult")
    team1_dept = api.department_id("repair_team_1")
    assert _numbers(_list(api, department_id=team1_dept)) == [repair["number"]]
    assert _numbers(_list(api, assignee_id=team1.id)) == [repair["number"]]
    assert _list(api, assignee_id=people["agent"].id)["items"] == []


def test_text_search_matches_description_title_number_and_phone(api):
    first = api.open(description="Bill shows 100% surcharge", title="Billing")
    second = api.open(description="No signal", caller_phone="13712345678")
    api.open(description="Something else")
    assert _numbers(_list(api, text="surcharge")) == [first["number"]]
    assert _numbers(_list(api, text="BILLING")) == [first["number"]]
    # Full-text (issue 18): numbers and phones match whole, as words do.
    assert _numbers(_list(api, text="13712345678")) == [second["number"]]
    assert _list(api, text="1234567")["items"] == []
    assert _numbers(_list(api, text=second["number"])) == [second["number"]]


def test_text_search_takes_percent_and_underscore_as_separators(api):
    percent = api.open(description="charged 100% twice")
    api.open(description="charged 1000 twice")
    underscore = api.open(description="user_id missing")
    api.open(description="userXid missing")
    assert _numbers(_list(api, text="100%")) == [percent["number"]]
    assert _numbers(_list(api, text="user_id")) == [underscore["number"]]
    assert _list(api, text="%")["items"] == []


def test_created_from_is_inclusive_and_created_to_exclusive(api, people):
    people["agent"]
    stamps = [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    numbers = []
    for at in stamps:
        clock.freeze(at)
        numbers.append(api.open()["number"])
    page = _list(api, created_from=stamps[1].isoformat(), created_to=stamps[2].isoformat())
    assert _numbers(page) == [numbers[1]]
    # A time without a zone is read as UTC.
    naive = _list(api, created_from="2025-03-03T10:00:00")
    assert _numbers(naive) == [numbers[2], numbers[1]]


def _dispatched_repair(api, person):
    customer = api.customer(phones=["13800000077"], account_no="ACC-DISPATCH")
    ticket = api.open(kind="repair", customer_id=customer["id"])
    steps = [("verify_customer", {}), ("classify_fault", {"fault_type": "no_signal"}),
             ("issue_work_order", {"department_id": api.department_id("repair")}),
             ("dispatch", {"department_id": api.department_id(person.user.department.code),
                           "assignee_id": person.id})]
    for event, fields in steps:
        response = api.fire("dispatcher", ticket["id"], event, **fields)
        assert response.status_code == 200, response.get_json()
    return ticket


def test_queues_mine_department_unassigned_and_open(api, people):
    team1, ops = people["team1"], people["ops"]
    mine = _dispatched_repair(api, team1)
    consult = api.open(kind="consult")  # operations, nobody assigned
    closed = api.open(kind="consult")
    assert api.fire("ops", closed["id"], "terminate", note="answered").status_code == 200
    assert _numbers(_list(api, team1.headers, queue="mine")) == [mine["number"]]
    assert _numbers(_list(api, team1.headers, queue="department")) == [mine["number"]]
    assert _list(api, team1.headers, queue="unassigned")["items"] == []
    assert _numbers(_list(api, ops.headers, queue="department")) == [
        closed["number"], consult["number"]]
    # Unassigned means waiting for someone: a closed ticket waits for nobody.
    assert _numbers(_list(api, ops.headers, queue="unassigned")) == [consult["number"]]
    assert _numbers(_list(api, ops.headers, queue="unassigned", status="pending")) == [
        consult["number"]]
    assert closed["number"] not in _numbers(_list(api, queue="open"))
    assert {consult["number"], mine["number"]} <= set(_numbers(_list(api, queue="open")))


def test_staff_of_another_department_neither_sees_nor_finds_the_ticket(api, people):
    ticket = api.open(kind="consult")  # with operations
    outsider = people["team2"]
    response = api.get(outsider.headers, f"/tickets/{ticket['id']}")
    assert response.status_code == 404
    missing = api.get(outsider.headers, "/tickets/999999")
    assert response.get_json() == missing.get_json()  # existence is not leaked
    assert api.get(outsider.headers, f"/tickets/{ticket['id']}/history").status_code == 404
    fired = api.fire(outsider.headers, ticket["id"], "terminate", note="x")
    assert fired.status_code == 404
    assert _list(api, outsider.headers)["items"] == []
    assert _list(api, outsider.headers, text=ticket["number"])["items"] == []


def test_staff_see_tickets_of_their_department_and_those_assigned_to_them(api, people):
    team1 = people["team1"]
    repair = _dispatched_repair(api, team1)
    consult = api.open(kind="consult")
    assert _numbers(_list(api, people["ops"].headers)) == [consult["number"]]
    assert _numbers(_list(api, team1.headers)) == [repair["number"]]
    assert api.get(people["ops"].headers, f"/tickets/{consult['id']}").status_code == 200
    # Transferred away: operations still reads what it handled, but no longer acts on it.
    inspection = api.department_id("inspection")
    assert api.fire("ops", consult["id"], "transfer", department_id=inspection).status_code == 200
    assert api.get(people["ops"].headers, f"/tickets/{consult['id']}").status_code == 200
    assert api.fire("ops", consult["id"], "reply", note="late").status_code == 403
    assert _numbers(_list(api, people["ops_head"].headers)) == []
    assert api.get(people["inspector"].headers, f"/tickets/{consult['id']}").status_code == 200


def test_roles_with_every_department_see_everything(api, people):
    ticket = api.open(kind="complaint")
    for who in ("dispatcher", "callback", "supervisor", "admin"):
        assert _numbers(_list(api, people[who].headers)) == [ticket["number"]]


def test_listing_needs_a_token(client):
    assert client.get("/api/v1/tickets").status_code == 401


def test_list_items_are_what_the_ticket_schema_dumps(api, people, app):
    """The list is dumped from plain rows without marshmallow: every item must be exactly
    what TicketSchema (which documents it in the OpenAPI) gives for the ORM ticket."""
    from flask_login import login_user

    from ticketing.tickets.models import Ticket
    from ticketing.tickets.schemas import TicketSchema

    customer = api.customer(tier="vip", phones=("13800000088",))
    repair = _dispatched_repair(api, people["team1"])
    api.open(customer_id=customer["id"], title="账单", priority="urgent")
    closed = api.open(kind="consult", caller_name="王五")
    assert api.fire("ops", closed["id"], "terminate", note="answered").status_code == 200
    items = _list(api, "admin")["items"]
    assert len(items) == 3 and repair["id"] in {item["id"] for item in items}

    with app.test_request_context():
        admin = db.session.get(User, people["admin"].id)
        login_user(admin)
        tickets = [db.session.get(Ticket, item["id"]) for item in items]
        expected = json.loads(json.dumps(TicketSchema(many=True).dump(tickets)))
    assert items == expected
    assert "vip" in {item["customer"]["tier"] for item in items if item["customer"]}
    assert any(item["assignee"] for item in items) and any(item["closed_at"] for item in items)
