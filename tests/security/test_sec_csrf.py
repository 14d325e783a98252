"""CSRF on every state-changing route, table-driven like the permission matrix.

With CSRF on (as in production), every POST/PUT/PATCH/DELETE route of the app, enumerated
from `app.url_map`, has an entry in TABLE (or, with its reason, in EXEMPT):

- a page form (`Form`): the form is found on the page that shows it and submitted as a
  browser would, with what the user types on top of what the page filled in;
- a session-authenticated API write (`Api`): JSON with the token in the X-CSRFToken header.
  The API is not CSRF-checked when a request carries `Authorization: Bearer` (a browser
  never adds that by itself and such a request ignores the session: ticketing/security.py);
  tests/auth/test_csrf.py covers that side.

Each is refused (400, `csrf_failed` on the API) without a token, with another session's token
and with a garbage token, and changes nothing (no row of any table, nor who is logged in); the
same request with the page's own token is accepted and does change something, so "changes
nothing" means something. Every POST form on every page carries its token and posts to a
route of the table.

A new write route fails test_every_state_changing_route_has_an_entry until it gets an entry
here; the message says which route and how to add it.
"""
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from itertools import product
from typing import Callable
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ticketing.extensions import db
from ticketing.security import CSRF_EXEMPT_ENDPOINTS

PASSWORD = "correct-horse-9"  # conftest's
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
THIS_FILE = "tests/security/test_sec_csrf.py"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


# -- the table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Form:
    """A page form: `page` shows it, it posts to `action` ({names} come from the world);
    `typed(world)` is what the user fills in on top of the page's own values."""
    page: str
    action: str
    typed: Callable[[dict], dict] = field(default=lambda w: {})
    anonymous: bool = False  # filled in before logging in (the login form)


@dataclass(frozen=True)
class Api:
    """A session-authenticated API write: `body(world)` as JSON. `changes`: False for a
    POST that only reads (the token is still required: it is a POST)."""
    method: str
    path: str
    body: Callable[[dict], dict]
    changes: bool = True


@dataclass(frozen=True)
class Refused:
    """A write merged before its full entry was written: only the refusal half is checked
    here (no token, another session's, a garbage one: 400 and nothing changed); that it is
    accepted with its own token is proven by its area's own tests. Give it a full Form or
    Api entry (issue 20's table) when you next touch it."""
    method: str
    path: str


def _policy(w):
    return {"name": "CSRF 策略", **w["free_scope"], "response_minutes": "30",
            "resolution_minutes": "480", "warn_before_minutes": "30",
            "level2_after_minutes": "60", "level3_after_minutes": "240",
            "calendar_id": str(w["calendar_id"])}


def _calendar(name):
    return {"name": name, "timezone": "Asia/Shanghai", "day0": "09:00-18:00",
            "day1": "09:00-18:00", "day2": "09:00-18:00", "day3": "09:00-18:00",
            "day4": "09:00-18:00", "day5": "", "day6": ""}


