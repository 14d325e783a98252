"""Customer records through the REST API: create, read, change with optimistic locking, and
the append-only history; every refused request changes nothing."""
import pytest
from sqlalchemy import func, select

from ticketing.customers.models import Customer, CustomerChange, CustomerPhone
from ticketing.extensions import db

GOOD = {"account_no": "KH100001", "name": "王芳", "address": "北京市朝阳区建国路1号",
        "area": "朝阳区", "tier": "vip", "notes": "大客户", "phones": ["138-0013 8000"]}


@pytest.fixture
def agent(as_role):
    user, headers = as_role("agent", "call_center", locale="en")
    return user, headers


@pytest.fixture
def api(client, agent):
    """client.<method>(path, json=...) as an agent with a bearer token."""
    _user, headers = agent

    class Api:
        def __getattr__(self, method):
            return lambda path, **kw: getattr(client, method)(path, headers=headers, **kw)

    return Api()


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count(Customer.id))),
                db.session.scalar(select(func.count(CustomerPhone.id))),
                db.session.scalar(select(func.count(CustomerChange.id))))


def _state(app, customer_id) -> dict:
    with app.app_context():
        c = db.session.get(Customer, customer_id)
        return {"row": (c.account_no, c.name, c.address, c.area, c.tier, c.notes, c.version),
                "phones": c.phone_numbers,
                "history": db.session.scalar(select(func.count(CustomerChange.id)).where(
                    CustomerChange.customer_id == customer_id))}


def _create(api, **change):
    response = api.post("/api/v1/customers", json={**GOOD, **change})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _assert_invalid(response, field):
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_input" and body["message"]
    assert field in body["fields"], body


# --- create and read ----------------------------------------------------------------------

def test_creating_a_customer_returns_it_with_normalised_phones(api):
    body = _create(api, phones=["138-0013 8000", "(010) 6512.3456", "13800138000"])
    assert body["account_no"] == "KH100001" and body["name"] == "王芳" and body["tier"] == "vip"
    assert body["phones"] == ["13800138000", "01065123456"], "digits only, no duplicates"
    assert body["version"] == 1 and body["created_at"] and body["id"]
    fetched = api.get(f"/api/v1/customers/{body['id']}")
    assert fetched.status_code == 200 and fetched.get_json() == body


def test_only_account_number_and_name_are_required(api):
    minimal = api.post("/api/v1/customers", json={"account_no": "KH2", "name": "李强"})
    assert minimal.status_code == 201
    body = minimal.get_json()
    assert body["tier"] == "ordinary" and body["phones"] == [] and body["address"] == ""


def test_an_unknown_customer_is_a_json_404(api):
    response = api.get("/api/v1/customers/99999")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert api.get("/api/v1/customers/99999/history").status_code == 404
    assert api.patch("/api/v1/customers/99999", json={"version": 1}).status_code == 404


# --- refused input changes nothing --------------------------------------------------------

NEW = {**GOOD, "account_no": "KH200002"}


INVALID_NEW = [
    ({**NEW, "account_no": "KH100001"}, "account_no"),        # the existing customer's
    ({**NEW, "account_no": "KH 1/2"}, "account_no"),
    ({**NEW, "account_no": ""}, "account_no"),
    ({k: v for k, v in NEW.items() if k != "account_no"}, "account_no"),
    ({**NEW, "phones": ["13800138000", "call me"]}, "phones"),
    ({**NEW, "phones": ["12"]}, "phones"),
    ({**NEW, "phones": "13800138000"}, "phones"),
    ({k: v for k, v in NEW.items() if k != "name"}, "name"),
    ({**NEW, "name": "   "}, "name"),
    ({**NEW, "name": "王" * 101}, "name"),
    ({**NEW, "tier": "gold"}, "tier"),
    ({**NEW, "loyalty_points": 5}, "loyalty_points"),
]


def test_invalid_customer_input_is_a_400_naming_the_field_and_changes_nothing(app, api,
                                                                              subtests):
    _create(api)
    before = _counts(app)
    for body, field in INVALID_NEW:
        with subtests.test(field=field, body=body):
            _assert_invalid(api.post("/api/v1/customers", json=body), field)
            assert _counts(app) == before


