"""Who may do what on the incident pages and endpoints, derived from the roles' permissions as
data, for every default role and an anonymous visitor (the pattern of
test_sec_permissions.py): denied is 403 (anonymous: a redirect to /login for pages, 401 for
the API) and a refused write changes nothing. Reviewing and clearing also need the
incident's authorised department: every user here is in it (repair); the department rule
itself is tested in tests/incidents/."""
import re

import pytest
from sqlalchemy import func, select

from ticketing import create_app
from ticketing.auth.permissions import DEFAULT_ROLES, default_permissions
from ticketing.extensions import db
from ticketing.incidents.models import Incident, IncidentLink
from ticketing.tickets.models import Ticket

PASSWORD = "correct-horse-9"
ANONYMOUS = "anonymous"
_WIRED = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})


def _grants(role: str) -> set[str]:
    return default_permissions(role, _WIRED)


def _incident_body(f):
    return {"name": f"光缆中断{f['n']()}", "areas": ["东城区"], "fault_category": "fibre_cable"}


# (method, path, permissions required, body, allowed status)
ENDPOINTS = [
    ("GET", "/incidents", ("incidents.view",), None, 200),
    ("POST", "/incidents/new", ("incidents.manage",), lambda f: {
        **_incident_body(f), "areas": "东城区", "suspension_type": "mass_fault"}, 302),
    ("GET", "/incidents/{incident_id}", ("incidents.view",), None, 200),
    ("POST", "/incidents/{new_incident_id}/edit", ("incidents.manage",), lambda f: {
        **_incident_body(f), "areas": "东城区, 西城区", "suspension_type": "mass_fault",
        "version": "1"}, 302),
    ("POST", "/incidents/{new_incident_id}/links", ("incidents.link",),
     lambda f: {"ticket_ids": str(f["new_repair_id"])}, 302),
    ("POST", "/incidents/{linked_incident_id}/links/{linked_ticket_id}/review",
     ("incidents.review",), lambda f: {"decision": "confirm", "reason": ""}, 302),
    ("POST", "/incidents/{new_incident_id}/clear", ("incidents.clear",),
     lambda f: {"version": "1"}, 302),
    ("POST", "/incidents/{cleared_incident_id}/release", ("incidents.release",),
     lambda f: {"version": "2", "note": ""}, 302),
    ("POST", "/incidents/{new_incident_id}/call-ticket", ("incidents.link", "tickets.create"),
     lambda f: {"customer_id": str(f["customer_id"]), "caller_phone": "13800138000",
                "description": "没有信号"}, 302),
    ("GET", "/api/v1/fault-categories", (), None, 200),
    ("GET", "/api/v1/incidents", ("incidents.view",), None, 200),
    ("POST", "/api/v1/incidents", ("incidents.manage",), _incident_body, 201),
    ("GET", "/api/v1/incidents/{incident_id}", ("incidents.view",), None, 200),
    ("PATCH", "/api/v1/incidents/{new_incident_id}", ("incidents.manage",),
     lambda f: {"version": 1, "description": "抢修中"}, 200),
    ("GET", "/api/v1/incidents/{incident_id}/links", ("incidents.view",), None, 200),
    ("POST", "/api/v1/incidents/{new_incident_id}/links", ("incidents.link",),
     lambda f: {"ticket_ids": [f["new_repair_id"]]}, 201),
    ("POST", "/api/v1/incidents/{linked_incident_id}/links/{linked_ticket_id}/review",
     ("incidents.review",), lambda f: {"confirm": True}, 200),
    ("POST", "/api/v1/incidents/{new_incident_id}/clear", ("incidents.clear",),
     lambda f: {"version": 1}, 200),
    ("POST", "/api/v1/incidents/{cleared_incident_id}/release", ("incidents.release",),
     lambda f: {"version": 2}, 200),
]
FRESH = ("new_incident_id", "new_repair_id", "linked_incident_id", "linked_ticket_id",
         "cleared_incident_id")


def _kind(path):
    return "api" if path.startswith("/api/") else "page"


def _expected(role, path, required, allowed):
    if role == ANONYMOUS:
        return 401 if _kind(path) == "api" else 302
    return allowed if set(required) <= _grants(role) else 403


