"""Who sees announcements (issue 17): current ones on the home page and under the header of
their departments only; withdrawn ones leave the pages and stay searchable; the management
page for users with announcements.manage."""
from datetime import datetime, timedelta, timezone

from ticketing.extensions import db

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def _published(board, **fields) -> dict:
    a = board.draft(**fields)
    response = board.post("supervisor", f"/announcements/{a['id']}/publish")
    assert response.status_code == 200
    return response.get_json()


def test_current_announcements_show_to_their_departments_only(board, client):
    board.at(NOW)
    agents = _published(board, title="坐席须知：话术更新", department_ids=[
        board.department_id("call_center")])
    everyone = _published(board, title="全员通知：系统升级")
    draft = board.draft(title="草稿不应出现")
    board.login("agent")
    home = client.get("/").get_data(as_text=True)
    assert "坐席须知：话术更新" in home and "全员通知：系统升级" in home
    assert "草稿不应出现" not in home
    assert "class=\"announcement-strip\"" in home
    other = client.get("/tickets").get_data(as_text=True)  # the header: every page
    assert "坐席须知：话术更新" in other and "announcement-strip" in other
    # The author, the time and the department are shown with the content.
    assert "今晚22点系统升级" in home and "supervisor" in home and "Call center" in home
    board.login("staff")
    home = client.get("/").get_data(as_text=True)
    assert "全员通知：系统升级" in home and "坐席须知：话术更新" not in home
    # The API agrees: staff may not read the agents' announcement.
    assert board.get("staff", f"/announcements/{agents['id']}").status_code == 404
    assert board.get("agent", f"/announcements/{agents['id']}").status_code == 200
    assert board.get("agent", f"/announcements/{draft['id']}").status_code == 404
    listed = [a["id"] for a in board.get("staff", "/announcements").get_json()]
    assert listed == [everyone["id"]]


def test_withdrawn_leaves_the_pages_and_stays_searchable(board, client):
    board.at(NOW)
    a = _published(board, title="停电检修通知", body="朝阳区周六停电检修")
    assert board.post("supervisor", f"/announcements/{a['id']}/withdraw").status_code == 200
    board.login("agent")
    assert "停电检修通知" not in client.get("/").get_data(as_text=True)
    found = board.get("agent", "/announcements", query_string={"state": "revoked",
                                                               "q": "停电"}).get_json()
    assert [x["id"] for x in found] == [a["id"]] and found[0]["state"] == "revoked"
    assert board.get("agent", "/announcements", query_string={"q": "无此词"}).get_json() == []
    page = client.get("/announcements?state=revoked&q=停电").get_data(as_text=True)
    assert "停电检修通知" in page


def test_a_scheduled_announcement_appears_when_the_sweep_publishes_it(board, client):
    board.at(NOW)
    a = board.draft(title="定时公告")
    at = NOW + timedelta(hours=1)
    assert board.post("supervisor", f"/announcements/{a['id']}/schedule",
                      {"publish_at": at.isoformat()}).status_code == 200
    board.login("agent")
    assert "定时公告" not in client.get("/").get_data(as_text=True)
    board.at(at + timedelta(minutes=1))
    board.sweep()
    assert "定时公告" in client.get("/").get_data(as_text=True)


def test_the_management_page_creates_edits_schedules_and_publishes(board, client):
    board.at(NOW)
    board.login("supervisor")
    assert client.get("/announcements/new").status_code == 200
    response = client.post("/announcements/new", data={
        "title": "页面公告", "body": "页面正文", "departments": [
            str(board.department_id("call_center"))]})
    assert response.status_code == 302
    path = response.location.split("localhost")[-1]
    page = client.get(path).get_data(as_text=True)
    assert "页面公告" in page and "Publish now" in page and "Schedule" in page
    announcement_id = int(path.rstrip("/").split("/")[-1])
    version = board.state(announcement_id)["version"]
    response = client.post(f"/announcements/{announcement_id}/edit", data={
        "title": "页面公告（改）", "body": "页面正文", "version": version,
        "departments": [str(board.department_id("call_center"))]})
    assert response.status_code == 302
    assert board.state(announcement_id)["title"] == "页面公告（改）"
    # A time in the past: refused on the form, nothing changed.
    version = board.state(announcement_id)["version"]
    response = client.post(f"/announcements/{announcement_id}/schedule", data={
        "publish_at": "2020-01-01T09:00", "version": version})
    assert response.status_code == 400 and "must be in the future" in response.get_data(
        as_text=True)
    response = client.post(f"/announcements/{announcement_id}/schedule", data={
        "publish_at": "2026-03-02T18:00", "version": version})  # Shanghai time
    assert response.status_code == 302
    after = board.state(announcement_id)
    assert after["state"] == "scheduled" and after["publish_at"].startswith("2026-03-02T10:00")
    response = client.post(f"/announcements/{announcement_id}/actions/publish",
                           data={"version": after["version"]})
    assert response.status_code == 302 and board.state(announcement_id)["state"] == "current"
    # Publishing again: refused with the reason, nothing changed.
    response = client.post(f"/announcements/{announcement_id}/actions/publish",
                           data={"version": board.state(announcement_id)["version"]})
    assert response.status_code == 409 and "is not possible" in response.get_data(as_text=True)
    assert client.post(f"/announcements/{announcement_id}/actions/explode",
                       data={}).status_code == 404
    listing = client.get("/announcements?state=current").get_data(as_text=True)
    assert "页面公告（改）" in listing


def test_who_may_manage_announcements(board, client):
    board.at(NOW)
    a = board.draft()
    for who, status in (("supervisor", 201), ("admin", 201), ("agent", 403), ("staff", 403),
                        ("dispatcher", 403)):
        response = board.post(who, "/announcements", {"title": "t", "body": "b"})
        assert response.status_code == status, who
        for action in ("publish", "cancel", "withdraw", "archive"):
            if status == 403:
                assert board.post(who, f"/announcements/{a['id']}/{action}") \
                    .status_code == 403
    assert board.state(a["id"])["state"] == "draft"
    board.login("agent")
    assert client.get("/announcements/new").status_code == 403
    assert client.post(f"/announcements/{a['id']}/actions/publish", data={}).status_code == 403
    assert client.get("/announcements").status_code == 200  # reading: yes
    assert client.get(f"/announcements/{a['id']}").status_code == 404  # a draft: not theirs


def test_someone_without_a_department_sees_only_announcements_for_everyone(board, client):
    board.at(NOW)
    _published(board, title="只给坐席", department_ids=[board.department_id("call_center")])
    _published(board, title="给所有人")
    board.login("nobody")
    home = client.get("/").get_data(as_text=True)
    assert "给所有人" in home and "只给坐席" not in home
    with board.app.app_context():
        db.session.remove()