def test_a_body_that_is_not_json_is_a_400(app, api):
    response = api.post("/api/v1/customers", data="account_no=KH1&name=x",
                        content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 415)
    assert response.get_json()["error"] in ("invalid_input", "unsupported_media_type")
    broken = api.post("/api/v1/customers", data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"] == "invalid_input"
    assert _counts(app) == (0, 0, 0)


# --- changes, versions and history --------------------------------------------------------

def test_a_change_bumps_the_version_and_writes_one_history_row(app, api, agent):
    created = _create(api)
    cid = created["id"]
    response = api.patch(f"/api/v1/customers/{cid}", json={
        "version": 1, "name": "王芳芳", "phones": ["13800138000", "13900139000"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == 2 and body["name"] == "王芳芳"
    assert body["phones"] == ["13800138000", "13900139000"]

    history = api.get(f"/api/v1/customers/{cid}/history").get_json()
    assert [h["action"] for h in history] == ["update", "create"], "newest first"
    latest = history[0]
    assert latest["actor"] == agent[0].username and latest["at"]
    assert latest["changes"] == {"name": ["王芳", "王芳芳"],
                                 "phones": [["13800138000"], ["13800138000", "13900139000"]]}
    assert history[1]["changes"]["account_no"] == [None, "KH100001"]


def test_a_phones_only_change_still_bumps_the_version(app, api):
    cid = _create(api)["id"]
    response = api.patch(f"/api/v1/customers/{cid}", json={"version": 1,
                                                            "phones": ["13700137000"]})
    assert response.status_code == 200 and response.get_json()["version"] == 2
    stale = api.patch(f"/api/v1/customers/{cid}", json={"version": 1, "name": "别人"})
    assert stale.status_code == 409


def test_a_patch_that_changes_nothing_writes_no_history(app, api):
    cid = _create(api)["id"]
    response = api.patch(f"/api/v1/customers/{cid}", json={"version": 1, "name": "王芳"})
    assert response.status_code == 200 and response.get_json()["version"] == 1
    assert _state(app, cid)["history"] == 1


def test_a_patch_with_a_stale_version_is_a_409_and_changes_nothing(app, api):
    cid = _create(api)["id"]
    assert api.patch(f"/api/v1/customers/{cid}", json={"version": 1,
                                                       "area": "海淀区"}).status_code == 200
    before = _state(app, cid)
    response = api.patch(f"/api/v1/customers/{cid}", json={"version": 1, "name": "覆盖"})
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "stale_version" and body["message"]
    assert body["current_version"] == 2
    assert _state(app, cid) == before


INVALID_PATCHES = [
    ({"version": 1, "name": ""}, "name"),
    ({"version": 1, "account_no": "KH100002"}, "account_no"),   # the other customer's
    ({"version": 1, "phones": ["not a phone"]}, "phones"),
    ({"version": 1, "tier": "gold"}, "tier"),
    ({"version": 1, "balance": 10}, "balance"),
    ({"name": "王芳芳"}, "version"),
    ({"version": "one"}, "version"),
]


def test_an_invalid_patch_is_a_400_and_changes_nothing(app, api, subtests):
    cid = _create(api)["id"]
    _create(api, account_no="KH100002", phones=[])
    before = _state(app, cid)
    for body, field in INVALID_PATCHES:
        with subtests.test(field=field, body=body):
            _assert_invalid(api.patch(f"/api/v1/customers/{cid}", json=body), field)
            assert _state(app, cid) == before


# --- lookup -------------------------------------------------------------------------------

def test_lookup_by_phone_ignores_formatting(api):
    cid = _create(api, phones=["13800138000"])["id"]
    _create(api, account_no="KH100002", name="李强", phones=["13900139000"])
    for typed in ("138-0013 8000", "138 0013 8000", "(138)00138000", "13800138000"):
        found = api.get("/api/v1/customers", query_string={"phone": typed}).get_json()
        assert [c["id"] for c in found] == [cid], typed


def test_lookup_by_account_number(api):
    _create(api)
    other = _create(api, account_no="KH100002", name="李强", phones=[])["id"]
    found = api.get("/api/v1/customers?account_no=KH100002").get_json()
    assert [c["id"] for c in found] == [other]
    assert api.get("/api/v1/customers?account_no=KH404").get_json() == []


def test_lookup_by_text_is_literal_and_ignores_case(api):
    _create(api, account_no="KH-A1", name="张伟", notes="")
    _create(api, account_no="kh_b2", name="李100%", phones=[])
    names = lambda q: sorted(c["name"] for c in api.get(  # noqa: E731
        "/api/v1/customers", query_string={"q": q}).get_json())
    assert names("kh") == ["张伟", "李100%"]
    assert names("100%") == ["李100%"]
    assert names("%") == ["李100%"], "a % typed by the user is no wildcard"
    assert names("_") == ["李100%"], "nor is an underscore"


def test_lookup_with_a_malformed_phone_is_a_400(api):
    response = api.get("/api/v1/customers?phone=bad")
    _assert_invalid(response, "phone")


def test_lookup_pages_with_after_id_and_limit(api):
    ids = [_create(api, account_no=f"KH{i}", phones=[])["id"] for i in range(5)]
    first = api.get("/api/v1/customers?q=KH&limit=2").get_json()
    assert [c["id"] for c in first] == ids[:2]
    rest = api.get(f"/api/v1/customers?q=KH&limit=10&after_id={ids[1]}").get_json()
    assert [c["id"] for c in rest] == ids[2:]
    _assert_invalid(api.get("/api/v1/customers?limit=0"), "limit")
