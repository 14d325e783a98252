"""The fault report sums whole months of a range from the monthly rows (fault_months) and the
days at its edges from the daily rows: the figures must be exactly those of summing the days,
after edits that move a ticket's contribution (a reopened repair dispatched to another team, a
repair reclassified away and back with another fault category).

Report days are Asia/Shanghai; 02:00 UTC is 10:00 there, the same day:
  F1 repair, customer A (东区), 2026-01-30: fault 光缆 (January, an edge of the range).
  F2 repair, customer B (西区), 2026-02-10: fault 电缆, dispatched to repair team 1, repaired,
     resolved; reopened and dispatched to repair team 2 (its department moves).
  F3 repair, customer A, 2026-02-27: fault 光缆; reclassified to a complaint, back to a
     repair and classified 设备 (its category moves).
  F4 repair, customer B, 2026-03-15: fault 光缆, work order to the repair department.
  F5 repair, customer A, 2026-04-02: fault 电缆 (April, the other edge).
  F6 repair, customer A, 2026-04-20: fault 光缆 (after the range).
The range 2026-01-25..2026-04-05: January's and April's days, February and March whole."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from ticketing.extensions import db
from ticketing.reports.models import ReportDaily
from ticketing.reports.operations import rebuild_rollups
from tests.reports.conftest import World
from tests.reports.test_report_figures import _rollups

RANGE = {"date_from": "2026-01-25", "date_to": "2026-04-05"}


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 2, tzinfo=timezone.utc)


@pytest.fixture
def faults(app):
    world = World(app)
    a = world.customer("A1", "东区", "13800000001")
    b = world.customer("B1", "西区", "13800000002")
    d = world.dept

    def repair(key, customer, when, fault):
        world.open(key, when, kind="repair", customer_id=customer, description="没有信号")
        world.fire(key, 5, "verify_customer")
        world.fire(key, 10, "classify_fault", fault_type=fault)

    repair("F1", a, at(1, 30), "fibre_cable")
    repair("F2", b, at(2, 10), "cable")
    for minutes, event, fields in (
            (15, "issue_work_order", {"department_id": d["repair"]}),
            (20, "dispatch", {"department_id": d["repair_team_1"]}), (25, "accept", {}),
            (60, "report_repaired", {"note": "修好了"}), (90, "resolve", {"note": "已回复"}),
            (2000, "reopen", {"reason": "又坏了"}),
            (2010, "dispatch", {"department_id": d["repair_team_2"]})):
        world.fire("F2", minutes, event, **fields)
    repair("F3", a, at(2, 27), "fibre_cable")
    world.fire("F3", 30, "reclassify", to_kind="complaint", reason="其实是投诉")
    world.fire("F3", 40, "reclassify", to_kind="repair", reason="还是报修")
    world.fire("F3", 50, "classify_fault", fault_type="equipment")
    repair("F4", b, at(3, 15), "fibre_cable")
    world.fire("F4", 15, "issue_work_order", department_id=d["repair"])
    repair("F5", a, at(4, 2), "cable")
    repair("F6", a, at(4, 20), "fibre_cable")
    return world


def _summed_days(app, user_department, date_from, date_to, area=None, fault_type=None,
                 department_id=None):
    """{(area, category): n} from the daily rows alone (what the report read before). In an
    app context of its own: a request inside one would share its `g` (the logged-in user)."""
    rd = ReportDaily.__table__
    where = [rd.c.cube == "faults", rd.c.day >= date.fromisoformat(date_from),
             rd.c.day <= date.fromisoformat(date_to)]
    for column, value in (("department_id", user_department), ("area", area),
                          ("fault_type", fault_type), ("department_id", department_id)):
        if value is not None:
            where.append(rd.c[column] == value)
    with app.app_context():
        rows = db.session.execute(select(rd.c.area, rd.c.fault_type, func.sum(rd.c.n))
                                  .where(*where).group_by(rd.c.area, rd.c.fault_type)).all()
    return {(area_, fault): int(n) for area_, fault, n in rows if n}


def _cells(body) -> dict:
    return {(r["area"], r["fault_type"]): r["count"] for r in body["rows"]}


RANGES = [RANGE,  # partial January, whole February and March, partial April
          {"date_from": "2026-02-01", "date_to": "2026-03-31"},  # whole months only
          {"date_from": "2026-02-01", "date_to": "2026-04-05"},  # starts on a month
          {"date_from": "2026-01-25", "date_to": "2026-02-28"},  # ends with a month
          {"date_from": "2026-02-05", "date_to": "2026-02-27"},  # inside one month
          {"date_from": "2026-01-31", "date_to": "2026-03-01"},  # a day either side
          {"date_from": "2026-01-01", "date_to": "2026-12-31"}]


def test_whole_months_and_edge_days_give_the_figures_of_the_days(app, faults, reports):
    d = faults.dept
    supervisor = reports("supervisor", "supervision")
    head = reports("department_head", "repair_team_2")
    body = supervisor("faults", **RANGE).get_json()
    # By hand: F1 东区 光缆, F2 西区 电缆, F3 东区 设备 (no longer 光缆), F4 西区 光缆,
    # F5 东区 电缆; F6 is after the range.
    assert _cells(body) == {("东区", "fibre_cable"): 1, ("东区", "equipment"): 1,
                            ("东区", "cable"): 1, ("西区", "fibre_cable"): 1,
                            ("西区", "cable"): 1}
    assert _cells(head("faults", **RANGE).get_json()) == {("西区", "cable"): 1}  # F2 moved
    for span in RANGES:
        for filters in ({}, {"area": "东区"}, {"fault_type": "fibre_cable"},
                        {"department_id": d["repair_team_2"]}, {"department_id": d["repair"]}):
            got = supervisor("faults", **span, **filters).get_json()
            assert _cells(got) == _summed_days(app, None, **span, **filters), (span, filters)
        got = head("faults", **span).get_json()
        assert _cells(got) == _summed_days(app, d["repair_team_2"], **span), span


def _fault_cubes() -> dict:
    """The three fault cubes of the rollups. (The append-only repairs and sla cubes are left
    out: a rebuild counts F2's repair for its department now, the live count for the team
    that reported it.)"""
    rows, _facts = _rollups()
    return {key: measures for key, measures in rows.items() if key[0].startswith("fault")}


def test_the_monthly_rows_kept_with_each_change_equal_a_rebuild(app, faults):
    with app.app_context():
        kept = _fault_cubes()
        assert {key[1] for key in kept if key[0] == "fault_months"} == {
            date(2026, month, 1) for month in (1, 2, 3, 4)}
        rebuild_rollups()
        db.session.commit()
        assert _fault_cubes() == kept
