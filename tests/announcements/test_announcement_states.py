"""Announcements (公告, issue 17): every state change allowed and refused, scheduled
publishing through the real sweep with the controllable clock, stale versions, bad input."""
from datetime import datetime, timedelta, timezone

import pytest

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)

ACTIONS = ("publish", "cancel", "withdraw", "archive")
# state -> the actions allowed in it (the rest: 409, nothing changed).
ALLOWED = {
    "draft": {"schedule", "publish", "cancel"},
    "scheduled": {"schedule", "publish", "cancel"},
    "current": {"withdraw", "archive"},
    "cancelled": set(),
    "revoked": set(),
    "archived": set(),
}
# What each allowed action leads to.
LEADS_TO = {"schedule": "scheduled", "publish": "current", "cancel": "cancelled",
            "withdraw": "revoked", "archive": "archived"}


def _in_state(board, state) -> dict:
    a = board.draft()
    steps = {"draft": [], "scheduled": ["schedule"], "current": ["publish"],
             "cancelled": ["cancel"], "revoked": ["publish", "withdraw"],
             "archived": ["publish", "archive"]}[state]
    for step in steps:
        response = _act(board, a["id"], step)
        assert response.status_code == 200, (step, response.get_json())
    found = board.state(a["id"])
    assert found["state"] == state
    return found


def _act(board, announcement_id, action, **body):
    if action == "schedule":
        body.setdefault("publish_at", (NOW + timedelta(hours=2)).isoformat())
    return board.post("supervisor", f"/announcements/{announcement_id}/{action}", body)


@pytest.mark.parametrize("state", sorted(ALLOWED))
@pytest.mark.parametrize("action", ("schedule",) + ACTIONS)
def test_every_state_change_allowed_and_refused(board, state, action):
    board.at(NOW)
    before = _in_state(board, state)
    extra = {"publish_at": (NOW + timedelta(hours=3)).isoformat()} if action == "schedule" \
        else {}  # a new time: a scheduled one moves
    response = _act(board, before["id"], action, **extra)
    after = board.state(before["id"])
    if action in ALLOWED[state]:
        assert response.status_code == 200, response.get_json()
        assert after["state"] == LEADS_TO[action] and after["version"] > before["version"]
    else:
        assert response.status_code == 409, response.get_json()
        body = response.get_json()
        assert body["state"] == state and state.split("_")[0] in body["state"]
        assert body["error"] in ("announcement_state", "announcement_not_current")
        assert after == before  # nothing changed


@pytest.mark.parametrize("state", sorted(ALLOWED))
def test_edit_only_while_draft_or_scheduled(board, state):
    board.at(NOW)
    before = _in_state(board, state)
    response = board.patch("supervisor", f"/announcements/{before['id']}",
                           {"version": before["version"], "title": "改过的标题"})
    after = board.state(before["id"])
    if state in ("draft", "scheduled"):
        assert response.status_code == 200 and after["title"] == "改过的标题"
        assert after["state"] == state
    else:
        assert response.status_code == 409 and after == before


def test_a_stale_version_is_refused_and_changes_nothing(board):
    board.at(NOW)
    a = board.draft()
    path = f"/announcements/{a['id']}"
    assert board.patch("supervisor", path, {"version": a["version"], "body": "新内容"}) \
        .status_code == 200
    stale = board.patch("supervisor", path, {"version": a["version"], "title": "旧版本"})
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    assert stale.get_json()["current_version"] == a["version"] + 1
    for action in ACTIONS:
        response = board.post("supervisor", f"{path}/{action}", {"version": a["version"]})
        assert response.status_code == 409, action
    response = _act(board, a["id"], "schedule", version=a["version"])
    assert response.status_code == 409
    after = board.state(a["id"])
    assert after["title"] == a["title"] and after["state"] == "draft"
    assert board.patch("supervisor", path, {"title": "无版本"}).status_code == 400


