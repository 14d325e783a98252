"""Who may do what on the tickets and timers pages and endpoints, derived from the roles'
permissions as data (DEFAULT_ROLES), for every default role and an anonymous visitor. The
pattern is tests/auth/test_permissions.py's: denied is 403 (anonymous: a redirect to /login
for pages, 401 for the API) and a refused write changes nothing."""
import re

import pytest
from sqlalchemy import func, select

from ticketing import create_app
from ticketing.auth.permissions import DEFAULT_ROLES, default_permissions
from ticketing.auth.models import Department
from ticketing.extensions import db
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.timers.models import Calendar, CalendarDay, Notification, SlaPolicy

PASSWORD = "correct-horse-9"
ANONYMOUS = "anonymous"
OPEN = "tickets.create"  # /call and opening a ticket check it inside the view
REPORTS = "reports.view"
READ, WRITE = "announcements.view", "announcements.manage"


# The areas' default grants, read from an app wired as in production (no database needed).
_WIRED = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})


def _grants(role: str) -> set[str]:
    return default_permissions(role, _WIRED)


# (method, path, permissions required, body). Paths name the world's ids in braces; `new_*`
# ids are made fresh for each request, so an allowed write never spoils the next one.
ENDPOINTS = [
    # pages: tickets
    ("GET", "/call", (OPEN,), None),
    ("GET", "/call?phone=13800138000", (OPEN,), None),
    ("POST", "/tickets/new", (OPEN,), lambda f: {
        "kind": "consult", "caller_phone": "13900000000", "channel": "phone",
        "priority": "normal", "description": "来电咨询"}),
    ("GET", "/tickets", ("tickets.view",), None),
    ("GET", "/tickets/{ticket_id}", ("tickets.view",), None),
    ("POST", "/tickets/{new_ticket_id}/events/suspend", ("tickets.view", "tickets.suspend"),
     lambda f: {"version": str(f["new_ticket_version"]), "reason": "等待客户"}),
    ("GET", "/workflow", (), None),
    # pages: timers
    ("GET", "/escalations", ("escalations.view",), None),
    ("GET", "/notifications", (), None),
    ("POST", "/notifications/read", (), lambda f: {}),
    ("GET", "/sla/policies", ("sla.manage",), None),
    ("GET", "/sla/policies/new", ("sla.manage",), None),
    ("POST", "/sla/policies/new", ("sla.manage",),
     lambda f: {**_policy(f, f"策略{f['n']()}"), **f.free_scope()}),
    ("GET", "/sla/policies/{policy_id}/edit", ("sla.manage",), None),
    ("POST", "/sla/policies/{policy_id}/edit", ("sla.manage",),
     lambda f: _policy(f, f"改名{f['n']()}")),
    ("GET", "/sla/calendars", ("sla.manage",), None),
    ("GET", "/sla/calendars/new", ("sla.manage",), None),
    ("POST", "/sla/calendars/new", ("sla.manage",), lambda f: _calendar(f"日历{f['n']()}")),
    ("GET", "/sla/calendars/{calendar_id}", ("sla.manage",), None),
    ("POST", "/sla/calendars/{calendar_id}", ("sla.manage",),
     lambda f: _calendar(f"改名{f['n']()}")),
    ("POST", "/sla/calendars/{calendar_id}/days", ("sla.manage",), lambda f: {
        "day": f"2031-{1 + f['n']() % 12:02d}-{1 + f['n']() % 28:02d}", "kind": "holiday",
        "note": "放假"}),
    ("POST", "/sla/calendars/{calendar_id}/days/{new_day_id}/delete", ("sla.manage",),
     lambda f: {}),
    # API: tickets
    ("POST", "/api/v1/tickets", (OPEN,), lambda f: {
        "kind": "consult", "caller_phone": "13900000000", "description": "来电咨询"}),
    ("GET", "/api/v1/tickets", ("tickets.view",), None),
    ("GET", "/api/v1/tickets/{ticket_id}", ("tickets.view",), None),
    ("POST", "/api/v1/tickets/{new_ticket_id}/transitions", ("tickets.view", "tickets.suspend"),
     lambda f: {"event": "suspend", "version": f["new_ticket_version"],
                "fields": {"reason": "等待客户"}}),
    ("GET", "/api/v1/tickets/{ticket_id}/history", ("tickets.view",), None),
    ("GET", "/api/v1/workflows", (), None),
    ("POST", "/api/v1/screen-pop", ("customers.view",), lambda f: {"phone": "13800138000"}),
    # search and calls (issue 18)
    ("GET", "/search?q=权限", ("tickets.view",), None),
    ("GET", "/api/v1/search/tickets?q=权限", ("tickets.view",), None),
    ("POST", "/calls/link", (OPEN,), lambda f: {
        "phone": "13800138000", "ticket_id": str(f["new_ticket_id"]), "note": "又来电"}),
    ("POST", "/api/v1/calls/{new_call_id}/link", (OPEN,), lambda f: {
        "ticket_id": f["new_ticket_id"], "note": "又来电"}),
    # API: timers
    ("GET", "/api/v1/tickets/{ticket_id}/clocks", ("tickets.view",), None),
    ("GET", "/api/v1/notifications", (), None),
    ("POST", "/api/v1/notifications/read", (), lambda f: {}),
    # pages: reports ({report} is one report's name; every one checks the same permission)
    ("GET", "/reports", (REPORTS,), None),
    ("GET", "/reports/{report}", (REPORTS,), None),
    ("GET", "/reports/customer?customer_id={customer_id}", (REPORTS,), None),
    ("GET", "/reports/{report}/export.csv", (REPORTS,), None),
    ("GET", "/reports/tickets/export.csv", (REPORTS,), None),
    # API: reports
    *(("GET", f"/api/v1/reports/{name}", (REPORTS,), None)
      for name in ("summary", "calls", "faults", "repairs", "sla", "tickets", "satisfaction",
                   "callbacks")),
    ("GET", "/api/v1/reports/customer?customer_id={customer_id}", (REPORTS,), None),
    ("GET", "/api/v1/reports/{unknown_report}", (), None),
    # pages: callbacks
    ("GET", "/callbacks", ("callbacks.work",), None),
    ("POST", "/callbacks/{new_callback_id}/take", ("callbacks.work",), lambda f: {}),
    ("GET", "/callbacks/{callback_id}", ("callbacks.work",), None),
    ("POST", "/callbacks/{new_callback_id}", ("callbacks.work",), lambda f: {
        "version": str(f["new_callback_version"]), "reached": "no", "note": "无人接听"}),
    ("GET", "/callbacks/search?status=due", ("callbacks.view",), None),
    ("GET", "/callbacks/settings", ("callbacks.settings",), None),
    ("POST", "/callbacks/settings", ("callbacks.settings",), lambda f: {
        "version": str(f.settings_version()), "kinds": ["repair", "complaint"],
        "due_repair": str(400 + f["n"]() % 100), "due_complaint": "480",
        "retry_minutes": "60", "max_attempts": "3", "threshold": "3",
        "calendar_id": str(f["calendar_id"])}),
    # API: callbacks
    ("GET", "/api/v1/callbacks?status=due", ("callbacks.view",), None),
    ("GET", "/api/v1/callbacks/{callback_id}", ("callbacks.view",), None),
    ("POST", "/api/v1/callbacks/{new_callback_id}/attempts", ("callbacks.work",), lambda f: {
        "version": f["new_callback_version"], "reached": False, "note": "无人接听"}),
    ("GET", "/api/v1/callback-settings", ("callbacks.settings",), None),
    ("PUT", "/api/v1/callback-settings", ("callbacks.settings",), lambda f: {
        "version": f.settings_version(), "kinds": ["repair"],
        "due_minutes": {"repair": 300 + f["n"]() % 100}, "retry_minutes": 60,
        "max_attempts": 3, "threshold": 3, "calendar_id": None}),
    # pages: audits and complaint liability (issue 16)
    ("GET", "/audits", ("audits.view",), None),
    ("GET", "/audits?status=done", ("audits.view",), None),
    ("GET", "/audits/{audit_id}", ("audits.view",), None),
    ("POST", "/audits/{new_audit_id}/decision", ("audits.decide",), lambda f: {
        "version": str(f["new_audit_version"]), "decision": "reject", "reason": "处理不当"}),
    ("GET", "/audits/rules", ("audits.rules",), None),
    ("POST", "/audits/rules", ("audits.rules",), lambda f: {
        "version": str(f.rules_version()), "complaints": "y", "sla_breaches": "y",
        "sample_percent": str(f["n"]() % 50), "due_minutes": "480",
        "calendar_id": str(f["calendar_id"])}),
    ("POST", "/tickets/{new_complaint_id}/liability", ("audits.liability",), lambda f: {
        "liability-version": "0", "liability-justified": "no", "liability-note": "不属实"}),
    ("POST", "/tickets/{new_liability_ticket_id}/liability/appeal", ("audits.appeal",),
     lambda f: {"appeal-reason": "有录音为证"}),
    ("POST", "/tickets/{new_appealed_ticket_id}/liability/ruling", ("audits.liability",),
     lambda f: {"ruling-upheld": "yes", "ruling-note": "维持"}),
    # analysis (SPEC §6)
    ("GET", "/analysis", ("analysis.view",), None),
    ("GET", "/api/v1/analysis/consults", ("analysis.view",), None),
    ("GET", "/api/v1/analysis/repair-quality", ("analysis.view",), None),
    # API: audits and complaint liability
    ("GET", "/api/v1/audit-rules", ("audits.rules",), None),
    ("PUT", "/api/v1/audit-rules", ("audits.rules",), lambda f: {
        "version": f.rules_version(), "complaints": True, "unsatisfied_callbacks": True,
        "sla_breaches": True, "sample_percent": f["n"]() % 50, "due_minutes": 480,
        "calendar_id": None}),
    ("GET", "/api/v1/audits?status=open", ("audits.view",), None),
    ("GET", "/api/v1/audits/{audit_id}", ("audits.view",), None),
    ("POST", "/api/v1/audits/{new_audit_id}/decision", ("audits.decide",), lambda f: {
        "decision": "pass", "version": f["new_audit_version"]}),
    ("POST", "/api/v1/tickets/{new_complaint_id}/liability", ("audits.liability",),
     lambda f: {"justified": False, "note": "不属实"}),
    ("POST", "/api/v1/tickets/{new_liability_ticket_id}/liability/appeal", ("audits.appeal",),
     lambda f: {"reason": "有录音为证"}),
    ("POST", "/api/v1/tickets/{new_appealed_ticket_id}/liability/ruling", ("audits.liability",),
     lambda f: {"upheld": True}),
    # pages: dispatch (issue 17); assigning is the dispatch event (tickets.dispatch)
    ("GET", "/dispatch", ("dispatch.board",), None),
    ("GET", "/dispatch/queue", ("dispatch.queue",), None),
    ("GET", "/dispatch/teams", ("dispatch.teams",), None),
    ("GET", "/dispatch/teams/{team_id}", ("dispatch.teams",), None),
    ("POST", "/dispatch/teams/{team_id}", ("dispatch.teams",),
     lambda f: {"areas": f"东城区{f['n']()}"}),
    # API: dispatch
    ("GET", "/api/v1/dispatch/board", ("dispatch.board",), None),
    ("GET", "/api/v1/dispatch/teams", ("dispatch.board",), None),
    ("GET", "/api/v1/dispatch/queue", ("dispatch.queue",), None),
    # pages: announcements (issue 17)
    ("GET", "/announcements", (READ,), None),
    ("GET", "/announcements?state=current&q=通知", (READ,), None),
    ("GET", "/announcements/{announcement_id}", (READ,), None),
    ("GET", "/announcements/new", (READ, WRITE), None),
    ("POST", "/announcements/new", (READ, WRITE), lambda f: {
        "title": f"公告{f['n']()}", "body": "正文"}),
    ("POST", "/announcements/{new_draft_id}/edit", (READ, WRITE), lambda f: {
        "title": f"改名{f['n']()}", "body": "正文", "version": str(f["new_draft_version"])}),
    ("POST", "/announcements/{new_draft_id}/schedule", (READ, WRITE), lambda f: {
        "publish_at": "2031-05-06T09:00", "version": str(f["new_draft_version"])}),
    ("POST", "/announcements/{new_draft_id}/actions/publish", (READ, WRITE), lambda f: {
        "version": str(f["new_draft_version"])}),
    ("POST", "/announcements/{new_current_id}/actions/withdraw", (READ, WRITE), lambda f: {}),
    # API: announcements
    ("GET", "/api/v1/announcements", (READ,), None),
    ("GET", "/api/v1/announcements?state=revoked", (READ,), None),
    ("GET", "/api/v1/announcements/{announcement_id}", (READ,), None),
    ("POST", "/api/v1/announcements", (WRITE,), lambda f: {
        "title": f"公告{f['n']()}", "body": "正文"}),
    ("PATCH", "/api/v1/announcements/{new_draft_id}", (WRITE,), lambda f: {
        "version": f["new_draft_version"], "title": f"改名{f['n']()}"}),
    ("POST", "/api/v1/announcements/{new_draft_id}/schedule", (WRITE,), lambda f: {
        "publish_at": "2031-05-06T01:00:00Z"}),
    ("POST", "/api/v1/announcements/{new_draft_id}/publish", (WRITE,), lambda f: {}),
    ("POST", "/api/v1/announcements/{new_draft_id}/cancel", (WRITE,), lambda f: {}),
    ("POST", "/api/v1/announcements/{new_current_id}/withdraw", (WRITE,), lambda f: {}),
    ("POST", "/api/v1/announcements/{new_current_id}/archive", (WRITE,), lambda f: {}),
]

