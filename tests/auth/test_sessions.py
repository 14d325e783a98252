"""Sessions and tokens can be ended: logout makes that cookie worthless; a password change or
reset, deactivation or "log out everywhere" ends every session and token of the user; tokens
are revoked (one's own, an admin anyone's) from the API, a page and the command line; their
lifetime is configurable and last_used_at is kept without a write on every request."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from ticketing import clock
from ticketing.auth.models import ApiToken, AuditEntry, User
from ticketing.extensions import db

PASSWORD = "correct-horse-9"


def _token(client, user, **extra):
    response = client.post("/api/v1/tokens", json={"username": user.username,
                                                   "password": PASSWORD, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _bearer(body):
    return {"Authorization": f"Bearer {body['token']}"}


def _session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_a_session_cookie_replayed_after_logout_is_worthless(app, client, auth, make_user):
    user = make_user("agent")
    auth.login(user.username)
    stolen = _session_cookie(client)
    assert client.get("/preferences").status_code == 200
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="localhost")
    assert thief.get("/preferences").status_code == 302
    assert thief.get("/api/v1/me").status_code == 401


def test_logout_ends_only_that_browsers_session(app, client, auth, make_user):
    user = make_user("agent")
    other = app.test_client()
    assert other.post("/login", data={"username": user.username,
                                      "password": PASSWORD}).status_code == 302
    auth.login(user.username)
    auth.logout()
    assert other.get("/preferences").status_code == 200


@pytest.mark.parametrize("how", ["password_reset", "deactivation", "logout_everywhere_page",
                                 "logout_everywhere_api", "admin_end_sessions", "cli"])
def test_every_session_and_token_of_the_user_ends(app, client, make_user, how):
    admin = make_user("admin", "management")
    user = make_user("agent")
    browser = app.test_client()
    assert browser.post("/login", data={"username": user.username,
                                        "password": PASSWORD}).status_code == 302
    token = _token(client, user)
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    admin_client = app.test_client()
    admin_client.post("/login", data={"username": admin.username, "password": PASSWORD})
    edit = {"full_name": "x", "department": "call_center", "roles": ["agent"], "locale": "en",
            "active": "y"}
    if how == "password_reset":
        response = admin_client.post(f"/admin/users/{user.id}", data={
            **edit, "password": "a-new-password-1"})
    elif how == "deactivation":
        edit.pop("active")
        response = admin_client.post(f"/admin/users/{user.id}", data=edit)
    elif how == "logout_everywhere_page":
        response = browser.post("/account/logout-everywhere")
    elif how == "logout_everywhere_api":
        response = client.post("/api/v1/me/logout-everywhere", headers=_bearer(token))
        assert response.get_json() == {"sessions": 1, "tokens": 1}
    elif how == "admin_end_sessions":
        response = admin_client.post(f"/admin/users/{user.id}/end-sessions")
    else:
        response = app.test_cli_runner().invoke(args=["end-sessions", user.username])
        assert response.exit_code == 0, response.output
        response = None
    if response is not None:
        assert response.status_code in (200, 302), response.get_data(True)[:300]
    assert browser.get("/preferences").status_code == 302
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    assert admin_client.get("/admin/users").status_code == 200, "the admin stays logged in"
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "sessions.ended")).one()
        assert entry.target_id == user.id


def test_a_user_revokes_own_tokens_but_not_others(app, client, make_user):
    user, other = make_user("agent"), make_user("agent")
    mine, spare, theirs = _token(client, user), _token(client, user), _token(client, other)
    listed = client.get("/api/v1/tokens", headers=_bearer(mine)).get_json()
    assert {t["id"] for t in listed} == {mine["id"], spare["id"]}
    assert all("token" not in t for t in listed)
    refused = client.post(f"/api/v1/tokens/{theirs['id']}/revoke", headers=_bearer(mine))
    assert refused.status_code == 403
    assert client.get("/api/v1/me", headers=_bearer(theirs)).status_code == 200
    revoked = client.post(f"/api/v1/tokens/{spare['id']}/revoke", headers=_bearer(mine))
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=_bearer(spare)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(mine)).status_code == 200
    assert client.post("/api/v1/tokens/999999/revoke",
                       headers=_bearer(mine)).status_code == 404


def test_an_admin_revokes_anyones_token_from_the_api_and_the_page(app, client, make_user):
    admin, user = make_user("admin", "management"), make_user("agent")
    admin_token = _token(client, admin)
    first, second = _token(client, user), _token(client, user)
    listed = client.get(f"/api/v1/tokens?user_id={user.id}", headers=_bearer(admin_token))
    assert {t["id"] for t in listed.get_json()} == {first["id"], second["id"]}
    assert client.post(f"/api/v1/tokens/{first['id']}/revoke",
                       headers=_bearer(admin_token)).status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(first)).status_code == 401
    page_client = app.test_client()
    page_client.post("/login", data={"username": admin.username, "password": PASSWORD})
    page = page_client.get(f"/admin/users/{user.id}").get_data(True)
    assert f"/tokens/{second['id']}/revoke" in page
    done = page_client.post(f"/tokens/{second['id']}/revoke",
                            data={"next": f"/admin/users/{user.id}"})
    assert done.status_code == 302 and done.headers["Location"] == f"/admin/users/{user.id}"
    assert client.get("/api/v1/me", headers=_bearer(second)).status_code == 401
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert actions.count("token.revoked") == 2


def test_ones_own_tokens_are_listed_and_revoked_on_the_security_page(app, client, auth,
                                                                     make_user):
    user = make_user("agent")
    token = _token(client, user, name="phone system")
    auth.login(user.username)
    page = client.get("/account/security").get_data(True)
    assert "phone system" in page and "(this one)" in page
    assert client.post(f"/tokens/{token['id']}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    page = client.get("/account/security").get_data(True)
    assert f"/tokens/{token['id']}/revoke" not in page and "No active API tokens" in page


def test_tokens_are_listed_and_revoked_from_the_command_line(app, client, make_user):
    user = make_user("agent")
    token = _token(client, user, name="crm")
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["tokens", user.username])
    assert listed.exit_code == 0 and "crm" in listed.output and str(token["id"]) in listed.output
    revoked = runner.invoke(args=["revoke-token", str(token["id"])])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    assert runner.invoke(args=["revoke-token", "999999"]).exit_code != 0


def test_token_lifetime_is_configurable_and_capped(app, client, make_user):
    user = make_user("agent")
    now = clock.utcnow()
    clock.freeze(now)
    days = app.config["API_TOKEN_DAYS"]
    default = _token(client, user)
    short = _token(client, user, expires_in_days=7)
    long = _token(client, user, expires_in_days=days + 1000)
    with app.app_context():
        def expiry(body):
            return db.session.get(ApiToken, body["id"]).expires_at
        assert expiry(default) == now + timedelta(days=days)
        assert expiry(short) == now + timedelta(days=7)
        assert expiry(long) == now + timedelta(days=days), "capped at API_TOKEN_DAYS"
    clock.advance(days=8)
    assert client.get("/api/v1/me", headers=_bearer(short)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(default)).status_code == 200


def test_last_used_at_is_kept_current_without_a_write_per_request(app, client, make_user):
    user = make_user("agent")
    start = clock.utcnow()
    clock.freeze(start)
    token = _token(client, user)

    def last_used():
        with app.app_context():
            value = db.session.get(ApiToken, token["id"]).last_used_at
            db.session.remove()
            return value

    assert last_used() is None
    client.get("/api/v1/me", headers=_bearer(token))
    assert last_used() == start
    clock.advance(minutes=2)
    client.get("/api/v1/me", headers=_bearer(token))
    assert last_used() == start, "not rewritten within a few minutes"
    clock.advance(minutes=4)
    client.get("/api/v1/me", headers=_bearer(token))
    assert last_used() == start + timedelta(minutes=6)


def test_a_cookie_from_before_sessions_were_recorded_is_refused(app, client, make_user):
    """A bare user id (the old cookie format) names no login session."""
    user = make_user("agent")
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert client.get("/preferences").status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).active
