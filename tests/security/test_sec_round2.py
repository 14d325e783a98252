"""Issue 15 round 2: one safe-redirect rule, anonymous writes are a 401 (not a CSRF
failure), logged-in pages are never cached, CSRF and validation messages speak the user's
language, and the history tables refuse TRUNCATE on PostgreSQL."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ticketing.extensions import db

PASSWORD = "correct-horse-9"

OFF_SITE = ["/\t/evil.example/", "/\n/evil.example/", "/\\evil.example/", "//evil.example/",
            "https://evil.example/", "/\r\n/evil.example", " //evil.example", "/\x0b/evil",
            "javascript:alert(1)", "/\u3000/evil.example"]


@pytest.fixture
def logged_in(client, auth, make_user):
    user = make_user("agent")
    auth.login(user.username)
    return user


@pytest.mark.parametrize("target", OFF_SITE)
def test_marking_notifications_read_never_redirects_off_site(client, logged_in, target):
    response = client.post("/notifications/read", data={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications", repr(target)


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(client, make_user, target):
    user = make_user("agent")
    response = client.post("/login", query_string={"next": target},
                           data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/", repr(target)


def test_a_same_site_next_is_kept(client, logged_in):
    response = client.post("/notifications/read", data={"next": "/notifications?unread=1"})
    assert response.headers["Location"] == "/notifications?unread=1"


@pytest.mark.parametrize("path,body", [
    ("/api/v1/tickets", {"kind": "consult", "description": "x"}),
    ("/api/v1/tickets/1/transitions", {"event": "relay", "version": 1}),
    ("/api/v1/notifications/read", {}), ("/api/v1/customers", {"name": "x"}),
    ("/api/v1/tokens/1/revoke", {}), ("/api/v1/me/logout-everywhere", {})])
def test_an_anonymous_api_write_is_a_401_with_a_bearer_challenge(app, path, body):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(path, json=body)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["error"] == "unauthenticated"
    assert client.get("/api/v1/me").headers["WWW-Authenticate"] == "Bearer"


def test_a_session_write_without_a_csrf_token_is_still_refused(app, client, logged_in):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/api/v1/notifications/read", json={})
    assert response.status_code == 400 and response.get_json()["error"] == "csrf_failed"


def test_logged_in_pages_are_not_cached_and_public_ones_may_be(client, auth, make_user):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    user = make_user("agent")
    auth.login(user.username)
    for path in ("/", "/preferences", "/customers", "/tickets", "/account/security"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_csrf_and_validation_messages_are_translated(app, make_user):
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh"}
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.post("/login", data={"username": "x", "password": "y"}, environ_base=zh)
    assert page.status_code == 400
    assert "The CSRF token is missing" not in page.get_data(True)
    assert "数据没有任何改动" in page.get_data(True)  # the CSRF page, in the user's language
    app.config["WTF_CSRF_ENABLED"] = False
    user = make_user("agent", locale="zh")
    token = client.post("/api/v1/tokens", json={"username": user.username,
                                                "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh"}
    body = client.post("/api/v1/customers", headers=headers, json={"name": 5}).get_json()
    messages = [m for ms in body["fields"].values() for m in ms]
    assert messages and all(_chinese(m) for m in messages), messages
    form = client.post("/login", data={"username": "", "password": ""}, environ_base=zh)
    assert "This field is required" not in form.get_data(True)


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["ticket_events", "customer_changes", "audit_log"])
def test_postgresql_refuses_to_truncate_history(app, table):
    with app.app_context():
        with pytest.raises(DBAPIError, match="cannot be truncated"):
            db.session.execute(text(f"TRUNCATE {table} CASCADE"))
        db.session.rollback()