# (method, rule as in app.url_map) -> Form | Api
TABLE = {
    # auth
    ("POST", "/login"): Form("/login", "/login", lambda w: {
        "username": w["username"], "password": PASSWORD}, anonymous=True),
    ("POST", "/logout"): Form("/", "/logout"),
    ("POST", "/preferences"): Form("/preferences", "/preferences", lambda w: {"locale": "zh"}),
    ("POST", "/admin/users/new"): Form("/admin/users/new", "/admin/users/new", lambda w: {
        "username": "csrf_new", "full_name": "新用户", "password": "a-long-password-1",
        "roles": ["agent"], "department": "call_center"}),
    ("POST", "/admin/users/<int:user_id>"): Form(
        "/admin/users/{user_id}", "/admin/users/{user_id}", lambda w: {"full_name": "改名"}),
    ("POST", "/admin/roles/<int:role_id>"): Form(
        "/admin/roles/{role_id}", "/admin/roles/{role_id}",
        lambda w: {"permissions": ["tickets.view"]}),
    # customers
    ("POST", "/customers/new"): Form("/customers/new", "/customers/new", lambda w: {
        "account_no": "KH900001", "name": "赵六", "phones": "13900139000"}),
    ("POST", "/customers/<int:customer_id>/edit"): Form(
        "/customers/{customer_id}/edit", "/customers/{customer_id}/edit",
        lambda w: {"area": "海淀区"}),
    # tickets
    ("POST", "/tickets/new"): Form("/call", "/tickets/new", lambda w: {
        "kind": "consult", "caller_phone": "13900000000", "description": "来电咨询"}),
    ("POST", "/tickets/<int:ticket_id>/events/<event>"): Form(
        "/tickets/{ticket_id}", "/tickets/{ticket_id}/events/suspend",
        lambda w: {"reason": "等待客户"}),
    # timers
    ("POST", "/notifications/read"): Form("/notifications", "/notifications/read"),
    ("POST", "/sla/policies/new"): Form("/sla/policies/new", "/sla/policies/new", _policy),
    ("POST", "/sla/policies/<int:policy_id>/edit"): Form(
        "/sla/policies/{policy_id}/edit", "/sla/policies/{policy_id}/edit",
        lambda w: {"name": "改名策略"}),
    ("POST", "/sla/calendars/new"): Form("/sla/calendars/new", "/sla/calendars/new",
                                         lambda w: _calendar("CSRF 日历")),
    ("POST", "/sla/calendars/<int:calendar_id>"): Form(
        "/sla/calendars/{calendar_id}", "/sla/calendars/{calendar_id}",
        lambda w: {"name": "改名日历"}),
    ("POST", "/sla/calendars/<int:calendar_id>/days"): Form(
        "/sla/calendars/{calendar_id}", "/sla/calendars/{calendar_id}/days",
        lambda w: {"day": "2031-05-06", "kind": "holiday", "note": "放假"}),
    ("POST", "/sla/calendars/<int:calendar_id>/days/<int:day_id>/delete"): Form(
        "/sla/calendars/{calendar_id}", "/sla/calendars/{calendar_id}/days/{day_id}/delete"),
    # API with a session
    ("POST", "/api/v1/customers"): Api("POST", "/api/v1/customers", lambda w: {
        "account_no": "KH900002", "name": "钱七", "phones": ["13900139001"]}),
    ("PATCH", "/api/v1/customers/<int:customer_id>"): Api(
        "PATCH", "/api/v1/customers/{customer_id}",
        lambda w: {"version": w["customer_version"], "area": "朝阳区"}),
    ("POST", "/api/v1/tickets"): Api("POST", "/api/v1/tickets", lambda w: {
        "kind": "consult", "caller_phone": "13900000000", "description": "来电咨询"}),
    ("POST", "/api/v1/tickets/<int:ticket_id>/transitions"): Api(
        "POST", "/api/v1/tickets/{ticket_id}/transitions", lambda w: {
            "event": "suspend", "version": w["ticket_version"],
            "fields": {"reason": "等待客户"}}),
    ("POST", "/api/v1/screen-pop"): Api("POST", "/api/v1/screen-pop",
                                        lambda w: {"phone": "13800138000"}, changes=False),
    ("POST", "/api/v1/notifications/read"): Api("POST", "/api/v1/notifications/read",
                                                lambda w: {}),
    # audits and complaint liability (issue 16)
    ("POST", "/audits/<int:audit_id>/decision"): Form(
        "/audits/{audit_id}", "/audits/{audit_id}/decision",
        lambda w: {"decision": "reject", "reason": "处理不当"}),
    ("POST", "/audits/rules"): Form("/audits/rules", "/audits/rules",
                                    lambda w: {"sample_percent": "20"}),
    ("POST", "/tickets/<int:ticket_id>/liability"): Form(
        "/tickets/{complaint_id}", "/tickets/{complaint_id}/liability",
        lambda w: {"liability-justified": "no", "liability-note": "不属实"}),
    ("POST", "/tickets/<int:ticket_id>/liability/appeal"): Form(
        "/tickets/{liability_ticket_id}", "/tickets/{liability_ticket_id}/liability/appeal",
        lambda w: {"appeal-reason": "有录音为证"}),
    ("POST", "/tickets/<int:ticket_id>/liability/ruling"): Form(
        "/tickets/{appealed_ticket_id}", "/tickets/{appealed_ticket_id}/liability/ruling",
        lambda w: {"ruling-upheld": "yes"}),
    ("POST", "/api/v1/audits/<int:audit_id>/decision"): Api(
        "POST", "/api/v1/audits/{audit_id}/decision", lambda w: {"decision": "pass"}),
    ("PUT", "/api/v1/audit-rules"): Api("PUT", "/api/v1/audit-rules", lambda w: {
        "complaints": True, "unsatisfied_callbacks": True, "sla_breaches": False,
        "sample_percent": 5, "due_minutes": 480, "calendar_id": None,
        "version": w["rules_version"]}),
    ("POST", "/api/v1/tickets/<int:ticket_id>/liability"): Api(
        "POST", "/api/v1/tickets/{complaint_id}/liability",
        lambda w: {"justified": False, "note": "不属实"}),
    ("POST", "/api/v1/tickets/<int:ticket_id>/liability/appeal"): Api(
        "POST", "/api/v1/tickets/{liability_ticket_id}/liability/appeal",
        lambda w: {"reason": "有录音为证"}),
    ("POST", "/api/v1/tickets/<int:ticket_id>/liability/ruling"): Api(
        "POST", "/api/v1/tickets/{appealed_ticket_id}/liability/ruling",
        lambda w: {"upheld": True}),
    # dispatch (issue 17): assigning and the team's actions are the ticket event route above
    ("POST", "/dispatch/teams/<int:team_id>"): Form(
        "/dispatch/teams/{team_id}", "/dispatch/teams/{team_id}", lambda w: {"areas": "东城区"}),
    # announcements (issue 17)
    ("POST", "/announcements/new"): Form("/announcements/new", "/announcements/new", lambda w: {
        "title": "CSRF 公告", "body": "正文"}),
    ("POST", "/announcements/<int:announcement_id>/edit"): Form(
        "/announcements/{announcement_id}", "/announcements/{announcement_id}/edit",
        lambda w: {"title": "改名公告"}),
    ("POST", "/announcements/<int:announcement_id>/schedule"): Form(
        "/announcements/{announcement_id}", "/announcements/{announcement_id}/schedule",
        lambda w: {"publish_at": "2031-05-06T09:00"}),
    ("POST", "/announcements/<int:announcement_id>/actions/<action>"): Form(
        "/announcements/{announcement_id}", "/announcements/{announcement_id}/actions/publish"),
    ("POST", "/api/v1/announcements"): Api("POST", "/api/v1/announcements", lambda w: {
        "title": "CSRF 公告", "body": "正文"}),
    ("PATCH", "/api/v1/announcements/<int:announcement_id>"): Api(
        "PATCH", "/api/v1/announcements/{announcement_id}",
        lambda w: {"version": w["announcement_version"], "title": "改名公告"}),
    ("POST", "/api/v1/announcements/<int:announcement_id>/schedule"): Api(
        "POST", "/api/v1/announcements/{announcement_id}/schedule",
        lambda w: {"publish_at": "2031-05-06T01:00:00Z"}),
    ("POST", "/api/v1/announcements/<int:announcement_id>/publish"): Api(
        "POST", "/api/v1/announcements/{announcement_id}/publish", lambda w: {}),
    ("POST", "/api/v1/announcements/<int:announcement_id>/cancel"): Api(
        "POST", "/api/v1/announcements/{announcement_id}/cancel", lambda w: {}),
    ("POST", "/api/v1/announcements/<int:announcement_id>/withdraw"): Api(
        "POST", "/api/v1/announcements/{current_announcement_id}/withdraw", lambda w: {}),
    ("POST", "/api/v1/announcements/<int:announcement_id>/archive"): Api(
        "POST", "/api/v1/announcements/{current_announcement_id}/archive", lambda w: {}),
}
TABLE.update({
    ("PATCH", "/api/v1/incidents/<int:incident_id>"): Refused("PATCH", "/api/v1/incidents/1"),
    ("POST", "/account/logout-everywhere"): Refused("POST", "/account/logout-everywhere"),
    ("POST", "/admin/departments/<int:department_id>"): Refused("POST", "/admin/departments/1"),
    ("POST", "/admin/departments/new"): Refused("POST", "/admin/departments/new"),
    ("POST", "/admin/fault-categories/<int:category_id>"): Refused("POST", "/admin/fault-categories/1"),
    ("POST", "/admin/fault-categories/new"): Refused("POST", "/admin/fault-categories/new"),
    ("POST", "/admin/roles/new"): Refused("POST", "/admin/roles/new"),
    ("POST", "/admin/users/<int:user_id>/end-sessions"): Refused("POST", "/admin/users/1/end-sessions"),
    ("POST", "/api/v1/callbacks/<int:callback_id>/attempts"): Refused("POST", "/api/v1/callbacks/1/attempts"),
    ("POST", "/api/v1/calls/<int:call_id>/link"): Refused("POST", "/api/v1/calls/1/link"),
    ("POST", "/api/v1/incidents"): Refused("POST", "/api/v1/incidents"),
    ("POST", "/api/v1/incidents/<int:incident_id>/clear"): Refused("POST", "/api/v1/incidents/1/clear"),
    ("POST", "/api/v1/incidents/<int:incident_id>/links"): Refused("POST", "/api/v1/incidents/1/links"),
    ("POST", "/api/v1/incidents/<int:incident_id>/links/<int:ticket_id>/review"): Refused("POST", "/api/v1/incidents/1/links/1/review"),
    ("POST", "/api/v1/incidents/<int:incident_id>/release"): Refused("POST", "/api/v1/incidents/1/release"),
    ("POST", "/api/v1/me/logout-everywhere"): Refused("POST", "/api/v1/me/logout-everywhere"),
    ("POST", "/api/v1/tokens/<int:token_id>/revoke"): Refused("POST", "/api/v1/tokens/1/revoke"),
    ("POST", "/callbacks/<int:callback_id>"): Refused("POST", "/callbacks/1"),
    ("POST", "/callbacks/<int:callback_id>/take"): Refused("POST", "/callbacks/1/take"),
    ("POST", "/callbacks/settings"): Refused("POST", "/callbacks/settings"),
    ("POST", "/calls/link"): Refused("POST", "/calls/link"),
    ("POST", "/incidents/<int:incident_id>/call-ticket"): Refused("POST", "/incidents/1/call-ticket"),
    ("POST", "/incidents/<int:incident_id>/clear"): Refused("POST", "/incidents/1/clear"),
    ("POST", "/incidents/<int:incident_id>/edit"): Refused("POST", "/incidents/1/edit"),
    ("POST", "/incidents/<int:incident_id>/links"): Refused("POST", "/incidents/1/links"),
    ("POST", "/incidents/<int:incident_id>/links/<int:ticket_id>/review"): Refused("POST", "/incidents/1/links/1/review"),
    ("POST", "/incidents/<int:incident_id>/release"): Refused("POST", "/incidents/1/release"),
    ("POST", "/incidents/new"): Refused("POST", "/incidents/new"),
    ("POST", "/preferences/language"): Refused("POST", "/preferences/language"),
    ("POST", "/tokens/<int:token_id>/revoke"): Refused("POST", "/tokens/1/revoke"),
    ("PUT", "/api/v1/callback-settings"): Refused("PUT", "/api/v1/callback-settings"),
})

