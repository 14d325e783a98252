"""Pages and API of the timers area, driven over HTTP: SLA policies and calendars (sla.manage),
the escalation queue (escalations.view), the user's notifications, the ticket page's deadline
card, GET /api/v1/tickets/<id>/clocks and GET /api/v1/notifications."""
import pytest
from sqlalchemy import func, select

from ticketing.extensions import db
from ticketing.timers.models import Calendar, CalendarDay, Notification, SlaPolicy
from ticketing.timers.operations import ALWAYS_OPEN, OFFICE_HOURS


@pytest.fixture
def admin(make_user, auth):
    user = make_user("admin", "management", locale="en")
    auth.login(user.username)
    return user


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _calendar_id(app, name=OFFICE_HOURS):
    with app.app_context():
        return db.session.scalar(select(Calendar.id).where(Calendar.name == name))


def _policy_form(app, **overrides):
    return {"name": "Consult urgent", "kind": "consult", "priority": "urgent",
            "customer_tier": "", "response_minutes": "10", "resolution_minutes": "240",
            "complaint_limit_minutes": "", "warn_before_minutes": "5",
            "level2_after_minutes": "30", "level3_after_minutes": "120",
            "calendar_id": str(_calendar_id(app)), "active": "y", **overrides}


@pytest.mark.parametrize("path", ["/sla/policies", "/sla/policies/new", "/sla/calendars",
                                  "/sla/calendars/new"])
def test_sla_admin_pages_need_sla_manage(client, auth, make_user, path):
    supervisor = make_user("supervisor", "supervision")
    auth.login(supervisor.username)
    assert client.get(path).status_code == 403


def test_default_policies_and_calendars_are_listed(client, admin):
    policies = client.get("/sla/policies").get_data(as_text=True)
    assert "报修（VIP）" in policies and ALWAYS_OPEN in policies
    calendars = client.get("/sla/calendars").get_data(as_text=True)
    assert OFFICE_HOURS in calendars and "09:00-18:00" in calendars


