"""Fixtures for announcements: people by role and department (bearer tokens and page logins),
a small driver of /api/v1/announcements, the controllable clock and the real sweep."""
import pytest

from tests.drive import ApiDrive
from ticketing import clock

ROLES = {
    "supervisor": ("supervisor", "supervision"),
    "admin": ("admin", "management"),
    "agent": ("agent", "call_center"),
    "staff": ("staff", "operations"),
    "dispatcher": ("dispatcher", "dispatch"),
    "nobody": ("agent", None),
}


class Board(ApiDrive):
    roles = ROLES

    def draft(self, who="supervisor", **fields) -> dict:
        body = {"title": "系统升级通知", "body": "今晚22点系统升级，暂停受理。",
                "department_ids": [], **fields}
        response = self.post(who, "/announcements", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def state(self, announcement_id) -> dict:
        return self.get("admin", f"/announcements/{announcement_id}").get_json()


@pytest.fixture
def board(app, client, as_role):
    yield Board(app, client, as_role)
    clock.freeze(None)