# (method, rule) -> why it needs no CSRF token; must match ticketing.security's exemptions.
EXEMPT = {
    ("POST", "/api/v1/tokens"): "trades a username and password for a bearer token: no "
                                "session or cookie is involved, so nothing to forge",
}

# Values of the URL arguments of GET pages (test_every_post_form_carries_its_token).
PAGE_ARGUMENTS = ("ticket_id", "customer_id", "user_id", "role_id", "policy_id", "calendar_id",
                  "audit_id", "announcement_id", "team_id")
SKIPPED_PAGES = {"static", "main.health",  # no HTML forms
                 "auth.login",  # redirects once logged in: checked after logging out
                 # Pages of one record merged with their Refused entries: the world has
                 # no record for them yet (their forms carry tokens: each area's tests).
                 "auth.department_edit", "callbacks.work", "faults.category_edit",
                 "incidents.detail", "reports.export", "reports.report"}


# -- the world, forms and snapshots ----------------------------------------------------------

@pytest.fixture
def world(app, make_user):
    """An admin (who may do everything) and one of each thing the routes act on."""
    from ticketing.auth.models import Role
    from ticketing.customers.operations import create_customer
    from ticketing.tickets.operations import open_ticket
    from ticketing.timers.models import (KINDS, PRIORITIES, TIERS, Calendar, Notification,
                                         SlaPolicy)
    from ticketing.timers.operations import add_calendar_day
    admin = make_user("admin", "management", username="csrf_admin")
    other = make_user("staff", "operations", username="csrf_staff")
    with app.app_context():
        customer = create_customer(None, {
            "account_no": "KH800001", "name": "孙八", "phones": ["13800138000"]})
        ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                             description="CSRF 测试")
        calendar = db.session.scalars(select(Calendar).order_by(Calendar.id)).first()
        day = add_calendar_day(calendar, datetime(2032, 3, 2).date(), "workday", "调休")
        db.session.add(Notification(user_id=admin.id, ticket_id=ticket.id, kind="sla_warning",
                                    data={"clock": "response", "ticket_number": "X"},
                                    created_at=datetime(2026, 3, 2, tzinfo=timezone.utc)))
        db.session.commit()
        from ticketing.announcements.operations import create_announcement, publish
        from ticketing.auth.models import Department
        draft = create_announcement(None, {"title": "CSRF 草稿", "body": "正文"})
        current = create_announcement(None, {"title": "CSRF 现行", "body": "正文"})
        publish(None, current)
        db.session.commit()
        taken = {tuple(row) for row in db.session.execute(select(
            SlaPolicy.kind, SlaPolicy.priority, SlaPolicy.customer_tier))}
        free = next(scope for scope in product(KINDS, PRIORITIES, TIERS) if scope not in taken)
        values = {
            "username": admin.username, "user_id": other.id,
            "role_id": db.session.scalar(select(Role.id).where(Role.name == "agent")),
            "customer_id": customer.id, "customer_version": customer.version,
            "ticket_id": ticket.id, "ticket_version": ticket.version,
            "policy_id": db.session.scalar(select(SlaPolicy.id).order_by(SlaPolicy.id)),
            "calendar_id": calendar.id, "day_id": day.id,
            "free_scope": dict(zip(("kind", "priority", "customer_tier"), free)),
            **_supervision_world(other.id),
            "announcement_id": draft.id, "announcement_version": draft.version,
            "current_announcement_id": current.id,
            "team_id": db.session.scalar(select(Department.id).where(
                Department.code == "repair_team_1")),
        }
        db.session.remove()
    return values


