"""Who may do what, derived from the roles' permissions as data (DEFAULT_ROLES): every page and
endpoint of accounts and customers against every default role and an anonymous visitor. A
refused write changes nothing. An admin's edit of a role takes effect on the next request."""
import re

import pytest
from sqlalchemy import func, select

from ticketing.auth.models import ApiToken, Department, Role, User
from ticketing import create_app
from ticketing.auth.permissions import DEFAULT_ROLES, default_permissions
from ticketing.customers.models import Customer, CustomerChange
from ticketing.extensions import db
from ticketing.faults.models import FaultCategory

PASSWORD = "correct-horse-9"
ANONYMOUS = "anonymous"


# The areas' default grants, read from an app wired as in production (no database needed).
_WIRED = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})


def _grants(role: str) -> set[str]:
    return default_permissions(role, _WIRED)


# (method, path, permissions required, body). Paths name the fixtures' ids in braces; a body
# is a callable of the fixtures so each request sends fresh, valid input.
ENDPOINTS = [
    # pages: accounts
    ("GET", "/preferences", (), None),
    ("POST", "/preferences", (), lambda f: {"locale": "zh"}),
    ("GET", "/admin/users", ("users.manage",), None),
    ("GET", "/admin/users/new", ("users.manage",), None),
    ("POST", "/admin/users/new", ("users.manage",), lambda f: {
        "username": f"newbie{f['n']()}", "password": PASSWORD, "roles": ["admin"],
        "department": "", "locale": "zh", "active": "y"}),
    ("GET", "/admin/users/{user_id}", ("users.manage",), None),
    ("POST", "/admin/users/{user_id}", ("users.manage",), lambda f: {
        "full_name": "改过的名字", "department": "operations", "roles": ["admin"],
        "locale": "en", "active": "y"}),
    ("GET", "/admin/roles", ("roles.manage",), None),
    ("GET", "/admin/roles/{role_id}", ("roles.manage",), None),
    ("POST", "/admin/roles/{role_id}", ("roles.manage",), lambda f: {
        "permissions": sorted(_grants("staff") | {"users.manage", "roles.manage"})}),
    ("GET", "/admin/roles/new", ("roles.manage",), None),
    ("POST", "/admin/roles/new", ("roles.manage",), lambda f: {
        "name": f"role_{f['n']()}", "label": "质检员", "label_en": "Auditor",
        "permissions": ["tickets.view"]}),
    ("GET", "/admin/departments", ("departments.manage",), None),
    ("GET", "/admin/departments/new", ("departments.manage",), None),
    ("POST", "/admin/departments/new", ("departments.manage",), lambda f: {
        "code": f"team_{f['n']()}", "name": "维修三队", "name_en": "Repair team 3",
        "kind": "repair_team", "active": "y"}),
    ("GET", "/admin/departments/{department_id}", ("departments.manage",), None),
    ("POST", "/admin/departments/{department_id}", ("departments.manage",), lambda f: {
        "name": f"改名{f['n']()}", "name_en": "Renamed", "kind": "repair_team", "active": "y"}),
    ("POST", "/preferences/language", (), lambda f: {"locale": "en", "next": "/"}),
    # pages: fault categories
    ("GET", "/admin/fault-categories", ("faults.manage",), None),
    ("GET", "/admin/fault-categories/new", ("faults.manage",), None),
    ("POST", "/admin/fault-categories/new", ("faults.manage",), lambda f: {
        "code": f"fault_{f['n']()}", "name": "放大器", "name_en": "Amplifier", "active": "y"}),
    ("GET", "/admin/fault-categories/{category_id}", ("faults.manage",), None),
    ("POST", "/admin/fault-categories/{category_id}", ("faults.manage",), lambda f: {
        "name": f"改名{f['n']()}", "name_en": "Renamed", "active": "y"}),
    # pages: customers
    ("GET", "/customers", ("customers.view",), None),
    ("GET", "/customers?q=13800138000", ("customers.view",), None),
    ("GET", "/customers/{customer_id}", ("customers.view",), None),
    ("GET", "/customers/new", ("customers.edit",), None),
    ("POST", "/customers/new", ("customers.edit",), lambda f: {
        "account_no": f"KH{f['n']()}", "name": "新客户", "tier": "ordinary",
        "phones": "13900139000"}),
    ("GET", "/customers/{customer_id}/edit", ("customers.edit",), None),
    ("POST", "/customers/{customer_id}/edit", ("customers.edit",), lambda f: {
        "account_no": "KH000001", "name": f"改名{f['n']()}", "tier": "vip",
        "phones": "13800138000"}),
    # API
    ("GET", "/api/v1/me", (), None),
    ("GET", "/api/v1/departments", (), None),
    ("GET", "/api/v1/customers?phone=13800138000", ("customers.view",), None),
    ("POST", "/api/v1/customers", ("customers.edit",), lambda f: {
        "account_no": f"KH{f['n']()}", "name": "新客户", "phones": ["13900139000"]}),
    ("GET", "/api/v1/customers/{customer_id}", ("customers.view",), None),
    ("PATCH", "/api/v1/customers/{customer_id}", ("customers.edit",), lambda f: {
        "version": f["customer_version"](), "notes": f"备注{f['n']()}"}),
    ("GET", "/api/v1/customers/{customer_id}/history", ("customers.view",), None),
    # sessions, tokens, audit log
    ("GET", "/account/security", (), None),
    ("POST", "/tokens/{token_id}/revoke", ("users.manage",), lambda f: {}),
    ("POST", "/admin/users/{user_id}/end-sessions", ("users.manage",), lambda f: {}),
    ("GET", "/admin/audit", ("users.manage",), None),
    ("GET", "/api/v1/tokens", (), None),
    ("GET", "/api/v1/tokens?user_id={user_id}", ("users.manage",), None),
    ("POST", "/api/v1/tokens/{token_id}/revoke", ("users.manage",), lambda f: {}),
    ("GET", "/api/v1/audit", ("users.manage",), None),
    # last: they end the session the requests above ran in
    ("POST", "/api/v1/me/logout-everywhere", (), lambda f: {}),
    ("POST", "/account/logout-everywhere", (), lambda f: {}),
]