ALLOWED_STATUS = {("page", "GET"): 200, ("page", "POST"): 302,
                  ("api", "GET"): 200, ("api", "POST"): 201, ("api", "PUT"): 200,
                  ("api", "PATCH"): 200}
API_POST_200 = {"/api/v1/screen-pop", "/api/v1/notifications/read"}
API_GET_400 = {"/api/v1/reports/no-such-report"}  # an unknown report's name is a 400


def _policy(f, name):
    return {"name": name, "kind": "", "priority": "", "customer_tier": "",
            "response_minutes": "30", "resolution_minutes": "480", "warn_before_minutes": "30",
            "level2_after_minutes": "60", "level3_after_minutes": "240",
            "calendar_id": str(f["calendar_id"]), "active": "y"}


def _calendar(name):
    return {"name": name, "timezone": "Asia/Shanghai", "day0": "09:00-18:00",
            "day1": "09:00-18:00", "day2": "09:00-18:00", "day3": "09:00-18:00",
            "day4": "09:00-18:00", "day5": "", "day6": ""}


def _kind(path: str) -> str:
    return "api" if path.startswith("/api/") else "page"


def _expected(role: str, method: str, path: str, required) -> int:
    if role == ANONYMOUS:
        return 401 if _kind(path) == "api" else 302
    if set(required) <= _grants(role):
        if path in API_GET_400:
            return 400
        if method == "POST" and path.split("?")[0] in API_POST_200 or (
                _kind(path) == "api" and ("/transitions" in path or path.endswith(
                    ("/link", "/decision", "/liability", "/appeal", "/ruling"))
                                          or path.startswith("/api/v1/announcements/"))):
            return 200
        return ALLOWED_STATUS[(_kind(path), method)]
    return 403