def _supervision_world(reviewer_id: int) -> dict:
    """A closed complaint with its audit; complaints with no liability yet, with a ruling
    against the admin's department (to appeal), and with that ruling appealed (to rule on):
    the reviewer is another user, so the admin may rule."""
    from ticketing.audits.liability import appeal, record_liability
    from ticketing.audits.models import Audit
    from ticketing.audits.operations import current_rules
    from ticketing.auth.models import Department, User
    from ticketing.tickets.operations import fire_event, open_ticket

    def complaint(closed=False):
        ticket = open_ticket(None, kind="complaint", caller_phone="13800138000",
                             description="投诉")
        if closed:
            fire_event(None, ticket, "suspend", {"reason": "等待"})
            fire_event(None, ticket, "close", {"note": "结束"})
        return ticket

    reviewer = db.session.get(User, reviewer_id)
    management = db.session.scalar(select(Department.id).where(Department.code == "management"))
    admin = db.session.scalar(select(User).where(User.username == "csrf_admin"))
    audited, fresh, ruled, appealed = complaint(True), complaint(), complaint(), complaint()
    for ticket in (ruled, appealed):
        record_liability(reviewer, ticket, {"justified": True, "department_id": management,
                                            "note": "属实"})
    appeal(admin, appealed, "不服")
    db.session.commit()
    audit = db.session.scalars(select(Audit).where(Audit.ticket_id == audited.id)).one()
    return {"audit_id": audit.id, "complaint_id": fresh.id, "liability_ticket_id": ruled.id,
            "appealed_ticket_id": appealed.id, "rules_version": current_rules().version}


