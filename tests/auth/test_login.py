"""Logging in and out: where a login leads, who may log in, and the brute-force throttle."""
from urllib.parse import quote

from limits import parse

from ticketing.auth.models import User
from ticketing.extensions import db

PASSWORD = "correct-horse-9"  # the conftest's make_user password


def _limit(app) -> int:
    return parse(app.config["LOGIN_RATE_LIMIT"]).amount


def _location(response) -> str:
    return response.headers["Location"]


# --- logging in and out -------------------------------------------------------------------

def test_login_starts_a_session_and_logout_ends_it(client, auth, make_user):
    user = make_user("agent")
    response = auth.login(user.username)
    assert response.status_code == 302 and _location(response) == "/"
    assert client.get("/preferences").status_code == 200
    again = client.get("/login")
    assert again.status_code == 302 and _location(again) == "/", "already logged in"

    assert client.get("/logout").status_code == 405, "a link cannot log anyone out"
    assert client.get("/preferences").status_code == 200
    response = auth.logout()
    assert response.status_code == 302 and _location(response).startswith("/login")
    after = client.get("/preferences")
    assert after.status_code == 302 and "/login" in _location(after)


def test_a_wrong_password_an_unknown_user_or_an_empty_form_get_the_same_answer(client, auth,
                                                                             make_user):
    user = make_user("agent")
    wrong = auth.login(user.username, "not-the-password")
    unknown = auth.login("nobody-here", "not-the-password")
    empty = client.post("/login", data={"username": "", "password": ""})
    assert wrong.status_code == unknown.status_code == empty.status_code == 401
    assert b"Wrong username or password." in wrong.data
    assert b"Wrong username or password." in unknown.data
    assert client.get("/").status_code == 302


# --- where a login leads ------------------------------------------------------------------

def test_a_page_sends_an_anonymous_visitor_to_login_and_back(client, auth, make_user):
    user = make_user("agent")
    response = client.get("/customers?q=abc")
    assert response.status_code == 302
    login_url = _location(response)
    assert login_url.startswith("/login?next=")
    back = client.post(login_url, data={"username": user.username, "password": PASSWORD})
    assert back.status_code == 302 and _location(back) == "/customers?q=abc"
    auth.logout()
    plain = _location(client.get("/admin/users"))
    assert plain == "/login?next=/admin/users", "no stray '?' without a query"


OFF_SITE = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example/phish",
    "/\t/evil.example/phish",
    "/\n/evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "evil.example",
]


def test_next_only_ever_leads_to_a_path_on_this_site(client, auth, make_user, subtests):
    user = make_user("agent")
    for target in OFF_SITE:
        with subtests.test(target=target):
            response = client.post("/login?next=" + quote(target, safe=""),
                                   data={"username": user.username, "password": PASSWORD})
            assert response.status_code == 302
            assert _location(response) == "/"
            auth.logout()


# --- who may log in -----------------------------------------------------------------------

def test_an_inactive_user_cannot_log_in(app, client, auth, make_user):
    make_user("admin", username="boss")
    auth.login("boss")
    created = client.post("/admin/users/new", data={
        "username": "dormant", "password": PASSWORD, "roles": ["agent"],
        "department": "call_center", "locale": "zh"})  # "active" left unticked
    assert created.status_code == 302
    auth.logout()
    response = auth.login("dormant")
    assert response.status_code == 401
    assert client.get("/").status_code == 302
    token = client.post("/api/v1/tokens", json={"username": "dormant", "password": PASSWORD})
    assert token.status_code == 401


def test_deactivating_a_user_ends_their_open_session(app, make_user):
    make_user("admin", username="boss")
    agent = make_user("agent", username="leaver")
    admin_client, agent_client = app.test_client(), app.test_client()
    agent_client.post("/login", data={"username": "leaver", "password": PASSWORD})
    assert agent_client.get("/customers").status_code == 200

    admin_client.post("/login", data={"username": "boss", "password": PASSWORD})
    response = admin_client.post(f"/admin/users/{agent.id}", data={
        "full_name": "", "department": "call_center", "roles": ["agent"], "locale": "zh"})
    assert response.status_code == 302, "the active box is left unticked"
    with app.app_context():
        assert db.session.get(User, agent.id).active is False

    refused = agent_client.get("/customers")
    assert refused.status_code == 302 and "/login" in _location(refused)
    assert agent_client.get("/api/v1/me").status_code == 401
    assert admin_client.get("/admin/users").status_code == 200


# --- throttling ---------------------------------------------------------------------------

def test_failed_logins_lock_out_that_username_even_with_the_right_password(app, client,
                                                                           make_user):
    user = make_user("agent")
    for _ in range(_limit(app)):
        assert client.post("/login", data={"username": user.username,
                                           "password": "guess"}).status_code == 401
    locked = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "text/html" in locked.content_type
    assert locked.headers.get("Retry-After")
    assert client.get("/").status_code == 302, "no session was started"