def test_admin_creates_and_edits_a_policy(app, client, admin):
    response = client.post("/sla/policies/new", data=_policy_form(app))
    assert response.status_code == 302
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == "Consult urgent"))
        assert (policy.kind, policy.priority, policy.customer_tier, policy.scope) == (
            "consult", "urgent", None, "consult|urgent|*")
        policy_id = policy.id
    page = client.get(f"/sla/policies/{policy_id}/edit").get_data(as_text=True)
    assert 'value="10"' in page
    response = client.post(f"/sla/policies/{policy_id}/edit",
                           data=_policy_form(app, response_minutes="20"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(SlaPolicy, policy_id).response_minutes == 20


@pytest.mark.parametrize("overrides, field", [
    ({"level3_after_minutes": "30"}, "Level 3 must come after level 2"),
    ({"kind": "repair", "priority": ""}, "Another policy already covers"),
    ({"response_minutes": "0"}, "Number must be"),
    ({"kind": "bogus"}, "Not a valid choice"),
])
def test_an_invalid_policy_is_refused_with_the_reason(app, client, admin, overrides, field):
    before = _count(app, SlaPolicy)
    response = client.post("/sla/policies/new", data=_policy_form(app, **overrides))
    assert response.status_code == 400
    assert field in response.get_data(as_text=True)
    assert _count(app, SlaPolicy) == before


def test_admin_creates_a_calendar_with_hours_and_a_holiday(app, client, admin):
    form = {"name": "Hotline", "timezone": "Asia/Shanghai", "china_holidays": "y",
            "day0": "08:00-12:00, 13:00-20:00", "day1": "08:00-20:00", "day2": "",
            "day3": "", "day4": "", "day5": "10:00-16:00", "day6": ""}
    response = client.post("/sla/calendars/new", data=form)
    assert response.status_code == 302
    calendar_id = _calendar_id(app, "Hotline")
    with app.app_context():
        calendar = db.session.get(Calendar, calendar_id)
        assert calendar.weekly_hours == {"0": [["08:00", "12:00"], ["13:00", "20:00"]],
                                         "1": [["08:00", "20:00"]], "5": [["10:00", "16:00"]]}
    response = client.post(f"/sla/calendars/{calendar_id}/days",
                           data={"day": "2026-03-09", "kind": "holiday", "note": "台风"})
    assert response.status_code == 302
    page = client.get(f"/sla/calendars/{calendar_id}").get_data(as_text=True)
    assert "2026-03-09" in page and "台风" in page
    with app.app_context():
        day_id = db.session.scalar(select(CalendarDay.id))
    assert client.post(f"/sla/calendars/{calendar_id}/days/{day_id}/delete").status_code == 302
    assert _count(app, CalendarDay) == 0


@pytest.mark.parametrize("overrides, message", [
    ({"day0": "18:00-09:00"}, "Write hours like"),
    ({"day0": "nine to five"}, "Write hours like"),
    ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
    ({"day0": ""}, "at least one weekday"),
    ({"name": ALWAYS_OPEN}, "Another calendar has this name"),
])
def test_an_invalid_calendar_is_refused(app, client, admin, overrides, message):
    form = {"name": "Bad", "timezone": "Asia/Shanghai", "day0": "09:00-18:00", **overrides}
    response = client.post("/sla/calendars/new", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _calendar_id(app, "Bad") is None


def test_escalations_page_lists_escalated_running_clocks_by_level(app, client, auth, desk, sh,
                                                                  make_user):
    desk.at(sh(2026, 3, 2, 10, 0))
    late = desk.open("repair")  # response due 11:00, level 2 at 12:00
    quiet = desk.open("consult")
    desk.fire(quiet, "transfer", department_id=desk.department_id("repair"))  # in time
    desk.at(sh(2026, 3, 2, 12, 45))
    later = desk.open("repair")  # response due 13:45
    desk.at(sh(2026, 3, 2, 13, 50))
    desk.sweep()
    dispatcher = make_user("dispatcher", "dispatch")
    auth.login(dispatcher.username)
    page = client.get("/escalations").get_data(as_text=True)
    numbers = {tid: desk_number(app, tid) for tid in (late, later, quiet)}
    assert numbers[late] in page and numbers[later] in page
    assert numbers[quiet] not in page
    assert page.index(numbers[late]) < page.index(numbers[later])  # level 2 before level 1
    home = client.get("/").get_data(as_text=True)
    assert "Escalated tickets" in home and numbers[late] in home
    staff = make_user("staff", "operations")
    auth.logout()
    auth.login(staff.username)
    assert client.get("/escalations").status_code == 403


def desk_number(app, ticket_id):
    from ticketing.tickets.models import Ticket
    with app.app_context():
        return db.session.get(Ticket, ticket_id).number


def test_notifications_page_and_mark_as_read(app, client, auth, desk, sh, make_user):
    dispatcher = make_user("dispatcher", "dispatch", locale="en")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair")
    desk.advance(minutes=46)
    desk.sweep()
    desk.advance(minutes=15)
    desk.sweep()
    auth.login(dispatcher.username)
    page = client.get("/notifications").get_data(as_text=True)
    number = desk_number(app, ticket)
    assert f"Ticket {number}: the Response deadline is near." in page
    assert "escalated to level 1" in page
    home = client.get("/").get_data(as_text=True)
    assert "Unread notifications" in home
    with app.app_context():
        first = db.session.scalar(select(Notification.id).where(
            Notification.user_id == dispatcher.id).order_by(Notification.id))
    assert client.post("/notifications/read", data={"id": str(first)}).status_code == 302
    assert _count(app, Notification, Notification.user_id == dispatcher.id,
                  Notification.read_at.is_(None)) == 1
    client.post("/notifications/read", data={})
    assert _count(app, Notification, Notification.read_at.is_(None)) == 0
    assert "Mark as read" not in client.get("/notifications").get_data(as_text=True)


def test_a_user_cannot_mark_someone_elses_notifications(app, client, auth, desk, sh,
                                                        make_user):
    dispatcher = make_user("dispatcher", "dispatch")
    other = make_user("agent", "call_center")
    desk.at(sh(2026, 3, 2, 10, 0))
    desk.open("repair")
    desk.advance(minutes=61)
    desk.sweep()
    auth.logout()
    auth.login(other.username)
    with app.app_context():
        ids = db.session.scalars(select(Notification.id)).all()
    client.post("/notifications/read", data={"id": [str(i) for i in ids]})
    assert _count(app, Notification, Notification.user_id == dispatcher.id,
                  Notification.read_at.is_(None)) == len(ids)


def test_ticket_page_shows_each_clock(app, client, auth, desk, sh, make_user):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair")
    desk.advance(minutes=61)
    desk.sweep()
    agent = make_user("agent", "call_center", locale="en")
    auth.login(agent.username)
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert "Deadlines (SLA)" in page
    assert "Response" in page and "Resolution" in page
    assert "Breached" in page and "Level 1: assignee and department" in page
    assert "61 / 60" in page


def test_clocks_api(app, client, desk, sh, as_role):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("consult")
    desk.advance(minutes=10)
    desk.fire(ticket, "suspend", reason="等待")
    _, agent = as_role("agent", "call_center")
    response = client.get(f"/api/v1/tickets/{ticket}/clocks", headers=agent)
    assert response.status_code == 200
    clocks = {c["clock"]: c for c in response.get_json()}
    assert clocks["response"]["status"] == "stopped"
    assert clocks["response"]["business_minutes_used"] == 10
    assert clocks["resolution"]["status"] == "paused"
    assert clocks["resolution"]["policy"] == "咨询"
    assert clocks["resolution"]["due_at"].startswith("2026-03-03T02:00:00")
    _, outsider = as_role("staff", "repair_team_1")  # another department's ticket
    assert client.get(f"/api/v1/tickets/{ticket}/clocks", headers=outsider).status_code == 404
    missing = client.get("/api/v1/tickets/999999/clocks", headers=agent)
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert client.get(f"/api/v1/tickets/{ticket}/clocks").status_code == 401


def test_notifications_api(app, client, desk, sh, as_role):
    user, headers = as_role("dispatcher", "dispatch")
    desk.at(sh(2026, 3, 2, 10, 0))
    desk.open("repair")
    desk.advance(minutes=46)
    desk.sweep()
    desk.advance(minutes=15)
    desk.sweep()
    body = client.get("/api/v1/notifications?unread=true", headers=headers).get_json()
    assert [n["kind"] for n in body] == ["sla_escalation", "sla_warning"]
    assert body[0]["data"]["level"] == 1 and body[0]["read_at"] is None
    marked = client.post("/api/v1/notifications/read", json={"ids": [body[1]["id"]]},
                         headers=headers)
    assert marked.status_code == 200 and marked.get_json() == {"marked": 1}
    assert len(client.get("/api/v1/notifications?unread=1", headers=headers).get_json()) == 1
    bad = client.get("/api/v1/notifications?limit=0", headers=headers)
    assert bad.status_code == 400 and "limit" in bad.get_json()["fields"]


def test_openapi_describes_the_timer_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/tickets/{ticket_id}/clocks" in paths
    assert "/api/v1/notifications" in paths


def test_a_department_head_sees_only_their_departments_escalations(app, client, auth, desk, sh,
                                                                   make_user):
    """escalations.view without tickets.all_departments: the queue (and the home panel) keep
    to the head's department, though other departments' tickets are escalated too."""
    desk.at(sh(2026, 3, 2, 10, 0))
    ours = desk.open("consult")  # starts in operations
    theirs = desk.open("repair")  # starts in dispatch
    desk.at(sh(2026, 3, 4, 10, 0))
    desk.sweep()
    numbers = {tid: desk_number(app, tid) for tid in (ours, theirs)}
    dispatcher = make_user("dispatcher", "dispatch")
    auth.login(dispatcher.username)
    page = client.get("/escalations").get_data(as_text=True)
    assert numbers[ours] in page and numbers[theirs] in page  # both are escalated
    auth.logout()
    head = make_user("department_head", "operations")
    auth.login(head.username)
    response = client.get("/escalations")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert numbers[ours] in page
    assert numbers[theirs] not in page
    home = client.get("/").get_data(as_text=True)
    assert numbers[ours] in home and numbers[theirs] not in home