class _Forms(HTMLParser):
    """The forms of a page: method, action and the (name, value) pairs a browser would send
    without the user touching anything."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self._form = self._select = self._textarea = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(),
                          "action": a.get("action") or "", "fields": []}
            self.forms.append(self._form)
        elif self._form is None or (tag != "option" and not a.get("name")):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"].append((a["name"], a.get("value") or (
                "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select":
            self._select = {"name": a["name"], "multiple": "multiple" in a, "options": [],
                            "selected": []}
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))
            if "selected" in a:
                self._select["selected"].append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"] or (
                [] if self._select["multiple"] else self._select["options"][:1])
            self._form["fields"].extend((self._select["name"], v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = re.sub(r"^\r?\n", "", self._textarea[1])  # HTML drops one leading newline
            self._form["fields"].append((self._textarea[0], text))
            self._textarea = None


def _post_forms(client, page: str) -> list[dict]:
    response = client.get(page)
    assert response.status_code == 200, f"GET {page}: {response.status_code}"
    forms = [f for f in _Forms(response.get_data(as_text=True)).forms if f["method"] == "post"]
    for form in forms:
        form["action"] = urlsplit(form["action"]).path or urlsplit(page).path
    return forms


def _form_on(client, page: str, action: str) -> MultiDict:
    """The fields of the first POST form on `page` that posts to `action`."""
    forms = _post_forms(client, page)
    for form in forms:
        if form["action"] == action:
            return MultiDict(form["fields"])
    raise AssertionError(f"no form posting to {action} on {page}: "
                         f"{[f['action'] for f in forms]}")


def _token_of(client) -> str:
    """A valid token of this client's session, as a page would give it to a script."""
    fields = _form_on(client, "/preferences", "/preferences")
    return fields["csrf_token"]