# Writes that answer 200 rather than 201 when allowed.
ANSWER_200 = {"/api/v1/tokens/{token_id}/revoke", "/api/v1/me/logout-everywhere"}

ALLOWED_STATUS = {("page", "GET"): 200, ("page", "POST"): 302,
                  ("api", "GET"): 200, ("api", "POST"): 201, ("api", "PATCH"): 200}


def _kind(path: str) -> str:
    return "api" if path.startswith("/api/") else "page"


def _expected(role: str, method: str, path: str, required, template: str = "") -> int:
    if role == ANONYMOUS:
        return 401 if _kind(path) == "api" else 302
    if set(required) <= _grants(role):
        return 200 if template in ANSWER_200 else ALLOWED_STATUS[(_kind(path), method)]
    return 403


@pytest.fixture
def world(app, make_user):
    """A user, a role and a customer for the requests to aim at."""
    from ticketing.auth.operations import issue_token
    from ticketing.customers.operations import create_customer
    target = make_user("staff", "operations", username="target", full_name="原来的名字")
    with app.app_context():
        customer = create_customer(None, {"account_no": "KH000001", "name": "王芳",
                                          "phones": ["13800138000"]})
        _token, token_row = issue_token(db.session.get(User, target.id), "matrix")
        db.session.commit()
        ids = {"user_id": target.id, "customer_id": customer.id, "token_id": token_row.id,
               "role_id": db.session.scalar(select(Role.id).where(Role.name == "staff")),
               "department_id": db.session.scalar(select(Department.id).where(
                   Department.code == "repair_team_2")),
               "category_id": db.session.scalar(select(FaultCategory.id).where(
                   FaultCategory.code == "other"))}
    counter = iter(range(100000, 10 ** 9))

    def customer_version():
        with app.app_context():
            return db.session.get(Customer, ids["customer_id"]).version

    return {**ids, "n": lambda: next(counter), "customer_version": customer_version}


def _snapshot(app) -> dict:
    """Everything a write on these pages could change."""
    with app.app_context():
        users = {u.username: (u.full_name, u.locale, u.active,
                              u.department.code if u.department else None,
                              sorted(r.name for r in u.roles))
                 for u in db.session.scalars(select(User))}
        customers = {c.account_no: (c.name, c.tier, c.notes, c.version, c.phone_numbers)
                     for c in db.session.scalars(select(Customer))}
        roles = {r.name: sorted(r.permissions) for r in db.session.scalars(select(Role))}
        departments = {d.code: (d.name, d.name_en, d.kind, d.active)
                       for d in db.session.scalars(select(Department))}
        departments.update({("fault", c.code): (c.name, c.name_en, c.active)
                            for c in db.session.scalars(select(FaultCategory))})
        history = db.session.scalar(select(func.count(CustomerChange.id)))
        tokens = db.session.scalar(select(func.count(ApiToken.id)))
        db.session.remove()
    return {"users": users, "customers": customers, "roles": roles, "history": history,
            "tokens": tokens, "departments": departments}