class World(dict):
    """The ids the requests aim at; `new_ticket_id` / `new_day_id` are made on first use and
    kept until `fresh()`, so a row's path and body name the same new record."""

    def __init__(self, app, ids):
        super().__init__(ids)
        self.app, self.counter = app, iter(range(1000, 10 ** 9))
        self["n"] = lambda: next(self.counter)

    def free_scope(self) -> dict:
        """A kind/priority/tier no policy covers yet (a new policy must not overlap one)."""
        from itertools import product
        from ticketing.timers.models import KINDS, PRIORITIES, TIERS
        with self.app.app_context():
            taken = {tuple(row) for row in db.session.execute(select(
                SlaPolicy.kind, SlaPolicy.priority, SlaPolicy.customer_tier))}
            db.session.remove()
        for scope in product(KINDS, PRIORITIES, TIERS):
            if scope not in taken:
                return dict(zip(("kind", "priority", "customer_tier"), scope))
        raise AssertionError("every scope is taken")

    def settings_version(self) -> int:
        from ticketing.callbacks.models import CallbackSettings
        with self.app.app_context():
            version = db.session.get(CallbackSettings, 1).version
            db.session.remove()
        return version

    def rules_version(self) -> int:
        from ticketing.audits.models import AuditRules
        with self.app.app_context():
            version = db.session.get(AuditRules, 1).version
            db.session.remove()
        return version

    def fresh(self):
        for key in ("new_ticket_id", "new_ticket_version", "new_day_id", "new_call_id",
                    "new_callback_id", "new_callback_version", "new_audit_id",
                    "new_audit_version", "new_complaint_id", "new_liability_ticket_id",
                    "new_appealed_ticket_id", "new_draft_id", "new_draft_version",
                    "new_current_id"):
            self.pop(key, None)

    def __missing__(self, key):
        from datetime import date
        from ticketing.tickets.operations import open_ticket
        from ticketing.timers.operations import add_calendar_day
        with self.app.app_context():
            if key in ("new_ticket_id", "new_ticket_version"):
                ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                                     description="权限测试")
                db.session.commit()
                self["new_ticket_id"], self["new_ticket_version"] = ticket.id, ticket.version
            elif key == "new_call_id":
                from ticketing.calls.operations import record_call
                self["new_call_id"] = record_call(None, "13800138000").id
                db.session.commit()
            elif key in ("new_callback_id", "new_callback_version"):
                callback = _closed_repair_callback()
                self["new_callback_id"], self["new_callback_version"] = (callback.id,
                                                                         callback.version)
            elif key in ("new_audit_id", "new_audit_version"):
                audit = _closed_complaint_audit()
                self["new_audit_id"], self["new_audit_version"] = audit.id, audit.version
            elif key == "new_complaint_id":
                self["new_complaint_id"] = _complaint().id
                db.session.commit()
            elif key in ("new_liability_ticket_id", "new_appealed_ticket_id"):
                from ticketing.audits.liability import appeal, record_liability
                from ticketing.auth.models import User
                ticket = _complaint()
                record_liability(db.session.get(User, self["reviewer_id"]), ticket, {
                    "justified": True, "department_id": self["operations_id"], "note": "属实"})
                if key == "new_appealed_ticket_id":
                    appeal(db.session.get(User, self["appellant_id"]), ticket, "不服")
                db.session.commit()
                self[key] = ticket.id
            elif key in ("new_draft_id", "new_draft_version", "new_current_id"):
                from ticketing.announcements.operations import create_announcement, publish
                draft = create_announcement(None, {"title": "草稿", "body": "正文"})
                if key == "new_current_id":
                    publish(None, draft)
                    self["new_current_id"] = draft.id
                else:
                    self["new_draft_id"], self["new_draft_version"] = draft.id, draft.version
                db.session.commit()
            elif key == "new_day_id":
                calendar = db.session.get(Calendar, self["calendar_id"])
                n = next(self.counter)
                day = add_calendar_day(calendar, date(2032, 1 + n % 12, 1 + n % 28), "workday",
                                       "调休")
                db.session.commit()
                self["new_day_id"] = day.id
            else:
                raise KeyError(key)
            db.session.remove()
        return self[key]


