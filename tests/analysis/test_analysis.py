"""Analysis (SPEC §6): the most frequent consult types and topics over a period, and repair
quality per field team from callbacks by the three dimensions; page and JSON API."""
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.drive import sh
from ticketing import clock
from ticketing.extensions import db


@pytest.fixture
def world(app, make_user):
    """Consults on two days; repairs of two field teams closed and called back."""
    from ticketing.auth.models import Department, User
    from ticketing.callbacks.models import Callback
    from ticketing.callbacks.operations import record_attempt
    from ticketing.tickets.operations import fire_event, open_ticket
    agent = make_user("callback_agent", "callback")
    with app.app_context():
        for month, day, category, title in [
                (3, 2, "资费", "千兆套餐价格"), (3, 2, "资费", " 千兆套餐价格 "),
                (3, 3, "资费", "千兆套餐价格"), (3, 3, "账单", "扣费明细"), (3, 3, "移机", ""),
                (2, 20, "账单", "扣费明细")]:
            clock.freeze(sh(2026, month, day, 10, 0))
            open_ticket(None, kind="consult", caller_phone="13800138000", category=category,
                        title=title, description="咨询")
        teams = {code: db.session.scalar(select(Department.id).where(Department.code == code))
                 for code in ("repair_team_1", "repair_team_2")}
        agent_row = db.session.get(User, agent.id)
        for team, scores in [("repair_team_1", (5, 5, 4, 5)), ("repair_team_1", (3, 2, 3, 3)),
                             ("repair_team_2", (4, 4, 4, 4))]:
            clock.freeze(sh(2026, 3, 4, 10, 0))
            ticket = open_ticket(None, kind="repair", caller_phone="13800138000",
                                 description="报修")
            ticket.department_id = teams[team]  # the field team that did the work
            fire_event(None, ticket, "suspend", {"reason": "x"})
            fire_event(None, ticket, "close", {"note": "修好"})
            callback = db.session.scalars(select(Callback).where(
                Callback.ticket_id == ticket.id)).one()
            clock.freeze(sh(2026, 3, 5, 10, 0))
            record_attempt(agent_row, callback, dict(zip(
                ("overall", "attitude", "standard", "effect"), scores), reached=True,
                comment=""), expected_version=None)
        db.session.commit()
        db.session.remove()
    clock.freeze(sh(2026, 3, 10, 12, 0))
    yield teams
    clock.freeze(None)


def test_consult_types_and_topics_most_frequent_first(client, as_role, world):
    _user, headers = as_role("supervisor", "supervision")
    body = client.get("/api/v1/analysis/consults?date_from=2026-03-01T00:00:00%2B08:00"
                      "&date_to=2026-03-10T00:00:00%2B08:00", headers=headers).get_json()
    assert body["total"] == 5
    first, *ties = [(c["name"], c["count"]) for c in body["categories"]]
    assert first == ("资费", 3) and sorted(ties) == [("移机", 1), ("账单", 1)]
    assert body["categories"][0]["share"] == 0.6
    assert [(t["name"], t["count"]) for t in body["topics"]] == [("千兆套餐价格", 3), ("扣费明细", 1)]
    # The default period is the last 30 days: the consult of 20 February is in it too.
    assert client.get("/api/v1/analysis/consults", headers=headers).get_json()["total"] == 6


def test_repair_quality_per_team_by_the_three_dimensions(client, as_role, world):
    _user, headers = as_role("department_head", "operations")
    body = client.get("/api/v1/analysis/repair-quality", headers=headers).get_json()
    teams = {t["department"]["code"]: t for t in body["teams"]}
    assert teams["repair_team_1"] == {**teams["repair_team_1"], "callbacks": 2,
                                      "unsatisfied": 1, "overall": 4.0, "attitude": 3.5,
                                      "standard": 3.5, "effect": 4.0}
    assert (teams["repair_team_2"]["callbacks"], teams["repair_team_2"]["overall"]) == (1, 4.0)


def test_bad_periods_are_refused(client, as_role):
    _user, headers = as_role("supervisor", "supervision")
    backwards = client.get("/api/v1/analysis/consults?date_from=2026-03-10T00:00:00Z"
                           "&date_to=2026-03-01T00:00:00Z", headers=headers)
    assert backwards.status_code == 400 and "date_from" in backwards.get_json()["fields"]
    assert client.get("/api/v1/analysis/repair-quality?date_from=yesterday",
                      headers=headers).status_code == 400


def test_the_page_shows_both_figures_to_who_may_see_them(client, make_user, world):
    supervisor = make_user("supervisor", "supervision")
    client.post("/login", data={"username": supervisor.username, "password": PASSWORD})
    page = client.get("/analysis?date_from=2026-03-01&date_to=2026-03-09")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "千兆套餐价格" in html and "Repair quality per field team" in html
    assert client.get("/analysis?date_from=2026-13-01").status_code == 400
    client.post("/logout")
    agent = make_user("agent", "call_center")
    client.post("/login", data={"username": agent.username, "password": PASSWORD})
    assert client.get("/analysis").status_code == 403
    assert client.get("/api/v1/analysis/consults").status_code == 403