@pytest.mark.parametrize("role", [*DEFAULT_ROLES, ANONYMOUS])
def test_every_page_and_endpoint_allows_exactly_the_roles_holding_its_permissions(
        app, client, make_user, world, role):
    if role != ANONYMOUS:
        user = make_user(role, None)
        assert client.post("/login", data={"username": user.username,
                                           "password": PASSWORD}).status_code == 302
    mismatches = []
    for method, template, required, body in ENDPOINTS:
        path = template.format(**world)
        expected = _expected(role, method, path, required, template)
        before = _snapshot(app) if method != "GET" and expected in (302, 401, 403) \
            and not (expected == 302 and role != ANONYMOUS) else None
        payload = body(world) if body else None
        if _kind(path) == "api":
            response = client.open(path, method=method, json=payload)
        else:
            response = client.open(path, method=method, data=payload)
        if response.status_code != expected:
            mismatches.append(f"{method} {path}: {response.status_code}, expected {expected}")
            continue
        if expected == 403 or (expected == 401 and _kind(path) == "api"):
            if _kind(path) == "api":
                assert response.get_json()["error"] in ("forbidden", "unauthenticated")
            else:
                assert "text/html" in response.content_type
        if role == ANONYMOUS and _kind(path) == "page":
            assert response.headers["Location"].startswith("/login?next=")
        if before is not None:
            after = _snapshot(app)
            if after != before:
                mismatches.append(f"{method} {path} was refused but changed data")
    assert mismatches == []


def test_the_table_covers_every_route_of_accounts_and_customers(app):
    public = {"auth.login", "auth.logout", "auth_api.Tokens"}
    covered = {(m, re.sub(r"\{\w+\}", "<id>", t.split("?")[0])) for m, t, _r, _b in ENDPOINTS}
    missing = []
    for rule in app.url_map.iter_rules():
        area = rule.endpoint.split(".")[0]
        if area not in ("auth", "customers", "auth_api", "customers_api", "faults") \
                or rule.endpoint in public:
            continue
        path = re.sub(r"<[^>]+>", "<id>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, path) not in covered:
                missing.append(f"{method} {path}")
    assert missing == []


def _client_as(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username,
                                       "password": PASSWORD}).status_code == 302
    return client


def _role_id(app, name):
    with app.app_context():
        return db.session.scalar(select(Role.id).where(Role.name == name))


def test_an_admins_edit_of_a_role_takes_effect_on_the_next_request(app, make_user):
    make_user("admin", "management", username="boss")
    make_user("agent", "call_center", username="agent007")
    admin, agent = _client_as(app, "boss"), _client_as(app, "agent007")
    agent_role = _role_id(app, "agent")
    assert agent.get("/customers/new").status_code == 200
    assert agent.get("/admin/users").status_code == 403

    page = admin.get(f"/admin/roles/{agent_role}")
    assert page.status_code == 200 and b'value="customers.edit" checked' in page.data
    granted = (_grants("agent") - {"customers.edit"}) | {"users.manage"}
    saved = admin.post(f"/admin/roles/{agent_role}", data={"permissions": sorted(granted)})
    assert saved.status_code == 302

    assert agent.get("/customers/new").status_code == 403
    refused = agent.post("/api/v1/customers", json={"account_no": "KH1", "name": "王芳"})
    assert refused.status_code == 403
    assert agent.get("/admin/users").status_code == 200
    assert sorted(agent.get("/api/v1/me").get_json()["permissions"]) == sorted(granted)
    nav = agent.get("/").get_data(True)
    assert "/admin/users" in nav, "the navigation follows the permissions too"


def test_a_role_cannot_be_given_a_permission_that_does_not_exist(app, make_user):
    make_user("admin", "management", username="boss")
    admin = _client_as(app, "boss")
    staff_role = _role_id(app, "staff")
    response = admin.post(f"/admin/roles/{staff_role}",
                          data={"permissions": ["customers.view", "root.everything"]})
    assert response.status_code == 400
    assert "root.everything" in response.get_data(True)
    with app.app_context():
        assert db.session.get(Role, staff_role).permissions == _grants("staff")


def test_the_roles_page_lists_every_role_with_its_permissions(app, make_user):
    make_user("admin", "management", username="boss")
    page = _client_as(app, "boss").get("/admin/roles").get_data(True)
    for name in DEFAULT_ROLES:
        assert f"<code>{name}</code>" in page
