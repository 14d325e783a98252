"""Bearer tokens for integrations: issued once, hashed at rest, refused when wrong, expired,
revoked or belonging to a deactivated account."""
from datetime import timedelta

from sqlalchemy import select

from ticketing import clock
from ticketing.auth.models import ApiToken, User
from ticketing.extensions import db

PASSWORD = "correct-horse-9"


def _issue(client, username, password=PASSWORD, **extra):
    return client.post("/api/v1/tokens", json={"username": username, "password": password,
                                               **extra})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _assert_unauthenticated(response):
    assert response.status_code == 401
    assert response.content_type == "application/json"
    body = response.get_json()
    assert body["error"] == "unauthenticated" and body["message"]


def test_a_password_buys_a_bearer_token_that_is_stored_only_as_a_hash(app, client, make_user):
    user = make_user("dispatcher", "dispatch")
    response = _issue(client, user.username, name="phone system")
    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer" and len(body["token"]) >= 32
    assert body["expires_at"]
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.name == "phone system" and row.user_id == user.id
        assert row.token_hash == ApiToken.hash(body["token"]) != body["token"]


def test_a_bearer_token_identifies_its_user_on_the_api(client, make_user):
    user = make_user("dispatcher", "dispatch", full_name="王建国")
    token = _issue(client, user.username).get_json()["token"]
    me = client.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200
    body = me.get_json()
    assert body["username"] == user.username and body["full_name"] == "王建国"
    assert body["roles"] == ["dispatcher"] and "customers.view" in body["permissions"]
    assert body["department"]["code"] == "dispatch"
    assert "password" not in str(body).lower()


def test_a_token_does_not_open_a_browser_session(client, make_user):
    user = make_user("agent")
    token = _issue(client, user.username).get_json()["token"]
    client.get("/api/v1/me", headers=_bearer(token))
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/").status_code == 302


def test_wrong_credentials_get_no_token(client, make_user):
    user = make_user("agent")
    response = _issue(client, user.username, "not-it")
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_credentials"
    missing = client.post("/api/v1/tokens", json={"username": user.username})
    assert missing.status_code == 400
    assert "password" in missing.get_json()["fields"]


def test_a_token_is_refused_when_wrong_expired_revoked_or_its_user_is_inactive(
        app, client, make_user, subtests):
    user, other = make_user("agent"), make_user("agent")
    revoked, expiring = (_issue(client, user.username).get_json()["token"] for _ in range(2))
    kept = _issue(client, other.username).get_json()["token"]

    with subtests.test("wrong"):
        for headers in (_bearer("made-up"), _bearer(""), {"Authorization": "Basic eDp5"}, {}):
            _assert_unauthenticated(client.get("/api/v1/me", headers=headers))

    with subtests.test("revoked"):
        with app.app_context():
            row = db.session.scalar(select(ApiToken).where(
                ApiToken.token_hash == ApiToken.hash(revoked)))
            row.revoked_at = clock.utcnow()
            db.session.commit()
        _assert_unauthenticated(client.get("/api/v1/me", headers=_bearer(revoked)))
        assert client.get("/api/v1/me", headers=_bearer(expiring)).status_code == 200

    with subtests.test("expired"):
        clock.freeze(clock.utcnow() + timedelta(days=app.config["API_TOKEN_DAYS"], minutes=1))
        _assert_unauthenticated(client.get("/api/v1/me", headers=_bearer(expiring)))
        clock.freeze(None)

    with subtests.test("inactive user"):
        assert client.get("/api/v1/me", headers=_bearer(kept)).status_code == 200
        with app.app_context():
            db.session.get(User, other.id).active = False
            db.session.commit()
        _assert_unauthenticated(client.get("/api/v1/me", headers=_bearer(kept)))


def test_a_wrong_token_is_refused_even_beside_a_valid_session(client, auth, make_user):
    user = make_user("agent")
    auth.login(user.username)
    assert client.get("/api/v1/me").status_code == 200
    _assert_unauthenticated(client.get("/api/v1/me", headers=_bearer("made-up")))
    refused = client.post("/api/v1/customers", headers=_bearer("made-up"),
                          json={"account_no": "KH1", "name": "王芳"})
    _assert_unauthenticated(refused)


def test_a_valid_token_beside_a_session_acts_as_the_tokens_owner(client, auth, make_user):
    session_user, token_user = make_user("agent"), make_user("supervisor")
    token = _issue(client, token_user.username).get_json()["token"]
    auth.login(session_user.username)
    me = client.get("/api/v1/me", headers=_bearer(token)).get_json()
    assert me["username"] == token_user.username


def test_a_token_request_reads_token_user_and_permissions_in_one_statement(
        app, client, make_user):
    """Every API call starts here: the token, its user and the user's permissions (the
    union over several roles) come in one SELECT, and answer the permission checks."""
    from sqlalchemy import event
    user = make_user(["agent", "dispatcher"], "dispatch")
    token = _issue(client, user.username).get_json()["token"]
    with app.app_context():
        engine = db.engine
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        board = client.get("/api/v1/dispatch/board", headers=_bearer(token))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert board.status_code == 200  # tickets.dispatch: the dispatcher role's
    reads = [s for s in statements if s.startswith("SELECT") and (
        "api_tokens" in s or "role_permissions" in s or "user_roles" in s)]
    assert len(reads) == 1, reads
    permissions = set(client.get("/api/v1/me", headers=_bearer(token)).get_json()[
        "permissions"])
    assert {"tickets.create", "tickets.dispatch"} <= permissions  # one from each role
    # Without a role that grants it, the check refuses (the cache holds what was read).
    agent = make_user("agent", "call_center")
    agent_token = _issue(client, agent.username).get_json()["token"]
    refused = client.get("/api/v1/dispatch/board", headers=_bearer(agent_token))
    assert refused.status_code == 403
