"""Helpers for the callback stories: tickets driven through the real operations, the frozen
clock, the sweep, and a callback agent calling the API."""
import pytest

from tests.drive import ClosingDrive
from ticketing import clock


class Line(ClosingDrive):
    """Tickets, the clock and the sweep, each call one committed unit of work."""

    description = "回访测试"

    def notifications(self, user_id: int, kind="callback_overdue") -> list:
        return super().notifications(user_id, kind)


@pytest.fixture
def line(app):
    yield Line(app)
    clock.freeze(None)


@pytest.fixture
def agent(as_role):
    """A callback agent and their API headers."""
    return as_role("callback_agent", "call_center")


def attempt(client, headers, callback_id, **body):
    version = body.pop("version", None)
    if version is None:
        version = client.get(f"/api/v1/callbacks/{callback_id}",
                             headers=headers).get_json()["version"]
    return client.post(f"/api/v1/callbacks/{callback_id}/attempts", headers=headers,
                       json={"version": version, **body})


@pytest.fixture
def call(client):
    return lambda headers, callback_id, **body: attempt(client, headers, callback_id, **body)

