"""Customer pages: search by phone, account or name; the detail page with its history; the
create and edit forms. What a user typed is shown escaped, never run."""
import re

import pytest
from sqlalchemy import func, select

from ticketing.customers.models import Customer, CustomerChange
from ticketing.extensions import db

FORM = {"account_no": "KH100001", "name": "王芳", "phones": "138-0013 8000\n010 6512 3456",
        "area": "朝阳区", "address": "北京市朝阳区建国路1号", "tier": "ordinary", "notes": ""}


@pytest.fixture
def agent(client, auth, make_user):
    user = make_user("agent", "call_center", username="xiaodong", full_name="李晓东",
                     locale="en")
    assert auth.login(user.username).status_code == 302
    return user


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count(Customer.id))),
                db.session.scalar(select(func.count(CustomerChange.id))))


def _create(client, **change) -> int:
    response = client.post("/customers/new", data={**FORM, **change})
    assert response.status_code == 302, response.get_data(True)
    match = re.fullmatch(r"/customers/(\d+)", response.headers["Location"])
    assert match
    return int(match.group(1))


def test_an_agent_creates_a_customer_and_lands_on_its_page(app, client, agent):
    cid = _create(client)
    page = client.get(f"/customers/{cid}")
    assert page.status_code == 200
    html = page.get_data(True)
    assert "王芳" in html and "KH100001" in html and "13800138000, 01065123456" in html
    assert "李晓东" in html, "the history names who created it"


def test_the_new_customer_form_takes_the_callers_number(client, agent):
    html = client.get("/customers/new?phone=13800138000").get_data(True)
    assert "13800138000" in html


def test_a_refused_new_customer_form_shows_the_error_and_creates_nothing(app, client, agent,
                                                                         subtests):
    for change, field in [({"account_no": ""}, "account_no"), ({"name": ""}, "name"),
                          ({"phones": "13800138000\nnot a phone"}, "phones"),
                          ({"tier": "gold"}, "tier")]:
        with subtests.test(field=field):
            response = client.post("/customers/new", data={**FORM, **change})
            assert response.status_code == 400
            html = response.get_data(True)
            assert re.search(rf'<div class="field has-error">\s*<label for="{field}"', html)
            assert _counts(app) == (0, 0)


def test_a_duplicate_account_number_on_the_form_is_refused(app, client, agent):
    _create(client)
    response = client.post("/customers/new", data={**FORM, "name": "别人"})
    assert response.status_code == 400
    assert "Another customer has this account number." in response.get_data(True)
    assert _counts(app) == (1, 1)


def test_editing_on_the_page_records_who_changed_what_from_what_to_what(app, client, agent):
    cid = _create(client)
    form = client.get(f"/customers/{cid}/edit").get_data(True)
    assert 'name="version" type="hidden" value="1"' in form
    assert "13800138000\n01065123456" in form
    response = client.post(f"/customers/{cid}/edit", data={
        **FORM, "name": "王芳芳", "tier": "vip", "phones": "13800138000", "version": "1"})
    assert response.status_code == 302 and response.headers["Location"] == f"/customers/{cid}"
    html = client.get(f"/customers/{cid}").get_data(True)
    history = html[html.index("timeline"):]
    assert "李晓东" in history
    assert "Name</strong>: 王芳 → 王芳芳" in history
    assert "Tier</strong>: ordinary → vip" in history
    assert "Phones</strong>: 13800138000, 01065123456 → 13800138000" in history
    assert _counts(app) == (1, 2)


def test_a_stale_edit_form_is_refused_and_changes_nothing(app, client, agent):
    cid = _create(client)
    client.post(f"/customers/{cid}/edit", data={**FORM, "area": "海淀区", "version": "1"})
    response = client.post(f"/customers/{cid}/edit", data={**FORM, "name": "旧表单",
                                                            "version": "1"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{cid}/edit"
    refreshed = client.get(response.headers["Location"]).get_data(True)
    assert "Someone else changed this customer first" in refreshed
    assert 'name="version" type="hidden" value="2"' in refreshed
    with app.app_context():
        assert db.session.get(Customer, cid).name == "王芳"
    assert _counts(app) == (1, 2)


def test_a_refused_edit_form_changes_nothing(app, client, agent):
    cid = _create(client)
    response = client.post(f"/customers/{cid}/edit", data={**FORM, "name": "",
                                                           "version": "1"})
    assert response.status_code == 400
    with app.app_context():
        c = db.session.get(Customer, cid)
        assert (c.name, c.version) == ("王芳", 1)
    assert _counts(app) == (1, 1)


def test_an_unknown_customer_page_is_an_html_404(client, agent):
    response = client.get("/customers/99999")
    assert response.status_code == 404 and "text/html" in response.content_type
    assert client.get("/customers/99999/edit").status_code == 404


# --- search -------------------------------------------------------------------------------

@pytest.fixture
def two_customers(client, agent):
    first = _create(client)
    second = _create(client, account_no="KH100002", name="李强", phones="13900139000",
                     address="北京市海淀区学院路2号")
    return first, second


def _result_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/customers/(\d+)">', html)]


def test_search_finds_customers_by_phone_in_any_format_account_or_name(client, two_customers,
                                                                       subtests):
    first, second = two_customers
    for typed, expected in [("138-0013 8000", [first]), ("13800138000", [first]),
                            ("010 6512 3456", [first]), ("139 0013 9000", [second]),
                            ("KH100002", [second]), ("李强", [second]), ("学院路", [second]),
                            ("kh10000", [first, second])]:
        with subtests.test(typed=typed):
            html = client.get("/customers", query_string={"q": typed}).get_data(True)
            assert _result_ids(html) == expected


def test_search_says_so_when_nothing_matches(client, two_customers):
    html = client.get("/customers?q=nobody").get_data(True)
    assert _result_ids(html) == [] and "No customer matches" in html


# --- escaping -----------------------------------------------------------------------------

def test_markup_typed_into_a_customer_is_shown_as_text_on_search_and_detail(client, agent):
    evil = "<script>alert(1)</script>"
    cid = _create(client, name=f"王{evil}", address="<img src=x onerror=alert(2)>",
                  notes=evil, area='"><b>x</b>')
    client.post(f"/customers/{cid}/edit", data={**FORM, "name": f"王{evil}", "notes": evil,
                                                "address": "<i>changed</i>", "version": "1"})
    for path in (f"/customers/{cid}", "/customers?q=KH100001", f"/customers/{cid}/edit"):
        html = client.get(path).get_data(True)
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "<img src=x" not in html and "<i>changed</i>" not in html, path
        assert '"><b>x</b>' not in html, path