def _complaint():
    from ticketing.tickets.operations import open_ticket
    return open_ticket(None, kind="complaint", caller_phone="13800138000", description="投诉")


def _closed_complaint_audit():
    """A complaint assigned to operations (where the matrix's users are), closed: its audit,
    committed."""
    from ticketing.audits.models import Audit
    from ticketing.auth.models import Department
    from ticketing.tickets.operations import fire_event
    ticket = _complaint()
    fire_event(None, ticket, "send_to_inspection", {})
    fire_event(None, ticket, "analyse", {"note": "属实"})
    fire_event(None, ticket, "assign", {"department_id": db.session.scalar(
        select(Department.id).where(Department.code == "operations"))})
    fire_event(None, ticket, "suspend", {"reason": "等待"})
    fire_event(None, ticket, "close", {"note": "已处理"})
    db.session.commit()
    return db.session.scalars(select(Audit).where(Audit.ticket_id == ticket.id)).one()


def _closed_repair_callback():
    """A repair closed (suspend, close): its callback task, committed."""
    from ticketing.callbacks.models import Callback
    from ticketing.tickets.operations import fire_event, open_ticket
    ticket = open_ticket(None, kind="repair", caller_phone="13800138000", description="回访")
    fire_event(None, ticket, "suspend", {"reason": "客户要求"})
    fire_event(None, ticket, "close", {"note": "已处理"})
    db.session.commit()
    return db.session.scalars(select(Callback).where(Callback.ticket_id == ticket.id)).one()