def test_bad_input_is_a_400_naming_the_field(board):
    board.at(NOW)
    for body, field in (({"title": "", "body": "x"}, "title"),
                        ({"title": "x"}, "body"),
                        ({"title": "x", "body": "   "}, "body"),
                        ({"title": "x" * 201, "body": "x"}, "title"),
                        ({"title": "x", "body": "x", "department_ids": [999999]},
                         "department_ids"),
                        ({"title": "x", "body": "x", "department_ids": "all"},
                         "department_ids")):
        response = board.post("supervisor", "/announcements", body)
        assert response.status_code == 400, body
        assert field in response.get_json()["fields"], (body, response.get_json())
    assert board.get("admin", "/announcements").get_json() == []
    a = board.draft()
    for publish_at in ("tomorrow", (NOW - timedelta(minutes=1)).isoformat(), NOW.isoformat()):
        response = _act(board, a["id"], "schedule", publish_at=publish_at)
        assert response.status_code == 400 and "publish_at" in response.get_json()["fields"]
    assert board.state(a["id"])["state"] == "draft"
    assert board.get("supervisor", "/announcements?state=bogus").status_code == 400
    assert board.get("supervisor", "/announcements/999999").status_code == 404


def test_the_sweep_publishes_a_scheduled_announcement_at_its_time_once(board):
    board.at(NOW)
    a = board.draft()
    publish_at = NOW + timedelta(hours=2)
    response = _act(board, a["id"], "schedule", publish_at=publish_at.isoformat())
    assert response.status_code == 200 and response.get_json()["state"] == "scheduled"
    board.at(publish_at - timedelta(seconds=1))
    assert board.sweep() == 0
    assert board.state(a["id"])["state"] == "scheduled"
    board.at(publish_at + timedelta(seconds=30))
    assert board.sweep() == 1
    after = board.state(a["id"])
    assert after["state"] == "current"
    assert after["published_at"].startswith((publish_at + timedelta(seconds=30)).isoformat()[:19])
    assert board.sweep() == 0  # exactly once
    assert board.state(a["id"]) == after


def test_a_time_given_in_another_zone_publishes_at_that_instant(board):
    board.at(NOW)
    a = board.draft()
    # 12:00 in Shanghai is 04:00 UTC, two hours after NOW.
    response = _act(board, a["id"], "schedule", publish_at="2026-03-02T12:00:00+08:00")
    assert response.status_code == 200
    assert response.get_json()["publish_at"].startswith("2026-03-02T04:00:00")
    board.at(NOW + timedelta(hours=2))
    assert board.sweep() == 1
    assert board.state(a["id"])["state"] == "current"


def test_a_rescheduled_announcement_publishes_at_its_new_time_only(board):
    board.at(NOW)
    a = board.draft()
    first, later = NOW + timedelta(hours=1), NOW + timedelta(hours=3)
    assert _act(board, a["id"], "schedule", publish_at=first.isoformat()).status_code == 200
    assert _act(board, a["id"], "schedule", publish_at=later.isoformat()).status_code == 200
    board.at(first + timedelta(minutes=1))
    board.sweep()  # the first timer fires and does nothing: the time moved
    assert board.state(a["id"])["state"] == "scheduled"
    board.at(later + timedelta(minutes=1))
    board.sweep()
    assert board.state(a["id"])["state"] == "current"


@pytest.mark.parametrize("before_its_time", ("cancel", "publish"))
def test_cancelled_or_published_early_the_timer_does_nothing(board, before_its_time):
    board.at(NOW)
    a = board.draft()
    at = NOW + timedelta(hours=1)
    assert _act(board, a["id"], "schedule", publish_at=at.isoformat()).status_code == 200
    assert _act(board, a["id"], before_its_time).status_code == 200
    state = board.state(a["id"])
    board.at(at + timedelta(minutes=1))
    board.sweep()
    assert board.state(a["id"]) == state


def test_edits_of_a_scheduled_announcement_keep_its_time(board):
    board.at(NOW)
    a = board.draft()
    at = NOW + timedelta(hours=1)
    scheduled = _act(board, a["id"], "schedule", publish_at=at.isoformat()).get_json()
    edited = board.patch("supervisor", f"/announcements/{a['id']}",
                         {"version": scheduled["version"], "body": "升级推迟到23点"})
    assert edited.status_code == 200
    board.at(at + timedelta(minutes=1))
    board.sweep()
    after = board.state(a["id"])
    assert after["state"] == "current" and after["body"] == "升级推迟到23点"


def test_incidents_still_withdraw_their_announcement(board, app):
    """The incidents area calls withdraw(announcement): it keeps working."""
    from ticketing.announcements.operations import publish_system_announcement, withdraw
    from ticketing.extensions import db
    board.at(NOW)
    with app.app_context():
        announcement = publish_system_announcement(None, "光缆故障", "影响区域：东城区")
        withdraw(announcement)
        db.session.commit()
        assert announcement.state == "revoked" and announcement.withdrawn_at is not None
        db.session.remove()
