"""The dispatcher's board (issue 17): open repair work orders grouped by area and fault type,
unassigned first, with deadline, time left and SLA colour; assigning to a field team and
optionally a technician of that team only, through the workflow's one dispatch event."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from ticketing import clock
from ticketing.extensions import db

EAST, WEST = "东城区和平里街道", "海淀区中关村街道"


def _group(board, area, fault):
    found = [g for g in board["groups"] if g["area"] == area and g["fault_type"] == fault]
    assert len(found) == 1, [(g["area"], g["fault_type"]) for g in board["groups"]]
    return found[0]


def test_board_groups_by_area_and_fault_unassigned_first(desk):
    start = desk.at(datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc))
    sent = desk.work_order(EAST, "no_signal")
    clock.freeze(start + timedelta(minutes=10))
    waiting = desk.work_order(EAST, "no_signal")
    clock.freeze(start + timedelta(minutes=20))
    west = desk.work_order(WEST, "modem")
    clock.freeze(start + timedelta(minutes=30))
    all_sent = desk.work_order(EAST, "modem")
    assert desk.dispatch("dispatcher", sent, "repair_team_1").status_code == 200
    assert desk.dispatch("dispatcher", all_sent, "repair_team_2").status_code == 200
    clock.freeze(start + timedelta(hours=1))

    response = desk.get("dispatcher", "/dispatch/board")
    assert response.status_code == 200, response.get_json()
    board = response.get_json()
    assert board["counts"] == {"repair_ordered": 2, "repair_dispatched": 2,
                               "repair_working": 0}
    assert board["total"] == board["shown"] == 4 and board["truncated"] is False
    keys = [(g["area"], g["fault_type"], g["unassigned"]) for g in board["groups"]]
    # Groups with work nobody has first, then the rest; each by area and fault.
    assert keys == [(EAST, "no_signal", 1), (WEST, "modem", 1), (EAST, "modem", 0)]
    east = _group(board, EAST, "no_signal")
    assert [i["id"] for i in east["items"]] == [waiting, sent]  # unassigned first
    first, second = east["items"]
    assert first["unassigned"] is True and first["team"] is None
    assert second["unassigned"] is False and second["team"]["code"] == "repair_team_1"
    for item in first, second:
        assert item["deadline"]["clock"] in ("response", "resolution")
        assert item["deadline"]["sla"] in ("ok", "warning", "breached")
        assert isinstance(item["deadline"]["seconds_left"], float)
    assert _group(board, WEST, "modem")["items"][0]["id"] == west
    assert {t["code"] for t in board["teams"]} >= {"repair_team_1", "repair_team_2"}


def test_the_sla_colour_follows_the_deadline(desk):
    start = desk.at(datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc))
    ticket_id = desk.work_order(EAST)
    item = desk.get("dispatcher", "/dispatch/board").get_json()["groups"][0]["items"][0]
    assert item["deadline"]["sla"] == "ok"
    due = datetime.fromisoformat(item["deadline"]["due_at"])
    clock.freeze(due + timedelta(minutes=5))
    late = desk.get("dispatcher", "/dispatch/board").get_json()["groups"][0]["items"][0]
    assert late["id"] == ticket_id and late["deadline"]["sla"] == "breached"
    assert late["deadline"]["seconds_left"] < 0
    assert start < due


def test_board_limit_reads_unassigned_first(desk):
    ids = [desk.work_order(EAST) for _ in range(3)]
    desk.dispatch("dispatcher", ids[0], "repair_team_1")
    board = desk.get("dispatcher", "/dispatch/board", query_string={"limit": 2}).get_json()
    shown = [i["id"] for g in board["groups"] for i in g["items"]]
    assert sorted(shown) == sorted(ids[1:]) and board["truncated"] is True
    assert board["total"] == 3 and board["shown"] == 2
    bad = desk.get("dispatcher", "/dispatch/board", query_string={"limit": 0})
    assert bad.status_code == 400 and "limit" in bad.get_json()["fields"]


def test_assign_to_a_team_and_one_of_its_technicians_then_reassign(desk):
    ticket_id = desk.work_order(EAST)
    response = desk.dispatch("dispatcher", ticket_id, "repair_team_1", "tech1")
    assert response.status_code == 200, response.get_json()
    ticket = desk.ticket(ticket_id)
    assert ticket.state == "repair_dispatched"
    assert ticket.department_id == desk.department_id("repair_team_1")
    assert ticket.assignee_id == desk.user("tech1").id
    # Reassign to the other team and its technician: the same one event.
    response = desk.dispatch("dispatcher", ticket_id, "repair_team_2", "tech2")
    assert response.status_code == 200, response.get_json()
    ticket = desk.ticket(ticket_id)
    assert (ticket.department_id, ticket.assignee_id) == (
        desk.department_id("repair_team_2"), desk.user("tech2").id)
    # A team alone: nobody in particular.
    assert desk.dispatch("dispatcher", ticket_id, "repair_team_1").status_code == 200
    assert desk.ticket(ticket_id).assignee_id is None


def test_a_technician_of_another_team_is_refused_and_nothing_changes(desk):
    ticket_id = desk.work_order(EAST)
    before = desk.ticket(ticket_id)
    response = desk.dispatch("dispatcher", ticket_id, "repair_team_1", "tech2")
    assert response.status_code == 400
    assert "not a member of the chosen team" in response.get_json()["fields"]["assignee_id"][0]
    after = desk.ticket(ticket_id)
    assert (after.state, after.version, after.assignee_id, after.department_id) == (
        before.state, before.version, before.assignee_id, before.department_id)


def test_only_a_field_team_can_be_sent_a_work_order(desk):
    ticket_id = desk.work_order(EAST)
    response = desk.dispatch("dispatcher", ticket_id, "operations")
    assert response.status_code == 400
    assert "not a field team" in response.get_json()["fields"]["department_id"][0]
    assert desk.ticket(ticket_id).state == "repair_ordered"


def test_only_dispatchers_assign(desk):
    ticket_id = desk.work_order(EAST)
    # 403 to who sees the work order; 404 to who may not even see it (a team's staff).
    for who, status in (("agent", 403), ("supervisor", 403), ("tech1", 404),
                        ("team1_head", 404), ("ops_staff", 404)):
        response = desk.dispatch(who, ticket_id, "repair_team_1")
        assert response.status_code == status, (who, response.status_code)
    assert desk.ticket(ticket_id).state == "repair_ordered"
    assert desk.dispatch("admin", ticket_id, "repair_team_1").status_code == 200


def test_board_and_teams_need_dispatch_board(desk):
    desk.work_order(EAST)
    for who, status in (("dispatcher", 200), ("admin", 200), ("agent", 403), ("tech1", 403),
                        ("supervisor", 403)):
        assert desk.get(who, "/dispatch/board").status_code == status, who
        assert desk.get(who, "/dispatch/teams").status_code == status, who
    assert desk.client.get("/api/v1/dispatch/board").status_code == 401


def test_the_board_page_assigns_and_comes_back(desk, client):
    ticket_id = desk.work_order(EAST)
    number = desk.ticket(ticket_id).number
    version = desk.ticket(ticket_id).version
    tech = desk.user("tech1")
    desk.login("dispatcher")
    page = client.get("/dispatch")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and number in html and EAST in html
    assert f'/tickets/{ticket_id}/events/dispatch' in html
    response = client.post(f"/tickets/{ticket_id}/events/dispatch", data={
        "version": version, "department_id": desk.department_id("repair_team_1"),
        "assignee_id": tech.id, "next": "/dispatch"})
    assert response.status_code == 302 and response.location.endswith("/dispatch")
    assert desk.ticket(ticket_id).assignee_id == tech.id
    # Back on the board, its row's form holds the team and technician it now has.
    html = client.get("/dispatch").get_data(as_text=True)
    row = html[html.index(f'id="team-{ticket_id}"'):]
    row = row[:row.index("</form>")]
    team_id = desk.department_id("repair_team_1")
    assert f'<option value="{team_id}" selected>' in row
    assert row.count(" selected") == 2
    assert f'<option value="{tech.id}" selected data-department="{team_id}">' in row
    # A technician of another team: the ticket page says why, nothing changed.
    response = client.post(f"/tickets/{ticket_id}/events/dispatch", data={
        "version": desk.ticket(ticket_id).version,
        "department_id": desk.department_id("repair_team_1"),
        "assignee_id": desk.user("tech2").id, "next": "/dispatch"})
    assert response.status_code == 400
    assert "not a member of the chosen team" in response.get_data(as_text=True)
    assert desk.ticket(ticket_id).assignee_id == tech.id
    # Somewhere else than this site: back home instead.
    response = client.post(f"/tickets/{ticket_id}/events/dispatch", data={
        "version": desk.ticket(ticket_id).version,
        "department_id": desk.department_id("repair_team_2"), "next": "//evil.example"})
    assert response.status_code == 302 and "evil" not in response.location


def test_the_board_page_shows_no_assign_form_without_the_dispatch_event(desk, client,
                                                                        make_user):
    from ticketing.auth.models import Role
    desk.work_order(EAST)
    with desk.app.app_context():
        role = Role(name="board_watcher", label="看板", label_en="Board watcher")
        role.set_permissions(["dispatch.board", "tickets.view"])
        db.session.add(role)
        db.session.commit()
    make_user("board_watcher", "dispatch", username="watcher")
    client.post("/login", data={"username": "watcher", "password": "correct-horse-9"})
    html = client.get("/dispatch").get_data(as_text=True)
    assert "东城区" in html and "/events/dispatch" not in html


def test_the_board_reads_work_orders_through_its_index(desk, is_postgres):
    if is_postgres:
        return  # SQLite's planner is the one asked here; PostgreSQL: bench/dispatch_bench.py
    from sqlalchemy.dialects import sqlite
    from ticketing.customers.models import Customer
    from ticketing.dispatch.queries import _COLUMNS
    from ticketing.tickets.models import Ticket
    from sqlalchemy import select
    with desk.app.app_context():
        query = (select(*_COLUMNS).outerjoin(Customer, Customer.id == Ticket.customer_id)
                 .where(Ticket.state == "repair_ordered").order_by(Ticket.created_at, Ticket.id)
                 .limit(300))
        sql = str(query.compile(dialect=sqlite.dialect(),
                                compile_kwargs={"literal_binds": True}))
        plan = " | ".join(row[-1] for row in db.session.execute(
            text("EXPLAIN QUERY PLAN " + sql)))
    assert "USING INDEX ix_tickets_state_created (state=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order


def test_the_boards_fast_json_is_exactly_what_its_schema_documents(desk, app):
    """board_json skips marshmallow for speed: it must say what BoardSchema says."""
    from flask_login import login_user

    from ticketing.auth.models import User
    from ticketing.dispatch.operations import set_team_areas
    from ticketing.dispatch.queries import board
    from ticketing.dispatch.schemas import BoardSchema, board_json
    desk.at(datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc))
    sent = desk.work_order(EAST)
    desk.work_order(WEST, "modem")
    desk.work_order("", "other")  # no area
    desk.dispatch("dispatcher", sent, "repair_team_1", "tech1")
    desk.user("tech2")
    with app.test_request_context():
        from ticketing.auth.models import Department
        login_user(db.session.get(User, desk.user("dispatcher").id))
        set_team_areas(db.session.get(Department, desk.department_id("repair_team_1")), ["东城区"])
        data = board()
        assert board_json(data) == BoardSchema().dump(data)
        db.session.rollback()
