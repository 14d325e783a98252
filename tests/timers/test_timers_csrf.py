"""With CSRF protection on (as in production), the timers area's forms need their token."""
import re

import pytest

PASSWORD = "correct-horse-9"  # conftest's


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def _login(client, user):
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": user.username, "password": PASSWORD,
                                "csrf_token": _token(page)})


def test_mark_as_read_needs_the_token(client, make_user):
    _login(client, make_user("dispatcher", "dispatch"))
    assert client.post("/notifications/read", data={}).status_code == 400
    token = _token(client.get("/notifications").get_data(as_text=True))
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 302


def test_policy_form_needs_the_token(app, client, make_user):
    _login(client, make_user("admin", "management"))
    form = client.get("/sla/policies/new").get_data(as_text=True)
    data = {"name": "X", "kind": "consult", "priority": "urgent", "customer_tier": "",
            "response_minutes": "10", "resolution_minutes": "60", "warn_before_minutes": "0",
            "level2_after_minutes": "10", "level3_after_minutes": "20", "calendar_id": "1",
            "active": "y"}
    assert client.post("/sla/policies/new", data=data).status_code == 400
    assert client.post("/sla/policies/new",
                       data={**data, "csrf_token": _token(form)}).status_code == 302