def _supervision_people() -> dict:
    """The first reviewer of the liability rulings (never the one asking), and a member of
    the responsible department who appeals the ones to rule on."""
    from ticketing.auth.models import Department
    from ticketing.auth.operations import create_user
    reviewer = create_user("first_reviewer", PASSWORD, ["supervisor"], "supervision")
    appellant = create_user("appellant", PASSWORD, ["staff"], "operations")
    db.session.commit()
    return {"reviewer_id": reviewer.id, "appellant_id": appellant.id,
            "operations_id": db.session.scalar(select(Department.id).where(
                Department.code == "operations"))}


def _published_announcement() -> int:
    """A current announcement for every department: anyone who may read them sees it."""
    from ticketing.announcements.operations import create_announcement, publish
    announcement = create_announcement(None, {"title": "全员通知", "body": "正文"})
    publish(None, announcement)
    db.session.commit()
    return announcement.id


@pytest.fixture
def world(app):
    from ticketing.tickets.operations import open_ticket
    with app.app_context():
        ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                             description="权限测试")
        db.session.commit()
        from ticketing.customers.operations import create_customer
        customer = create_customer(None, {"account_no": "QX1", "name": "权限", "phones": []})
        db.session.commit()
        ids = {"ticket_id": ticket.id, "customer_id": customer.id, "report": "summary",
               "unknown_report": "no-such-report",
               "policy_id": db.session.scalar(select(func.min(SlaPolicy.id))),
               "calendar_id": db.session.scalar(select(func.min(Calendar.id))),
               "callback_id": _closed_repair_callback().id,
               "audit_id": _closed_complaint_audit().id, **_supervision_people(),
               "announcement_id": _published_announcement(),
               "team_id": db.session.scalar(select(Department.id).where(
                   Department.code == "repair_team_1"))}
        db.session.remove()
    assert ids["policy_id"] and ids["calendar_id"]
    return World(app, ids)


