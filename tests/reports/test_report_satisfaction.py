"""The satisfaction report (满意度 by dimension) and the callback report (回访信息查询) against
surveys recorded through the real callback API on the world of conftest.build_world.

On top of that world (report days are Asia/Shanghai):
  R1 (repair team 1) closed D1 13:00; surveyed D2 10:00: 5/4/5/4, satisfied.
  R2 (repair team 2) resolved D2 12:00; surveyed D2 15:00: 2/3/4/2, unsatisfied (reopened).
  K1 (complaint, first department) closed D2 14:20; not reached D2 16:00; surveyed D3 11:00:
     4/5/3/4, satisfied.
  R3 closed D3 12:00: its callback stays pending.
So over D1..D3: 3 surveys; means overall 11/3, attitude 4, standard 4, effect 10/3; 2
satisfied; the mean overall per day: D1 none, D2 (5+2)/2, D3 4."""
import csv
import io

import pytest
from sqlalchemy import select

from ticketing import clock
from ticketing.extensions import db
from ticketing.reports.operations import rebuild_rollups
from tests.drive import sh
from tests.reports.test_report_figures import _rollups

PASSWORD = "correct-horse-9"
D1, D2, D3 = "2026-03-02", "2026-03-03", "2026-03-04"
PERIOD = {"date_from": D1, "date_to": D3}
SCORES = {"R1": (5, 4, 5, 4), "R2": (2, 3, 4, 2), "K1": (4, 5, 3, 4)}


def _callback_id(app, ticket_id: int) -> int:
    from ticketing.callbacks.models import Callback
    with app.app_context():
        return db.session.scalar(select(Callback.id).where(Callback.ticket_id == ticket_id)
                                 .order_by(Callback.id.desc()))


class Surveys:
    def __init__(self, app, client, world, agent):
        self.app, self.client, self.world = app, client, world
        self.agent, self.headers = agent

    def attempt(self, key: str, at, scores=None, **body):
        clock.freeze(at)
        callback_id = _callback_id(self.app, self.world.tickets[key])
        version = self.client.get(f"/api/v1/callbacks/{callback_id}",
                                  headers=self.headers).get_json()["version"]
        if scores:
            body.update(reached=True, comment="回访", **dict(zip(
                ("overall", "attitude", "standard", "effect"), scores)))
        response = self.client.post(f"/api/v1/callbacks/{callback_id}/attempts",
                                    headers=self.headers, json={"version": version, **body})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["callback"]


@pytest.fixture
def surveyed(app, client, world, as_role):
    world.fire("R2", 1500, "resolve", note="已回复客户")        # D2 12:00
    world.fire("K1", 10, "suspend", reason="客户要求")
    world.fire("K1", 20, "close", note="已处理")                # D2 14:20
    surveys = Surveys(app, client, world, as_role("callback_agent", "call_center"))
    surveys.attempt("R1", sh(2026, 3, 3, 10, 0), SCORES["R1"])
    assert surveys.attempt("R2", sh(2026, 3, 3, 15, 0), SCORES["R2"])["result"] == \
        "unsatisfied"
    surveys.attempt("K1", sh(2026, 3, 3, 16, 0), reached=False, note="无人接听")
    surveys.attempt("K1", sh(2026, 3, 4, 11, 0), SCORES["K1"])
    world.fire("R3", 26 * 60, "suspend", reason="客户要求")     # D3 12:00
    world.fire("R3", 26 * 60 + 5, "close", note="已处理")
    clock.freeze(sh(2026, 3, 4, 18, 0))
    surveys.department_of = _departments(app, world)
    return surveys


def _departments(app, world) -> dict:
    from ticketing.tickets.models import Ticket
    with app.app_context():
        return {key: db.session.get(Ticket, world.tickets[key]).department_id
                for key in ("R1", "R2", "K1")}