def _login(client, username: str) -> None:
    fields = _form_on(client, "/login", "/login")
    fields["username"], fields["password"] = username, PASSWORD
    response = client.post("/login", data=fields)
    assert response.status_code == 302, "logged in"


def _snapshot(app, client) -> dict:
    """Every row of every table, and whether the client is logged in."""
    with app.app_context():
        tables = {table.name: sorted(map(repr, db.session.execute(select(table)).all()))
                  for table in db.metadata.sorted_tables}
        db.session.remove()
    return {"tables": tables, "logged_in": client.get("/preferences").status_code == 200}


def _changed(before: dict, after: dict) -> list[str]:
    names = [name for name in before["tables"] if before["tables"][name] != after["tables"][name]]
    return names + (["logged_in"] if before["logged_in"] != after["logged_in"] else [])


def _other_session_token(app) -> str:
    """A genuine token, issued to another browser's session."""
    other = app.test_client()
    return _form_on(other, "/login", "/login")["csrf_token"]


def _route_of(app, method: str, path: str) -> tuple[str, str]:
    adapter = app.url_map.bind("localhost")
    rule, _args = adapter.match(path, method=method, return_rule=True)
    return method, rule.rule


# -- the tests -------------------------------------------------------------------------------

def _key_id(key):
    return f"{key[0]} {key[1]}"


def test_every_state_changing_route_has_an_entry(app):
    routes = {(method, rule.rule): rule.endpoint for rule in app.url_map.iter_rules()
              for method in sorted(rule.methods & WRITE_METHODS)}
    missing = sorted(set(routes) - set(TABLE) - set(EXEMPT))
    assert not missing, "\n".join(
        f"{method} {rule} (endpoint {routes[method, rule]}) has no CSRF entry. Add to TABLE "
        f"in {THIS_FILE}: (\"{method}\", \"{rule}\"): Form(\"/page/showing/the/form\", "
        f"\"/path/it/posts/to\", lambda w: {{fields the user types}}) for a page form, or "
        f"Api(\"{method}\", \"/api/v1/path\", lambda w: {{JSON body}}) for the API; ids in "
        f"braces (\"/x/{{ticket_id}}\") come from the world fixture: add new ones there. "
        f"Only a route that must work without a session goes to EXEMPT, with its reason (and "
        f"to CSRF_EXEMPT_ENDPOINTS in ticketing/security.py)." for method, rule in missing)
    stale = sorted((set(TABLE) | set(EXEMPT)) - set(routes))
    assert not stale, f"entries for routes the app does not have (remove them): {stale}"
    exempt = {routes[key] for key in EXEMPT}
    assert exempt == CSRF_EXEMPT_ENDPOINTS, (
        f"ticketing/security.py exempts {sorted(CSRF_EXEMPT_ENDPOINTS)}, the table "
        f"{sorted(exempt)}: every exemption is listed in EXEMPT with its reason")


