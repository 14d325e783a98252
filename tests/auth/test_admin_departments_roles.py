"""Admin pages for departments and new roles, the user form's errors in one round, and the
language switch in the header."""
import pytest
from sqlalchemy import select

from ticketing.auth.models import Department, Role, User
from ticketing.extensions import db


@pytest.fixture
def admin(client, auth, make_user):
    make_user("admin", "management", username="boss", locale="en")
    assert auth.login("boss").status_code == 302
    return client


def test_an_admin_creates_a_field_team_that_dispatch_then_offers(app, admin, make_user):
    page = admin.get("/admin/departments")
    assert page.status_code == 200 and "Repair team 1" in page.get_data(True)

    response = admin.post("/admin/departments/new", data={
        "code": "repair_team_3", "name": "维修三队", "name_en": "Repair team 3",
        "kind": "repair_team", "active": "y"})

    assert response.status_code == 302
    with app.app_context():
        team = db.session.scalar(select(Department).where(Department.code == "repair_team_3"))
        assert (team.name, team.kind, team.active) == ("维修三队", "repair_team", True)
        from ticketing.tickets.forms import _department_choices
        with app.test_request_context():
            offered = [c.label for c in _department_choices(field_teams=True)]
    assert "维修三队" in offered and "维修部" not in offered and "运营部" not in offered


def test_a_department_form_shows_every_error_at_once_and_keeps_codes_permanent(app, admin):
    response = admin.post("/admin/departments/new", data={
        "code": "Bad Code", "name": "", "kind": "nonsense"})
    html = response.get_data(True)
    assert response.status_code == 400
    assert "lower-case letters" in html and "This field is required." in html
    assert "Not a valid choice." in html

    with app.app_context():
        ops_id = db.session.scalar(select(Department.id).where(Department.code == "operations"))
    saved = admin.post(f"/admin/departments/{ops_id}", data={
        "code": "hacked", "name": "运营一部", "name_en": "Operations 1", "kind": "operations",
        "active": "y"})
    assert saved.status_code == 302
    with app.app_context():
        row = db.session.get(Department, ops_id)
        assert (row.code, row.name) == ("operations", "运营一部")


def test_an_admin_creates_a_role_with_permission_checkboxes(app, admin):
    page = admin.get("/admin/roles").get_data(True)
    assert 'href="/admin/roles/new"' in page
    form = admin.get("/admin/roles/new").get_data(True)
    assert 'type="checkbox" name="permissions" value="tickets.view"' in form

    response = admin.post("/admin/roles/new", data={
        "name": "auditor", "label": "质检员", "label_en": "Auditor",
        "permissions": ["tickets.view", "customers.view"]})

    assert response.status_code == 302
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "auditor"))
        assert role.permissions == {"tickets.view", "customers.view"}
    again = admin.post("/admin/roles/new", data={"name": "auditor", "label": "",
                                                "permissions": ["no.such"]})
    html = again.get_data(True)
    assert again.status_code == 400
    assert "This code is taken." in html and "Unknown permission: no.such" in html


def test_the_user_form_shows_every_error_in_one_round(app, admin):
    response = admin.post("/admin/users/new", data={
        "username": "", "password": "short", "roles": [], "department": "nowhere",
        "locale": "zh", "full_name": "x" * 101})
    html = response.get_data(True)
    assert response.status_code == 400
    # The form's own checks and the operation's, together.
    for message in ("This field is required.", "at least 8 characters",
                    "at least one role", "Unknown department: nowhere",
                    "Field cannot be longer than 100 characters."):
        assert message in html, message
    assert 'type="checkbox"' in html  # roles are checkboxes, not a Ctrl-click list
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "")) is None


def test_the_language_switch_in_the_header_saves_the_choice(app, admin):
    page = admin.get("/tickets").get_data(True)
    assert 'action="/preferences/language"' in page and 'value="zh"' in page

    response = admin.post("/preferences/language", data={"locale": "zh", "next": "/tickets"})

    assert response.status_code == 302 and response.headers["Location"] == "/tickets"
    assert "工单" in admin.get("/tickets").get_data(True)
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.username == "boss")) == "zh"
    outside = admin.post("/preferences/language", data={"locale": "en",
                                                         "next": "https://evil.example/"})
    assert outside.headers["Location"] == "/"
