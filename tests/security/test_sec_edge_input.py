"""Text no database can store and bodies no parser should walk are refused at the edge with a
clear 400, on both databases, before anything is stored: NUL characters (PostgreSQL cannot
hold them; SQLite would, so the data could not move), lone surrogates, JSON nested hundreds of
levels deep, and a chunked body over the size limit (413)."""
import io

import pytest
from sqlalchemy import func, select

from ticketing.auth.models import ApiToken, LoginFailure
from ticketing.customers.models import Customer
from ticketing.extensions import db
from ticketing.tickets.models import Ticket

from .test_sec_bad_input import WRITES

PASSWORD = "correct-horse-9"


@pytest.fixture
def target(app, as_role):
    from ticketing.customers.operations import create_customer
    from ticketing.tickets.operations import open_ticket
    _user, headers = as_role("admin", "management")
    with app.app_context():
        customer = create_customer(None, {"account_no": "KH1", "name": "王芳",
                                          "phones": ["13800138000"]})
        ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                             description="边界")
        db.session.commit()
        ids = _AnyId(customer_id=customer.id, ticket_id=ticket.id)
    return headers, ids


class _AnyId(dict):
    """Ids of the URL: real ones where the fixture has them, else 1 (the edge refuses bad
    text before any route runs, so the record need not exist)."""

    def __missing__(self, key):
        return 1


def _counts(app):
    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(model))
                       for model in (Customer, Ticket, ApiToken, LoginFailure))
        db.session.remove()
    return counts


def _refused(response, code="invalid_text"):
    assert response.status_code == 400, (response.status_code, response.get_data(True)[:300])
    if response.is_json:
        body = response.get_json()
        assert body["error"] == code and body["message"]
    else:
        assert "text/html" in response.content_type
    return response


def test_a_nul_in_the_login_form_is_a_400_not_a_500(app, client, make_user):
    user = make_user("agent", username="agent")
    before = _counts(app)
    response = _refused(client.post("/login", data={"username": "ag\x00ent",
                                                    "password": PASSWORD}))
    assert "NUL" in response.get_data(True)
    _refused(client.post("/login", data={"username": user.username,
                                         "password": "pass\x00word"}))
    assert _counts(app) == before, "not even a failed login is recorded"


def test_nul_and_lone_surrogates_in_json_are_refused_by_the_token_endpoint(app, client,
                                                                         make_user):
    user = make_user("agent")
    before = _counts(app)
    for body in ({"username": "ag\x00ent", "password": PASSWORD},
                 {"username": user.username, "password": PASSWORD, "name": "\ud800"},
                 {"username": user.username, "password": PASSWORD, "na\x00me": "x"}):
        _refused(client.post("/api/v1/tokens", json=body))
    raw = '{"username": "%s", "password": "%s", "name": "\\udfff"}' % (user.username, PASSWORD)
    _refused(client.post("/api/v1/tokens", data=raw, content_type="application/json"))
    assert _counts(app) == before


@pytest.mark.parametrize("method,path", WRITES)
def test_every_json_endpoint_refuses_bad_text_and_deep_nesting(app, client, target, method,
                                                               path):
    headers, ids = target
    url = path.format_map(ids)
    before = _counts(app)
    for text in ("a\x00b", "\ud800", "x\udbff"):
        body = {"description": text, "name": text, "phone": text, "event": text,
                "username": text, "password": text, "notes": text, "kind": "consult",
                "version": 1}
        _refused(client.open(url, method=method, headers=headers, json=body))
    deep = "[" * 990 + "]" * 990
    for payload in (deep, '{"a": ' * 990 + "1" + "}" * 990, '{"ids": ' + deep + "}"):
        _refused(client.open(url, method=method, headers=headers, data=payload,
                             content_type="application/json"), code="too_deeply_nested")
    assert _counts(app) == before


def test_a_nul_in_a_query_parameter_is_refused_on_pages_and_the_api(client, target):
    headers, _ids = target
    _refused(client.get("/api/v1/customers?q=a%00b", headers=headers))
    _refused(client.get("/api/v1/tickets?text=a%00b", headers=headers))


def test_a_nul_in_a_page_form_is_refused_and_nothing_is_stored(app, client, auth, make_user):
    user = make_user("admin", "management")
    auth.login(user.username)
    before = _counts(app)
    _refused(client.post("/customers/new", data={"account_no": "KH9", "name": "王\x00芳",
                                                 "tier": "ordinary",
                                                 "phones": "13900139000"}))
    assert _counts(app) == before


def test_reasonable_nesting_and_ordinary_unicode_still_pass(client, target):
    headers, _ids = target
    response = client.post("/api/v1/customers", headers=headers,
                           json={"account_no": "KH2", "name": "张伟 😀", "phones": []})
    assert response.status_code == 201, response.get_json()


def test_an_oversized_chunked_body_is_a_413(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"username": "' + b"a" * limit + b'", "password": "x"}'
    for path, content_type in (("/api/v1/tokens", "application/json"),
                               ("/login", "application/x-www-form-urlencoded")):
        response = client.post(path, input_stream=io.BytesIO(body),
                               headers={"Content-Type": content_type,
                                        "Transfer-Encoding": "chunked"},
                               environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
        assert response.status_code == 413, (path, response.status_code)
    small = client.post("/api/v1/tokens", input_stream=io.BytesIO(
        b'{"username": "nobody", "password": "x"}'),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert small.status_code == 401, "a small chunked body is read as usual"