def _snapshot(app) -> dict:
    """Everything a write on these pages could change."""
    with app.app_context():
        tickets = {t.id: (t.state, t.version) for t in db.session.scalars(select(Ticket))}
        history = db.session.scalar(select(func.count(TicketEvent.id)))
        policies = {p.id: (p.name, p.response_minutes, p.active)
                    for p in db.session.scalars(select(SlaPolicy))}
        calendars = {c.id: (c.name, c.weekly_hours) for c in db.session.scalars(select(Calendar))}
        days = sorted(db.session.scalars(select(CalendarDay.id)))
        from ticketing.calls.models import Call
        calls = sorted(db.session.execute(select(Call.id, Call.ticket_id)).all())
        unread = db.session.scalar(select(func.count(Notification.id)).where(
            Notification.read_at.is_(None)))
        from ticketing.callbacks.models import Callback, CallbackSettings
        callbacks = {c.id: (c.status, c.attempts, c.agent_id, c.version)
                     for c in db.session.scalars(select(Callback)).unique()}
        settings = db.session.scalar(select(CallbackSettings.version))
        from ticketing.audits.models import Audit, AuditRules, ComplaintLiability
        audits = {a.id: (a.status, a.decision, a.version)
                  for a in db.session.scalars(select(Audit)).unique()}
        liabilities = {row.id: (row.version, row.appealed_at, row.ruled_at)
                       for row in db.session.scalars(select(ComplaintLiability)).unique()}
        rules = db.session.scalar(select(AuditRules.version))
        from ticketing.announcements.models import Announcement
        from ticketing.dispatch.models import TeamArea
        announcements = {a.id: (a.state, a.title, a.version)
                         for a in db.session.scalars(select(Announcement))}
        team_areas = sorted(db.session.execute(select(TeamArea.department_id,
                                                      TeamArea.area)).all())
        db.session.remove()
    return {"tickets": tickets, "history": history, "policies": policies,
            "calendars": calendars, "days": days, "unread": unread, "calls": calls,
            "callbacks": callbacks, "callback_settings": settings, "audits": audits,
            "liabilities": liabilities, "audit_rules": rules,
            "announcements": announcements, "team_areas": team_areas}


