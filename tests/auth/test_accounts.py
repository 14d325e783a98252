from sqlalchemy import select

from ticketing.auth.models import Role, User
from ticketing.extensions import db


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"password" in response.data.lower()


def test_login_then_home_shows_user(client, auth, make_user):
    user = make_user("agent", "call_center", full_name="李晓东")
    response = auth.login(user.username)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "李晓东".encode() in home.data


def test_wrong_password_is_refused_without_session(client, auth, make_user):
    user = make_user("agent")
    response = auth.login(user.username, "wrong-password")
    assert response.status_code == 401
    assert client.get("/").status_code == 302


def test_anonymous_home_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_passwords_are_hashed_with_scrypt(app, make_user):
    user = make_user("agent")
    with app.app_context():
        stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("scrypt:") and "correct-horse-9" not in stored


def test_default_roles_exist_as_data(app):
    with app.app_context():
        names = set(db.session.scalars(select(Role.name)))
    assert {"agent", "dispatcher", "staff", "callback_agent", "supervisor",
            "department_head", "admin"} <= names