class World(dict):
    """Ids the requests aim at; FRESH ones are made on first use and dropped by fresh()."""

    def __init__(self, app, ids):
        super().__init__(ids)
        self.app, self.counter = app, iter(range(1000, 10 ** 9))
        self["n"] = lambda: next(self.counter)

    def fresh(self):
        for key in FRESH:
            self.pop(key, None)

    def __missing__(self, key):
        from ticketing.incidents import operations as ops
        from ticketing.tickets.operations import open_ticket
        if key not in FRESH:
            raise KeyError(key)
        with self.app.app_context():
            body = {"name": "故障", "areas": ["东城区"], "fault_category": "cable"}
            if key == "new_repair_id":
                self[key] = open_ticket(None, kind="repair", customer_id=self["customer_id"],
                                        description="没有信号").id
            elif key == "new_incident_id":
                self[key] = ops.open_incident(None, body).id
            elif key in ("linked_incident_id", "linked_ticket_id"):
                incident = ops.open_incident(None, body)
                ticket = open_ticket(None, kind="repair", customer_id=self["customer_id"],
                                     description="没有信号")
                ops.link_tickets(None, incident, [ticket.id])
                self["linked_incident_id"], self["linked_ticket_id"] = incident.id, ticket.id
            elif key == "cleared_incident_id":
                incident = ops.open_incident(None, body)
                ops.clear_incident(None, incident)
                self[key] = incident.id
            db.session.commit()
            db.session.remove()
        return self[key]


@pytest.fixture
def world(app):
    from ticketing.customers.operations import create_customer
    from ticketing.incidents.operations import open_incident
    with app.app_context():
        customer = create_customer(None, {"account_no": "KH1", "name": "王芳", "area": "东城区",
                                          "phones": ["13800138000"]})
        incident = open_incident(None, {"name": "光缆中断", "areas": ["东城区"],
                                        "fault_category": "fibre_cable"})
        db.session.commit()
        ids = {"customer_id": customer.id, "incident_id": incident.id}
        db.session.remove()
    return World(app, ids)


def _snapshot(app):
    with app.app_context():
        result = {
            "incidents": {i.id: (i.state, i.version) for i in db.session.scalars(
                select(Incident))},
            "links": {(l.incident_id, l.ticket_id): l.review for l in db.session.scalars(
                select(IncidentLink))},
            "tickets": {t.id: (t.state, t.version) for t in db.session.scalars(select(Ticket))},
            "count": db.session.scalar(select(func.count(Ticket.id))),
        }
        db.session.remove()
    return result


def _send(client, method, path, payload):
    if _kind(path) == "api":
        return client.open(path, method=method, json=payload)
    return client.open(path, method=method, data=payload)


@pytest.mark.parametrize("role", [*DEFAULT_ROLES, ANONYMOUS])
def test_every_incident_route_allows_exactly_the_roles_holding_its_permissions(
        app, client, make_user, world, role):
    if role != ANONYMOUS:
        user = make_user(role, "repair")
        assert client.post("/login", data={"username": user.username,
                                           "password": PASSWORD}).status_code == 302
    mismatches = []
    for method, template, required, body, allowed in ENDPOINTS:
        world.fresh()
        path = template.format_map(world)
        expected = _expected(role, path, required, allowed)
        payload = body(world) if body else None
        before = _snapshot(app) if method != "GET" and expected in (302, 401, 403) \
            and not (expected == 302 and role != ANONYMOUS) else None
        response = _send(client, method, path, payload)
        if response.status_code != expected:
            mismatches.append(f"{method} {path}: {response.status_code}, expected {expected}")
            continue
        if before is not None and _snapshot(app) != before:
            mismatches.append(f"{method} {path} was refused but changed data")
    assert mismatches == []


def test_an_allowed_write_does_change_data(app, client, make_user, world):
    user = make_user("admin", "repair")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    for method, template, _required, body, allowed in ENDPOINTS:
        if method == "GET":
            continue
        world.fresh()
        path = template.format_map(world)
        payload = body(world)
        before = _snapshot(app)
        response = _send(client, method, path, payload)
        assert response.status_code == allowed, (path, response.status_code)
        if _kind(path) == "page":
            assert "/login" not in response.headers["Location"]
        assert _snapshot(app) != before, path


def test_the_table_covers_every_incident_route(app):
    covered = {(m, re.sub(r"\{\w+\}", "<id>", t)) for m, t, *_rest in ENDPOINTS}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("incidents", "incidents_api"):
            continue
        path = re.sub(r"<[^>]+>", "<id>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, path) not in covered:
                missing.append(f"{method} {path}")
    assert missing == []