def test_satisfaction_per_department_with_the_mean_of_each_dimension(surveyed, reports):
    get = reports("supervisor", "supervision")
    body = get("satisfaction", **PERIOD, bucket="day").get_json()
    dept = surveyed.department_of
    rows = {r["department_id"]: r for r in body["rows"]}
    assert set(rows) == {dept["R1"], dept["R2"], dept["K1"]}
    for key in ("R1", "R2", "K1"):
        row = rows[dept[key]]
        overall, attitude, standard, effect = SCORES[key]
        assert (row["surveys"], row["mean_overall"], row["mean_attitude"],
                row["mean_standard"], row["mean_effect"]) == (
            1, overall, attitude, standard, effect), key
    assert (rows[dept["R1"]]["share_satisfied"], rows[dept["R2"]]["share_satisfied"]) == (
        1.0, 0.0)
    assert body["totals"] == {"surveys": 3, "mean_overall": 3.67, "mean_attitude": 4.0,
                              "mean_standard": 4.0, "mean_effect": 3.33, "satisfied": 2,
                              "share_satisfied": 0.6667}
    assert body["periods"] == [D1, D2, D3]
    assert body["series"] == [{"name": "overall", "values": [None, 3.5, 4.0]}]
    # Filters: the kind, the department, the survey day.
    complaint = get("satisfaction", **PERIOD, kind="complaint").get_json()
    assert complaint["totals"]["surveys"] == 1 and complaint["totals"]["mean_overall"] == 4.0
    team2 = get("satisfaction", **PERIOD, department_id=dept["R2"]).get_json()
    assert team2["totals"]["satisfied"] == 0 and team2["totals"]["surveys"] == 1
    assert get("satisfaction", date_from=D3, date_to=D3).get_json()["totals"]["surveys"] == 1
    assert get("satisfaction", date_from=D1, date_to=D1).get_json()["rows"] == []


def test_a_department_head_sees_only_their_departments_surveys_and_callbacks(
        surveyed, reports):
    get = reports("department_head", "repair_team_1")
    body = get("satisfaction", **PERIOD).get_json()
    assert [r["department_id"] for r in body["rows"]] == [surveyed.department_of["R1"]]
    assert body["totals"]["surveys"] == 1
    items = get("callbacks", **PERIOD).get_json()["items"]
    assert [c["ticket"]["id"] for c in items] == [surveyed.world.tickets["R1"]]


def test_callback_report_lists_callbacks_of_the_period_with_scores(surveyed, reports):
    get = reports("supervisor", "supervision")
    t = surveyed.world.tickets

    def tickets(**filters):
        body = get("callbacks", **{**PERIOD, **filters})
        assert body.status_code == 200, body.get_json()
        return {c["ticket"]["id"] for c in body.get_json()["items"]}

    assert tickets() == {t["R1"], t["R2"], t["K1"], t["R3"]}
    assert tickets(status="done") == {t["R1"], t["R2"], t["K1"]}
    assert tickets(status="due") == {t["R3"]}
    assert tickets(kind="complaint") == {t["K1"]}
    assert tickets(agent_id=surveyed.agent.id) == {t["R1"], t["R2"], t["K1"]}
    assert tickets(date_from=D3, date_to=D3) == {t["R3"]}  # the day the ticket closed
    k1 = get("callbacks", **PERIOD, kind="complaint").get_json()["items"][0]
    assert (k1["result"], k1["overall"], k1["attitude"], k1["standard"], k1["effect"],
            k1["attempts"]) == ("satisfied", 4, 5, 3, 4, 2)
    first = get("callbacks", **PERIOD, limit=3).get_json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = get("callbacks", **PERIOD, limit=3, cursor=first["next_cursor"]).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_survey_rollups_kept_live_equal_a_rebuild(app, surveyed):
    with app.app_context():
        kept = _rollups()
        assert any(key[0] == "satisfaction" for key in kept[0])
        rebuild_rollups()
        db.session.commit()
        assert _rollups() == kept


def test_a_survey_that_rolls_back_is_not_counted(app, surveyed, reports):
    from ticketing.auth.models import User
    from ticketing.callbacks.models import Callback
    from ticketing.callbacks.operations import record_attempt
    clock.freeze(sh(2026, 3, 4, 19, 0))
    with app.app_context():
        callback = db.session.get(Callback, _callback_id(app, surveyed.world.tickets["R3"]))
        agent = db.session.get(User, surveyed.agent.id)
        record_attempt(agent, callback, {"reached": True, "overall": 1, "attitude": 1,
                                         "standard": 1, "effect": 1}, None)
        db.session.rollback()
    body = reports("supervisor", "supervision")("satisfaction", **PERIOD).get_json()
    assert body["totals"]["surveys"] == 3


