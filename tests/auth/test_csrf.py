"""With CSRF on (as in production): every session-authenticated write needs the token,
bearer-authenticated API calls do not, and nothing refused changes anything."""
import re

import pytest
from sqlalchemy import func, select

from ticketing.customers.models import Customer
from ticketing.extensions import db

PASSWORD = "correct-horse-9"
CUSTOMER = {"account_no": "KH700001", "name": "王芳", "phones": ["13800138000"]}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def _csrf_token(page) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(True))
    assert match, "the page carries a CSRF token"
    return match.group(1)


def _login(client, username):
    token = _csrf_token(client.get("/login"))
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return _csrf_token(client.get("/preferences"))


def _customers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Customer.id)))


def test_a_login_form_without_its_token_is_refused(client, make_user):
    user = make_user("agent")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert client.get("/").status_code == 302


def test_a_page_form_without_its_token_changes_nothing(app, client, make_user):
    _login(client, make_user("agent").username)
    response = client.post("/customers/new", data={**CUSTOMER, "phones": "13800138000",
                                                   "tier": "ordinary"})
    assert response.status_code == 400
    assert _customers(app) == 0


def test_a_page_form_with_its_token_is_accepted(app, client, make_user):
    _login(client, make_user("agent").username)
    token = _csrf_token(client.get("/customers/new"))
    response = client.post("/customers/new", data={**CUSTOMER, "phones": "13800138000",
                                                   "tier": "ordinary", "csrf_token": token})
    assert response.status_code == 302
    assert _customers(app) == 1


def test_logout_needs_the_token_too(client, make_user):
    _login(client, make_user("agent").username)
    assert client.post("/logout").status_code == 400
    assert client.get("/preferences").status_code == 200


def test_the_api_with_a_session_cookie_but_no_csrf_header_is_refused(app, client, make_user):
    _login(client, make_user("agent").username)
    response = client.post("/api/v1/customers", json=CUSTOMER)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "csrf_failed" and body["message"]
    assert _customers(app) == 0


def test_the_api_with_a_session_cookie_and_the_csrf_header_is_accepted(app, client, make_user):
    token = _login(client, make_user("agent").username)
    response = client.post("/api/v1/customers", json=CUSTOMER, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    customer_id = response.get_json()["id"]
    patch = client.patch(f"/api/v1/customers/{customer_id}", json={"version": 1, "area": "朝阳区"})
    assert patch.status_code == 400 and patch.get_json()["error"] == "csrf_failed"
    patch = client.patch(f"/api/v1/customers/{customer_id}", json={"version": 1, "area": "朝阳区"},
                         headers={"X-CSRFToken": token})
    assert patch.status_code == 200


def test_bearer_requests_need_no_csrf_token(app, client, make_user):
    user = make_user("agent")
    issued = client.post("/api/v1/tokens", json={"username": user.username,
                                                 "password": PASSWORD})
    assert issued.status_code == 201, "getting a token needs no CSRF token either"
    headers = {"Authorization": f"Bearer {issued.get_json()['token']}"}
    response = client.post("/api/v1/customers", json=CUSTOMER, headers=headers)
    assert response.status_code == 201
    assert _customers(app) == 1


def test_a_forged_bearer_header_does_not_let_a_session_skip_csrf(app, client, make_user):
    _login(client, make_user("agent").username)
    response = client.post("/api/v1/customers", json=CUSTOMER,
                           headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert _customers(app) == 0
