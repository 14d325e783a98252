"""With CSRF protection on (as in production), page forms need their token."""
import re

import pytest
from sqlalchemy import func, select

from ticketing.extensions import db
from ticketing.tickets.models import Ticket

PASSWORD = "correct-horse-9"  # conftest's


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def test_a_post_without_the_csrf_token_is_refused(app, client, make_user):
    agent = make_user("agent", "call_center")
    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": agent.username, "password": PASSWORD,
                                "csrf_token": _token(login)})
    ticket = {"kind": "consult", "caller_phone": "13800000000", "channel": "phone",
              "priority": "normal", "description": "咨询"}

    refused = client.post("/tickets/new", data=ticket)
    accepted = client.post("/tickets/new", data={
        **ticket, "csrf_token": _token(client.get("/call").get_data(as_text=True))})

    assert refused.status_code == 400
    assert accepted.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == 1