@pytest.mark.parametrize("role", [*DEFAULT_ROLES, ANONYMOUS])
def test_every_ticket_and_timer_route_allows_exactly_the_roles_holding_its_permissions(
        app, client, make_user, world, role):
    if role != ANONYMOUS:
        # In the department consult tickets start in, so "theirs" holds for every role.
        user = make_user(role, "operations")
        assert client.post("/login", data={"username": user.username,
                                           "password": PASSWORD}).status_code == 302
    mismatches = []
    for method, template, required, body in ENDPOINTS:
        world.fresh()
        path = template.format_map(world)
        expected = _expected(role, method, path, required)
        payload = body(world) if body else None
        before = _snapshot(app) if method != "GET" and expected in (302, 401, 403) \
            and not (expected == 302 and role != ANONYMOUS) else None
        if _kind(path) == "api":
            response = client.open(path, method=method, json=payload)
        else:
            response = client.open(path, method=method, data=payload)
        if response.status_code != expected:
            mismatches.append(f"{method} {path}: {response.status_code}, expected {expected}")
            continue
        if expected in (401, 403) and _kind(path) == "api":
            assert response.get_json()["error"] in ("forbidden", "unauthenticated")
        elif expected == 403:
            assert "text/html" in response.content_type
        if role == ANONYMOUS and _kind(path) == "page":
            assert response.headers["Location"].startswith("/login?next=")
        if before is not None and _snapshot(app) != before:
            mismatches.append(f"{method} {path} was refused but changed data")
    assert mismatches == []


def test_an_allowed_write_does_change_data(app, client, make_user, world):
    """The snapshot sees the writes the matrix refuses (so "changed nothing" means something)."""
    # In the department the liability rulings name, so the admin's appeal is the department's.
    user = make_user("admin", "operations")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    for method, template, _required, body in ENDPOINTS:
        if method not in ("POST", "PATCH") or "notifications" in template \
                or "screen-pop" in template:
            continue
        world.fresh()
        path = template.format_map(world)
        payload = body(world)
        before = _snapshot(app)
        if _kind(path) == "api":
            response = client.open(path, method=method, json=payload)
        else:
            response = client.open(path, method=method, data=payload)
        assert response.status_code in (200, 201, 302), (path, response.status_code)
        assert _snapshot(app) != before, path


def test_the_table_covers_every_route_of_tickets_timers_and_other_areas(app):
    covered = {(m, re.sub(r"\{\w+\}", "<id>", t.split("?")[0])) for m, t, _r, _b in ENDPOINTS}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("tickets", "tickets_api", "timers", "timers_api",
                                               "search", "search_api", "calls", "calls_api",
                                               "reports", "reports_api", "callbacks",
                                               "callbacks_api", "audits", "audits_api",
                                               "analysis", "analysis_api", "dispatch",
                                               "dispatch_api", "announcements",
                                               "announcements_api"):
            continue
        path = re.sub(r"<[^>]+>", "<id>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            path = path.replace("/events/<id>", "/events/suspend").replace(
                "/actions/<id>", "/actions/publish")
            if (method, path) not in covered:
                missing.append(f"{method} {path}")
    assert missing == []