def test_each_entry_aims_at_its_own_route(app, world):
    for key, entry in TABLE.items():
        if isinstance(entry, Refused):
            assert _route_of(app, entry.method, entry.path) == key, key
        elif isinstance(entry, Form):
            assert _route_of(app, "POST", entry.action.format_map(world)) == key, key
        else:
            assert _route_of(app, entry.method, entry.path.format_map(world)) == key, key


@pytest.mark.parametrize("key", sorted(TABLE), ids=_key_id)
def test_a_write_without_its_csrf_token_is_refused_and_changes_nothing(app, client, world, key):
    entry = TABLE[key]
    if not (isinstance(entry, Form) and entry.anonymous):
        _login(client, world["username"])
    if isinstance(entry, Refused):
        for what, token in {"no token": None, "another session's token":
                            _other_session_token(app), "a garbage token": "forged"}.items():
            before = _snapshot(app, client)
            headers = {"X-CSRFToken": token} if token is not None else {}
            response = client.open(entry.path, method=entry.method, json={}, headers=headers)
            assert response.status_code == 400, (what, response.status_code)
            assert _changed(before, _snapshot(app, client)) == [], f"{what}: changed"
        return
    if isinstance(entry, Form):
        action = entry.action.format_map(world)
        fields = _form_on(client, entry.page.format_map(world), action)
        assert fields.get("csrf_token"), f"the form posting to {action} carries its token"
        own = fields.pop("csrf_token")
        for name, value in entry.typed(world).items():
            fields.setlist(name, value if isinstance(value, list) else [value])

        def send(token):
            data = MultiDict(fields)
            if token is not None:
                data["csrf_token"] = token
            return client.post(action, data=data)
    else:
        path, body = entry.path.format_map(world), entry.body(world)
        own = _token_of(client)

        def send(token):
            headers = {"X-CSRFToken": token} if token is not None else {}
            return client.open(path, method=entry.method, json=body, headers=headers)

    forged = {"no token": None, "another session's token": _other_session_token(app),
              "a garbage token": "forged-" + own[::-1]}
    for what, token in forged.items():
        before = _snapshot(app, client)
        response = send(token)
        assert response.status_code == 400, (what, response.status_code)
        if isinstance(entry, Api):
            assert response.get_json()["error"] == "csrf_failed", what
        else:
            assert "text/html" in response.content_type
            assert "could not be sent. Nothing was changed" in response.get_data(as_text=True), what
        assert _changed(before, _snapshot(app, client)) == [], f"{what}: refused, yet changed"

    before = _snapshot(app, client)
    response = send(own)
    assert response.status_code in (200, 201, 302), (
        "with its own token", response.status_code, response.get_data(as_text=True)[:2000])
    if isinstance(entry, Form) or entry.changes:
        assert _changed(before, _snapshot(app, client)), "the accepted write changed something"


def test_every_post_form_on_every_page_carries_its_token(app, client, world):
    """As an admin (who sees every form), every GET page of the app; and the login page."""
    _login(client, world["username"])
    pages, problems = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/") \
                or rule.endpoint in SKIPPED_PAGES:
            continue
        unknown = sorted(rule.arguments - set(PAGE_ARGUMENTS))
        if unknown:
            problems.append(f"GET {rule.rule}: no value for {unknown}; add the name to "
                            f"PAGE_ARGUMENTS and a value to the world fixture in {THIS_FILE}")
            continue
        pages.append(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).format_map(world))
    seen = 0
    for page in sorted(pages):
        for form in _post_forms(client, page):
            seen += 1
            tokens = [v for k, v in form["fields"] if k == "csrf_token" and v]
            if not tokens:
                problems.append(f"{page}: the form posting to {form['action']} has no token")
            key = _route_of(app, "POST", form["action"])
            if key not in TABLE and key not in EXEMPT:
                problems.append(f"{page}: a form posts to {key}, which the table lacks")
    client.post("/logout", data={"csrf_token": _token_of(client)})
    for form in _post_forms(client, "/login"):
        seen += 1
        if not any(k == "csrf_token" and v for k, v in form["fields"]):
            problems.append(f"/login: the form posting to {form['action']} has no token")
    assert problems == []
    assert seen >= len([e for e in TABLE.values() if isinstance(e, Form)])
