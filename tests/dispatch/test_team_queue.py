"""A field team's queue (issue 17): its work orders with time left, and the workflow's take,
accept and report_repaired events offered on them; the field teams' admin page."""
from ticketing.extensions import db

EAST = "东城区和平里街道"


def _sent(desk, technician=None, team="repair_team_1"):
    ticket_id = desk.work_order(EAST)
    assert desk.dispatch("dispatcher", ticket_id, team, technician).status_code == 200
    return ticket_id


def test_the_team_queue_lists_its_work_orders_with_the_actions_allowed(desk):
    mine = _sent(desk, "tech1")
    team = _sent(desk)
    other = _sent(desk, team="repair_team_2")
    response = desk.get("tech1", "/dispatch/queue")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["team"]["code"] == "repair_team_1"
    items = {i["ticket"]["id"]: i for i in body["items"]}
    assert set(items) == {mine, team} and other not in items
    assert items[mine]["events"] == ["accept"]  # already theirs: nothing to take
    assert items[team]["events"] == ["take", "accept"]
    assert items[mine]["deadline"]["sla"] in ("ok", "warning", "breached")
    assert items[mine]["assignee"]["username"] == "tech1"


def test_accept_work_and_report_repaired_from_the_queue_page(desk, client):
    ticket_id = _sent(desk)
    number = desk.ticket(ticket_id).number
    desk.login("tech1")
    html = client.get("/dispatch/queue").get_data(as_text=True)
    assert number in html and f"/tickets/{ticket_id}/events/take" in html
    for event in ("take", "accept"):
        response = client.post(f"/tickets/{ticket_id}/events/{event}", data={
            "version": desk.ticket(ticket_id).version, "next": "/dispatch/queue"})
        assert response.status_code == 302 and response.location.endswith("/dispatch/queue")
    ticket = desk.ticket(ticket_id)
    assert ticket.state == "repair_working" and ticket.assignee_id == desk.user("tech1").id
    html = client.get("/dispatch/queue").get_data(as_text=True)
    assert f"/tickets/{ticket_id}/events/report_repaired" in html
    # The repair report is required: refused without it, nothing changed.
    response = client.post(f"/tickets/{ticket_id}/events/report_repaired", data={
        "version": ticket.version, "note": "", "next": "/dispatch/queue"})
    assert response.status_code == 400 and desk.ticket(ticket_id).state == "repair_working"
    response = client.post(f"/tickets/{ticket_id}/events/report_repaired", data={
        "version": ticket.version, "note": "更换分配器后信号恢复", "next": "/dispatch/queue"})
    assert response.status_code == 302
    ticket = desk.ticket(ticket_id)
    assert ticket.state == "repair_repaired" and ticket.handling_note == "更换分配器后信号恢复"
    assert number not in client.get("/dispatch/queue").get_data(as_text=True)


def test_the_queue_through_the_api_transitions(desk):
    ticket_id = _sent(desk)
    assert desk.fire("tech1b", ticket_id, "take").status_code == 200
    # Taken by tech1b: the other member can no longer take it.
    refused = desk.fire("tech1", ticket_id, "take")
    assert refused.status_code == 409 and refused.get_json()["error"] == "guard_refused"
    assert desk.fire("tech1b", ticket_id, "accept").status_code == 200
    assert desk.fire("tech1b", ticket_id, "report_repaired", note="已修复").status_code == 200
    assert desk.ticket(ticket_id).state == "repair_repaired"


def test_a_team_never_sees_another_teams_work_orders(desk):
    other = _sent(desk, "tech2", team="repair_team_2")
    assert desk.fire("tech1", other, "accept").status_code == 404
    assert desk.ticket(other).state == "repair_dispatched"


def test_queue_permissions_and_people_outside_a_field_team(desk, client):
    _sent(desk)
    for who, status in (("tech1", 200), ("team1_head", 200), ("ops_staff", 200),
                        ("dispatcher", 403), ("agent", 403), ("supervisor", 403)):
        assert desk.get(who, "/dispatch/queue").status_code == status, who
    body = desk.get("ops_staff", "/dispatch/queue").get_json()
    assert body == {"team": None, "items": []}
    desk.login("ops_staff")
    assert "not a member of a field team" in client.get("/dispatch/queue").get_data(
        as_text=True)
    # The menu offers the queue to the team's members only.
    queue_link = 'href="/dispatch/queue"'
    assert queue_link not in client.get("/").get_data(as_text=True)
    desk.login("tech1")
    assert queue_link in client.get("/").get_data(as_text=True)


def test_home_page_shows_the_team_its_work_orders(desk, client):
    ticket_id = _sent(desk)
    desk.login("tech1")
    html = client.get("/").get_data(as_text=True)
    assert "My team&#39;s work orders" in html or "My team's work orders" in html
    assert desk.ticket(ticket_id).number in html


def test_admin_sets_the_areas_a_team_serves_and_the_board_names_it(desk, client):
    team_id = desk.department_id("repair_team_1")
    desk.work_order(EAST)
    desk.login("admin")
    page = client.get("/dispatch/teams")
    assert page.status_code == 200 and "Repair team 1" in page.get_data(as_text=True)
    response = client.post(f"/dispatch/teams/{team_id}", data={"areas": "东城区，西城区\n东城区"})
    assert response.status_code == 302
    from ticketing.dispatch.operations import areas_of
    with desk.app.app_context():
        assert areas_of([team_id])[team_id] == ["东城区", "西城区"]
        db.session.remove()
    board = desk.get("dispatcher", "/dispatch/board").get_json()
    assert board["groups"][0]["serving_team_ids"] == [team_id]
    teams = {t["code"]: t for t in desk.get("dispatcher", "/dispatch/teams").get_json()}
    assert teams["repair_team_1"]["areas"] == ["东城区", "西城区"]
    assert "tech1" not in [m["username"] for m in teams["repair_team_2"]["members"]]
    # Too long an area: refused, nothing changed.
    response = client.post(f"/dispatch/teams/{team_id}", data={"areas": "区" * 101})
    assert response.status_code == 400
    with desk.app.app_context():
        assert areas_of([team_id])[team_id] == ["东城区", "西城区"]
        db.session.remove()
    # Not a field team: no such page.
    assert client.get(f"/dispatch/teams/{desk.department_id('operations')}").status_code == 404


def test_only_admins_manage_field_teams(desk, client):
    team_id = desk.department_id("repair_team_1")
    for who in ("dispatcher", "tech1", "supervisor"):
        desk.login(who)
        assert client.get("/dispatch/teams").status_code == 403, who
        assert client.post(f"/dispatch/teams/{team_id}", data={"areas": "x"}).status_code == 403
