"""Fixtures for announcements: people by role and department (bearer tokens and page logins),
a small driver of /api/v1/announcements, the controllable clock and the real sweep."""


import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ticketing import clock
from ticketing.extensions import db

PASSWORD = "correct-horse-9"  # conftest's
ROLES = {
    "supervisor": ("supervisor", "supervision"),
    "admin": ("admin", "management"),
    "agent": ("agent", "call_center"),
    "staff": ("staff", "operations"),
    "dispatcher": ("dispatcher", "dispatch"),
    "nobody": ("agent", None),
}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr("ticketing.auth.models.generate_password_hash",
                        lambda password, method=None: generate_password_hash(
                            password, method="pbkdf2:sha256:1"))


class Board:
    def __init__(self, app, client, as_role):
        self.app, self.client, self._as_role = app, client, as_role
        self.users, self._headers = {}, {}

    def at(self, when):
        clock.freeze(when)
        return when

    def headers(self, who):
        if who not in self._headers:
            role, department = ROLES[who]
            user, headers = self._as_role(role, department, username=who, locale="en")
            self.users[who], self._headers[who] = user, headers
        return self._headers[who]

    def login(self, who):
        self.headers(who)
        self.client.post("/logout")
        response = self.client.post("/login", data={"username": who, "password": PASSWORD})
        assert response.status_code == 302

    def department(self, code) -> int:
        from ticketing.auth.models import Department
        with self.app.app_context():
            return db.session.scalar(select(Department.id).where(Department.code == code))

    def get(self, who, path, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(who), **kwargs)

    def post(self, who, path, json=None):
        return self.client.post("/api/v1" + path, json=json if json is not None else {},
                                headers=self.headers(who))

    def patch(self, who, path, json=None):
        return self.client.patch("/api/v1" + path, json=json, headers=self.headers(who))

    def draft(self, who="supervisor", **fields) -> dict:
        body = {"title": "系统升级通知", "body": "今晚22点系统升级，暂停受理。",
                "department_ids": [], **fields}
        response = self.post(who, "/announcements", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def state(self, announcement_id) -> dict:
        return self.get("admin", f"/announcements/{announcement_id}").get_json()

    def sweep(self) -> int:
        from ticketing.timers.sweep import sweep_due_timers
        with self.app.app_context():
            return sweep_due_timers()


@pytest.fixture
def board(app, client, as_role):
    yield Board(app, client, as_role)
    clock.freeze(None)
