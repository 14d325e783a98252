"""Each report's numbers against the hand-computed world of conftest.build_world."""
from sqlalchemy import select

from ticketing.extensions import db
from ticketing.reports.models import ReportDaily, ReportTicketFact
from ticketing.reports.operations import rebuild_rollups

D1, D2 = "2026-03-02", "2026-03-03"
PERIOD = {"date_from": D1, "date_to": D2}


def _by(rows, key="key", value="count"):
    return {row[key]: row[value] for row in rows}


def test_summary_counts_tickets_by_kind_state_status_department_and_day(world, reports):
    get = reports("supervisor", "supervision")
    body = get("summary", **PERIOD, by="kind").get_json()
    assert _by(body["rows"]) == {"repair": 3, "consult": 2, "complaint": 1}
    assert body["total"] == 6
    assert _by(get("summary", **PERIOD, by="state").get_json()["rows"]) == {
        "closed": 2, "repair_repaired": 1, "repair_classified": 1, "consult_new": 1,
        "complaint_new": 1}
    assert _by(get("summary", **PERIOD, by="status").get_json()["rows"]) == {
        "processed": 2, "processing": 2, "pending": 2}
    assert _by(get("summary", **PERIOD, by="day").get_json()["rows"]) == {D1: 3, D2: 3}
    d = world.dept
    assert _by(get("summary", **PERIOD, by="department").get_json()["rows"]) == {
        str(d["repair_team_1"]): 1, str(d["repair_team_2"]): 1, str(d["dispatch"]): 1,
        str(d["operations"]): 2, str(d["inspection"]): 1}
    # Filters and the date range.
    assert _by(get("summary", **PERIOD, by="kind", status="pending").get_json()["rows"]) == {
        "consult": 1, "complaint": 1}
    assert get("summary", date_from=D2, date_to=D2, by="kind").get_json()["total"] == 3
    assert get("summary", date_from="2026-03-05", date_to="2026-03-09").get_json()["total"] == 0


def test_call_types_count_calls_per_kind_and_category(world, reports):
    get = reports("supervisor", "supervision")
    body = get("calls", **PERIOD).get_json()
    assert {(r["kind"], r["category"]): r["count"] for r in body["rows"]} == {
        ("repair", ""): 3, ("consult", "资费查询"): 2, ("complaint", "服务态度"): 1}
    assert body["total"] == 6
    assert body["rows"][0]["share"] == 0.5
    web = get("calls", **PERIOD, channel="web").get_json()
    assert [(r["kind"], r["category"], r["count"]) for r in web["rows"]] == [
        ("consult", "资费查询", 1)]


def test_fault_rates_per_area_and_category_per_thousand_customers(world, reports):
    get = reports("supervisor", "supervision")
    body = get("faults", **PERIOD, bucket="day").get_json()
    assert [(r["area"], r["fault_type"], r["count"], r["customers"], r["per_1000_customers"])
            for r in body["rows"]] == [("东区", "fibre_cable", 2, 2, 1000.0),
                                       ("西区", "cable", 1, 1, 1000.0)]
    assert body["periods"] == [D1, D2]
    assert {s["name"]: s["values"] for s in body["series"]} == {"fibre_cable": [1, 1], "cable": [1, 0]}
    assert get("faults", **PERIOD, area="西区").get_json()["total"] == 1


def test_repair_statistics_per_team(world, reports):
    get = reports("supervisor", "supervision")
    body = get("repairs", **PERIOD).get_json()
    rows = {r["department_id"]: r for r in body["rows"]}
    team1, team2 = rows[world.dept["repair_team_1"]], rows[world.dept["repair_team_2"]]
    assert (team1["count"], team1["mean_minutes_to_repair"], team1["with_sla"],
            team1["within_sla"], team1["share_within_sla"]) == (1, 120.0, 1, 1, 1.0)
    assert (team2["count"], team2["mean_minutes_to_repair"], team2["within_sla"],
            team2["share_within_sla"]) == (1, 600.0, 0, 0.0)
    assert body["totals"] == {"count": 2, "mean_minutes_to_repair": 360.0, "with_sla": 2,
                              "within_sla": 1, "share_within_sla": 0.5}


def test_sla_compliance_of_finished_clocks(world, reports):
    get = reports("supervisor", "supervision")
    body = get("sla", **PERIOD, bucket="day").get_json()
    per_clock = {}
    for row in body["rows"]:
        total = per_clock.setdefault(row["clock"], [0, 0])
        total[0] += row["finished"]
        total[1] += row["met"]
    # Response: R1, R2 (missed), R3, C1 answered; resolution: R1 and C1 closed in time.
    assert per_clock == {"response": [4, 3], "resolution": [2, 2]}
    assert body["totals"] == {"finished": 6, "met": 5, "breached": 1, "compliance": 0.8333}
    series = {s["name"]: s["values"] for s in body["series"]}
    assert series == {"response": [0.6667, 1.0], "resolution": [1.0, None]}
    only = get("sla", **PERIOD, clock="resolution").get_json()
    assert only["totals"]["finished"] == 2


