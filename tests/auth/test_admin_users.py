"""The admin's user pages: creating and editing accounts; bad input shows form errors and
creates or changes nothing."""
import re

import pytest
from sqlalchemy import func, select

from ticketing.auth.models import User
from ticketing.extensions import db

PASSWORD = "correct-horse-9"
GOOD = {"username": "zhangwei", "full_name": "张伟", "password": PASSWORD,
        "department": "operations", "roles": ["staff"], "locale": "zh", "active": "y"}


@pytest.fixture
def admin(client, auth, make_user):
    make_user("admin", "management", username="boss", locale="en")
    assert auth.login("boss").status_code == 302
    return client


def _selected(html: str, value: str) -> bool:
    """An option is selected, or a checkbox (the roles) checked."""
    option = re.search(rf'<option (selected )?value="{value}"( selected)?>', html)
    if option:
        return option.group(1, 2) != (None, None)
    box = re.search(rf'<input (checked )?id="[^"]*" name="\w+" type="checkbox" '
                    rf'value="{value}"', html)
    return bool(box and box.group(1))


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def _load(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return user and {"full_name": user.full_name, "locale": user.locale,
                         "active": user.active, "roles": sorted(r.name for r in user.roles),
                         "department": user.department.code if user.department else None,
                         "password_ok": user.check_password(PASSWORD)}


def test_the_new_user_form_offers_departments_and_roles(admin):
    page = admin.get("/admin/users/new")
    assert page.status_code == 200
    html = page.get_data(True)
    for value in ("operations", "call_center", "agent", "department_head", "admin"):
        assert f'value="{value}"' in html


def test_an_admin_creates_a_user_who_can_then_log_in(app, admin):
    response = admin.post("/admin/users/new", data=GOOD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert _load(app, "zhangwei") == {"full_name": "张伟", "locale": "zh", "active": True,
                                      "roles": ["staff"], "department": "operations",
                                      "password_ok": True}
    listing = admin.get("/admin/users").get_data(True)
    assert "zhangwei" in listing and "张伟" in listing

    other = app.test_client()
    assert other.post("/login", data={"username": "zhangwei",
                                      "password": PASSWORD}).status_code == 302


BAD_NEW_USER = [
    ({"roles": ["wizard"]}, "roles", "Unknown role: wizard"),
    ({"roles": []}, "roles", "Give the user at least one role."),
    ({"password": "short"}, "password", "A password needs at least 8 characters."),
    ({"password": ""}, "password", "A password needs at least 8 characters."),
    ({"username": "boss"}, "username", "This username is taken."),
    ({"username": "bad name!"}, "username", "Use 1–60 letters, digits"),
    ({"username": ""}, "username", "This field is required."),
    ({"department": "atlantis"}, "department", "Unknown department: atlantis"),
]


def test_bad_input_on_the_new_user_form_shows_errors_and_creates_nobody(app, admin, subtests):
    before = _users(app)
    for change, field, message in BAD_NEW_USER:
        with subtests.test(field=field, change=change):
            response = admin.post("/admin/users/new", data={**GOOD, **change})
            assert response.status_code == 400
            html = response.get_data(True)
            assert message in html
            assert re.search(rf'<div class="field has-error">\s*<label for="{field}"', html)
            assert _users(app) == before
            assert _load(app, "zhangwei") is None
    assert _load(app, "boss")["roles"] == ["admin"], "the existing account is untouched"


def test_a_refused_form_keeps_what_was_typed_but_never_the_password(admin):
    html = admin.post("/admin/users/new", data={**GOOD, "roles": ["wizard"]}).get_data(True)
    assert 'value="zhangwei"' in html and 'value="张伟"' in html
    assert PASSWORD not in html


def test_an_admin_edits_a_users_name_department_roles_language_and_password(app, admin,
                                                                            make_user):
    user = make_user("agent", "call_center", username="liqiang")
    page = admin.get(f"/admin/users/{user.id}")
    assert page.status_code == 200
    html = page.get_data(True)
    assert _selected(html, "call_center") and _selected(html, "agent")
    assert not _selected(html, "dispatcher")

    response = admin.post(f"/admin/users/{user.id}", data={
        "full_name": "李强", "department": "dispatch", "roles": ["dispatcher", "agent"],
        "locale": "en", "active": "y", "password": "a-new-password-1",
        "username": "renamed"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(User, user.id)
        assert row.username == "liqiang", "usernames are permanent"
        assert row.full_name == "李强" and row.locale == "en" and row.active
        assert row.department.code == "dispatch"
        assert sorted(r.name for r in row.roles) == ["agent", "dispatcher"]
        assert row.check_password("a-new-password-1")


def test_editing_a_user_without_a_password_keeps_the_old_one(app, admin, make_user):
    user = make_user("agent", "call_center", username="liqiang")
    response = admin.post(f"/admin/users/{user.id}", data={
        "full_name": "李强", "department": "", "roles": ["agent"], "locale": "zh",
        "active": "y", "password": ""})
    assert response.status_code == 302
    assert _load(app, "liqiang")["password_ok"] is True
    assert _load(app, "liqiang")["department"] is None


def test_a_refused_user_edit_changes_nothing(app, admin, make_user, subtests):
    user = make_user("agent", "call_center", username="liqiang", full_name="李强")
    before = _load(app, "liqiang")
    for change, message in [({"roles": ["wizard"]}, "Choose one or more existing roles."),
                            ({"roles": []}, "Choose one or more existing roles."),
                            ({"password": "short"}, "A password needs at least 8 characters."),
                            ({"department": "atlantis"}, "Unknown department: atlantis")]:
        with subtests.test(change=change):
            response = admin.post(f"/admin/users/{user.id}", data={
                "full_name": "别的名字", "department": "operations", "roles": ["staff"],
                "locale": "en", "active": "", **change})
            assert response.status_code == 400
            assert message in response.get_data(True)
            assert _load(app, "liqiang") == before


def test_editing_an_unknown_user_is_404(admin):
    assert admin.get("/admin/users/99999").status_code == 404
    assert admin.post("/admin/users/99999", data=GOOD).status_code == 404