@pytest.mark.parametrize("name, params, field", [
    ("satisfaction", {"date_from": D3, "date_to": D1}, "date_to"),
    ("satisfaction", {"bucket": "year"}, "bucket"),
    ("satisfaction", {"kind": "weather"}, "kind"),
    ("satisfaction", {"clock": "response"}, "clock"),              # the SLA report's filter
    ("satisfaction", {"department_id": "0"}, "department_id"),
    ("callbacks", {"date_from": D3, "date_to": D1}, "date_to"),
    ("callbacks", {"status": "pending"}, "status"),                 # not a query status
    ("callbacks", {"agent_id": "abc"}, "agent_id"),
    ("callbacks", {"limit": "1000"}, "limit"),
    ("callbacks", {"cursor": "not-a-cursor"}, "cursor"),
    ("callbacks", {"ticket_id": "1"}, "ticket_id"),                 # unknown here
])
def test_bad_input_is_a_400_naming_the_field(reports, name, params, field):
    response = reports("supervisor", "supervision")(name, **params)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["fields"]


def test_the_reports_need_reports_view(reports, client):
    for name in ("satisfaction", "callbacks"):
        assert reports("agent", "call_center")(name).status_code == 403
        assert reports("callback_agent", "call_center")(name).status_code == 403
        assert client.get(f"/api/v1/reports/{name}").status_code == 401
        assert reports("department_head", "repair_team_1")(name).status_code == 200


# -- pages and CSV -------------------------------------------------------------------------

def _login(client, make_user, role, department):
    user = make_user(role, department)
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 302
    return user


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_pages_show_the_figures_a_chart_and_export_links(surveyed, client, make_user):
    _login(client, make_user, "supervisor", "supervision")
    index = client.get("/reports").get_data(as_text=True)
    assert "/reports/satisfaction" in index and "/reports/callbacks" in index
    page = client.get("/reports/satisfaction", query_string={**PERIOD, "bucket": "day"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and "Mean overall score" in html
    assert "3.67" in html and "66.7%" in html and "Repair team 1" in html
    assert "/reports/satisfaction/export.csv" in html
    page = client.get("/reports/callbacks", query_string={**PERIOD, "status": "done"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/reports/callbacks/export.csv" in html
    assert html.count("/tickets/") == 3 and "Unsatisfied" in html
    bad = client.get("/reports/callbacks", query_string={"date_from": D3, "date_to": D1})
    assert bad.status_code == 400 and "date_to" in bad.get_data(as_text=True)
    assert client.get("/reports/callbacks", query_string={"cursor": "zzz"}).status_code == 400
    assert client.get("/reports/satisfaction/export.csv",
                      query_string={"bucket": "year"}).status_code == 400


def test_both_reports_export_csv(surveyed, client, make_user):
    _login(client, make_user, "supervisor", "supervision")
    rows = _csv(client.get("/reports/satisfaction/export.csv", query_string=PERIOD))
    assert rows[0] == ["Department", "Surveys", "Overall", "Service attitude",
                       "Service standard", "Service effect", "Share satisfied"]
    assert sorted(rows[1:]) == sorted([
        ["Repair team 1", "1", "5.0", "4.0", "5.0", "4.0", "100.0"],
        ["Repair team 2", "1", "2.0", "3.0", "4.0", "2.0", "0.0"],
        [rows_named(rows, "4.0"), "1", "4.0", "5.0", "3.0", "4.0", "100.0"]])
    response = client.get("/reports/callbacks/export.csv", query_string=PERIOD)
    assert response.is_streamed
    assert 'filename="report-callbacks-20260302-20260304.csv"' in \
        response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:3] == ["Ticket", "Kind", "Closed"]
    assert len(rows) == 5
    by_result = {row[8]: row for row in rows[1:]}
    assert by_result["Unsatisfied"][9:13] == ["2", "3", "4", "2"]
    assert by_result[""][4] == "Open" and by_result[""][9:13] == ["", "", "", ""]
    assert {row[2] for row in rows[1:]} >= {"2026-03-02 13:00:00"}  # R1 closed, Shanghai
    only = _csv(client.get("/reports/callbacks/export.csv",
                           query_string={**PERIOD, "kind": "complaint"}))
    assert len(only) == 2 and only[1][5] == "2" and only[1][8] == "Satisfied"


def rows_named(rows, overall: str) -> str:
    """The department name of the CSV row whose overall mean is `overall`."""
    return next(row[0] for row in rows[1:] if row[2] == overall)