def test_the_username_counter_holds_from_every_address(app, client, make_user):
    """One counter per username: guessing from many addresses does not spread it thin."""
    user, other = make_user("agent"), make_user("agent")
    for i in range(_limit(app)):
        client.post("/login", data={"username": user.username, "password": "guess"},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
    elsewhere = client.post("/login", data={"username": user.username, "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert elsewhere.status_code == 429
    # The address that guessed may still log in as someone else (its own counter is higher).
    assert client.post("/login", data={"username": other.username, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 302


def test_one_address_spraying_many_usernames_is_stopped(app, client, make_user):
    user = make_user("agent")
    spray = parse(app.config["LOGIN_ADDRESS_RATE_LIMIT"]).amount
    for i in range(spray):
        client.post("/login", data={"username": f"nobody{i}", "password": "guess"})
    refused = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert refused.status_code == 429
    # Another address is not affected.
    assert app.test_client().post("/login", data={"username": user.username,
                                                  "password": PASSWORD},
                                  environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 302


def test_the_form_and_the_api_share_one_counter(app, client, make_user):
    user = make_user("agent")
    for i in range(_limit(app)):
        if i % 2:
            client.post("/login", data={"username": user.username, "password": "guess"})
        else:
            client.post("/api/v1/tokens", json={"username": user.username,
                                                "password": "guess"})
    assert client.post("/api/v1/tokens", json={"username": user.username,
                                               "password": PASSWORD}).status_code == 429
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 429


def test_a_success_resets_the_username_counter(app, client, auth, make_user):
    user = make_user("agent")
    for _round in range(3):
        for _ in range(_limit(app) - 1):
            assert auth.login(user.username, "guess").status_code == 401
        assert auth.login(user.username).status_code == 302
        auth.logout()


def test_the_lock_out_says_when_to_retry_and_ends_then(app, client, make_user):

    from ticketing import clock
    user = make_user("agent")
    clock.freeze(clock.utcnow())
    for _ in range(_limit(app)):
        client.post("/api/v1/tokens", json={"username": user.username, "password": "guess"})
    locked = client.post("/api/v1/tokens", json={"username": user.username,
                                                 "password": PASSWORD})
    body = locked.get_json()
    assert locked.status_code == 429 and 0 < body["retry_after"] <= 60
    assert locked.headers["Retry-After"] == str(body["retry_after"])
    assert f"{body['retry_after']} seconds" in body["message"]
    page = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert f"{body['retry_after']} seconds" in page.get_data(True)
    clock.advance(seconds=body["retry_after"] + 1)
    assert client.post("/api/v1/tokens", json={"username": user.username,
                                               "password": PASSWORD}).status_code == 201


def test_the_counters_live_in_the_database_so_every_worker_sees_them(app, make_user):
    """Two app objects (as two gunicorn workers) on one database share the counters."""
    from ticketing import create_app
    user = make_user("agent")
    for _ in range(_limit(app)):
        app.test_client().post("/login", data={"username": user.username, "password": "x"})
    other_worker = create_app({**app.config, "SERVER_NAME": "localhost"})
    response = other_worker.test_client().post("/login", data={"username": user.username,
                                                              "password": PASSWORD})
    with other_worker.app_context():
        db.engine.dispose()  # its pooled connection, before the garbage collector finds it
    assert response.status_code == 429


def test_the_lock_out_ignores_case_and_spaces_in_the_username(app, client, make_user):
    user = make_user("agent")
    for i in range(_limit(app)):
        name = user.username.upper() if i % 2 else f" {user.username} "
        client.post("/login", data={"username": name, "password": "guess"})
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 429


def test_successful_logins_do_not_count_towards_the_lock_out(app, client, auth, make_user):
    user = make_user("agent")
    for _ in range(_limit(app) + 1):
        assert auth.login(user.username).status_code == 302
        assert auth.logout().status_code == 302
    assert auth.login(user.username, "guess").status_code == 401, "still not locked"


def test_failed_token_requests_lock_out_that_username(app, client, make_user):
    user = make_user("agent")
    for _ in range(_limit(app)):
        response = client.post("/api/v1/tokens", json={"username": user.username,
                                                       "password": "guess"})
        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_credentials"
    locked = client.post("/api/v1/tokens", json={"username": user.username,
                                                 "password": PASSWORD})
    assert locked.status_code == 429
    body = locked.get_json()
    assert body["error"] == "too_many_requests" and body["message"]


def test_issued_tokens_do_not_count_towards_the_lock_out(app, client, make_user):
    user = make_user("agent")
    for _ in range(_limit(app) + 1):
        response = client.post("/api/v1/tokens", json={"username": user.username,
                                                       "password": PASSWORD})
        assert response.status_code == 201