def test_a_department_head_sees_only_their_department(world, reports):
    get = reports("department_head", "repair_team_1")
    summary = get("summary", **PERIOD, by="kind").get_json()
    assert summary["department_scope"] == world.dept["repair_team_1"]
    assert _by(summary["rows"]) == {"repair": 1}
    repairs = get("repairs", **PERIOD).get_json()
    assert [r["department_id"] for r in repairs["rows"]] == [world.dept["repair_team_1"]]
    # Asking for another department gives nothing, not that department's figures.
    other = get("summary", **PERIOD, department_id=world.dept["operations"]).get_json()
    assert other["total"] == 0
    tickets = get("tickets", **PERIOD).get_json()["items"]
    assert {t["id"] for t in tickets} == {world.tickets["R1"]}


def test_ticket_query_filters_on_fields_and_text(world, reports):
    get = reports("supervisor", "supervision")
    def ids(**filters):
        return {t["id"] for t in get("tickets", **{**PERIOD, **filters}).get_json()["items"]}

    t = world.tickets
    assert ids() == set(t.values())
    assert ids(kind="repair", fault_type="fibre_cable") == {t["R1"], t["R3"]}
    assert ids(channel="web") == {t["C2"]}
    assert ids(category="服务态度") == {t["K1"]}
    assert ids(status="processed") == {t["R1"], t["C1"]}
    assert ids(department_id=world.dept["repair_team_2"]) == {t["R2"]}
    assert ids(text="态度") == {t["K1"]}
    assert ids(date_from=D2, date_to=D2) == {t["R3"], t["C2"], t["K1"]}
    first = get("tickets", **PERIOD, limit=4).get_json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    rest = get("tickets", **PERIOD, limit=4, cursor=first["next_cursor"]).get_json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None


def test_customer_detail_lists_every_ticket_with_its_history(world, reports):
    get = reports("supervisor", "supervision")
    body = get("customer", account_no="A1").get_json()
    assert body["customer"]["area"] == "东区"
    assert [t["id"] for t in body["tickets"]] == [world.tickets["R3"], world.tickets["R1"]]
    r1 = body["tickets"][1]
    assert [h["event"] for h in r1["history"]] == [
        "open", "verify_customer", "classify_fault", "issue_work_order", "dispatch", "accept",
        "report_repaired", "resolve"]
    assert body["counts"] == {"repair": 2}
    assert len(get("customer", account_no="A1", date_from=D1, date_to=D1)
               .get_json()["tickets"]) == 1
    assert get("customer", account_no="nobody").status_code == 404


def test_rollups_kept_with_each_change_equal_a_rebuild_from_the_tickets(app, world):
    """After reclassifying, suspending, resuming and reopening, the rollups maintained in
    each transaction are exactly what a rebuild computes from the tickets."""
    world.fire("C2", 30, "reclassify", to_kind="complaint", reason="客户投诉")
    world.fire("K1", 10, "suspend", reason="等待")
    world.fire("K1", 40, "resume")
    world.fire("R1", 300, "reopen", reason="又坏了")
    with app.app_context():
        kept = _rollups()
        rebuild_rollups()
        db.session.commit()
        assert _rollups() == kept


def test_a_ticket_opened_and_moved_on_in_one_transaction_counts_once(app, world):
    """A ticket opened in the transaction has no counted fact yet (none is read for it); if
    it also changes before the commit it counts once, in its final state."""
    from datetime import datetime, timezone
    from ticketing import clock
    from ticketing.tickets.operations import fire_event, open_ticket
    clock.freeze(datetime(2026, 3, 3, 8, tzinfo=timezone.utc))
    with app.app_context():
        ticket = open_ticket(None, kind="consult", caller_phone="13900000007",
                             description="当场答复")
        fire_event(None, ticket, "suspend", {"reason": "等待"})
        db.session.commit()
        kept = _rollups()
        assert ticket.id in {fact[0] for fact in kept[1]}
        rebuild_rollups()
        db.session.commit()
        assert _rollups() == kept


def _rollups():
    table = ReportDaily.__table__
    rows = {}
    for row in db.session.execute(select(table)).mappings():
        key = tuple(row[c] for c in ("cube", "day", "department_id", "kind", "state", "channel",
                                     "category", "area", "fault_type", "clock"))
        if row["n"] or row["with_sla"] or row["met"]:
            rows[key] = (row["n"], round(row["minutes"], 3), row["with_sla"], row["met"])
    facts = {tuple(row) for row in db.session.execute(select(ReportTicketFact.__table__))}
    return rows, facts


def test_a_rolled_back_change_leaves_the_rollups_alone(app, world, reports):
    """The marks of a unit of work that rolls back are dropped with it: the next commit
    counts only its own ticket."""
    from datetime import datetime, timezone
    from ticketing import clock
    from ticketing.tickets.operations import open_ticket
    clock.freeze(datetime(2026, 3, 3, 8, tzinfo=timezone.utc))
    with app.app_context():
        open_ticket(None, kind="complaint", caller_phone="13900000009", description="撤销")
        db.session.rollback()
        open_ticket(None, kind="consult", caller_phone="13900000008", description="保留")
        db.session.commit()
    body = reports("supervisor", "supervision")("summary", **PERIOD, by="kind").get_json()
    assert _by(body["rows"]) == {"repair": 3, "consult": 3, "complaint": 1}
