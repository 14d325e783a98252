"""Bad input is a clear 400 (never a 500), pages show the figures with a chart, CSV export
(streamed for the ticket report, in constant memory)."""
import csv
import io
import tracemalloc

import pytest
from sqlalchemy import insert

from ticketing.extensions import db
from ticketing.tickets.models import Ticket

PASSWORD = "correct-horse-9"
D1, D2 = "2026-03-02", "2026-03-03"
PERIOD = {"date_from": D1, "date_to": D2}


@pytest.fixture
def supervisor(reports):
    return reports("supervisor", "supervision")


@pytest.mark.parametrize("params, field", [
    ({"date_from": D2, "date_to": D1}, "date_to"),                # reversed
    ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "date_to"),  # six years at once
    ({"date_from": "9999-01-01"}, "date_from"),                     # absurd
    ({"date_to": "2026-02-30"}, "date_to"),                         # no such day
    ({"date_from": "yesterday"}, "date_from"),
    ({"bucket": "year"}, "bucket"),
    ({"department_id": "99999999999999999999"}, "department_id"),  # beyond any id
    ({"department_id": "-1"}, "department_id"),
    ({"colour": "red"}, "colour"),                                  # unknown filter
])
def test_bad_filters_are_a_400_naming_the_field(supervisor, params, field):
    response = supervisor("faults", **params)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid_input"
    assert field in body["fields"]


@pytest.mark.parametrize("name, params, field", [
    ("tickets", {"text": "停" * 10_000}, "text"),
    ("tickets", {"limit": str(10 ** 12)}, "limit"),
    ("tickets", {"cursor": "not-a-cursor"}, "cursor"),
    ("tickets", {"state": "DROP TABLE tickets"}, "state"),
    ("summary", {"by": "colour"}, "by"),
    ("customer", {}, "customer_id"),
    ("customer", {"customer_id": "1", "account_no": "A1"}, "customer_id"),
])
def test_bad_report_arguments_are_a_400(supervisor, name, params, field):
    response = supervisor(name, **params)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["fields"]


def test_an_unknown_report_is_a_400_listing_the_reports(supervisor):
    response = supervisor("satisfaction_by_astrology")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "unknown_report"
    assert "summary" in body["reports"] and "tickets" in body["reports"]


@pytest.mark.parametrize("text", ['"', "*", "NEAR", "a OR b", "'", "'; DROP TABLE tickets; --",
                                  "%", "_", "光缆\" NEAR(\"停电"])
def test_query_syntax_in_the_text_search_is_plain_text(world, supervisor, text):
    response = supervisor("tickets", **PERIOD, text=text)
    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_the_default_period_is_the_last_30_days(world, supervisor):
    body = supervisor("summary").get_json()  # the clock is frozen at 2026-03-04 10:00 (+8)
    assert (body["date_from"], body["date_to"]) == ("2026-02-03", "2026-03-04")
    assert body["total"] == 6


# -- pages ---------------------------------------------------------------------------------

def _login(client, make_user, role, department):
    user = make_user(role, department)
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 302
    return user


def test_report_pages_show_figures_a_chart_and_an_export_link(world, client, make_user):
    _login(client, make_user, "supervisor", "supervision")
    home = client.get("/reports")
    assert home.status_code == 200 and "/reports/repairs" in home.get_data(as_text=True)
    for name in ("summary", "calls", "faults", "repairs", "sla"):
        page = client.get(f"/reports/{name}", query_string=PERIOD)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, name
        assert "<svg" in html, name
        assert f"/reports/{name}/export.csv" in html
    html = client.get("/reports/repairs", query_string=PERIOD).get_data(as_text=True)
    assert "600.0" in html and "50.0%" in html and "Repair team 1" in html
    html = client.get("/reports/tickets", query_string={**PERIOD, "text": "态度"}).get_data(
        as_text=True)
    assert html.count("/tickets/") >= 1 and "态度" in html
    html = client.get("/reports/customer", query_string={"customer_id": 1}).get_data(
        as_text=True)
    assert "东区" in html and "Report repaired" in html
    assert client.get("/reports/customer").status_code == 200  # the empty form


def test_report_pages_refuse_bad_input_with_a_400_page(world, client, make_user):
    _login(client, make_user, "supervisor", "supervision")
    page = client.get("/reports/sla", query_string={"date_from": D2, "date_to": D1})
    assert page.status_code == 400
    assert "date_to" in page.get_data(as_text=True)
    assert client.get("/reports/no-such-report").status_code == 400
    assert client.get("/reports/tickets", query_string={"cursor": "zzz"}).status_code == 400
    assert client.get("/reports/faults/export.csv",
                      query_string={"date_from": "1900-01-01"}).status_code == 400


def test_only_report_holders_see_the_reports_link(client, make_user):
    _login(client, make_user, "supervisor", "supervision")
    assert 'href="/reports"' in client.get("/").get_data(as_text=True)
    client.post("/logout")
    _login(client, make_user, "agent", "call_center")
    assert 'href="/reports"' not in client.get("/").get_data(as_text=True)


# -- CSV -----------------------------------------------------------------------------------

def _csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # so spreadsheet programs read the Chinese right
    return list(csv.reader(io.StringIO(text[1:])))


def test_aggregate_reports_export_their_rows_as_csv(world, client, make_user):
    _login(client, make_user, "supervisor", "supervision")
    response = client.get("/reports/repairs/export.csv", query_string=PERIOD)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="report-repairs-20260302-20260303.csv"' in \
        response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["Team", "Repairs", "Mean time to repair (minutes)", "With a deadline",
                       "Within the deadline", "Share within the deadline"]
    assert sorted(rows[1:]) == [["Repair team 1", "1", "120.0", "1", "1", "100.0"],
                                ["Repair team 2", "1", "600.0", "1", "0", "0.0"]]
    faults = _csv(client.get("/reports/faults/export.csv", query_string=PERIOD))
    # The category by its name in the reader's language (the API gives its code).
    assert faults[1:] == [["东区", "Fibre cable", "2", "2", "1000.0"],
                          ["西区", "Cable", "1", "1", "1000.0"]]
    customer = _csv(client.get("/reports/customer/export.csv",
                               query_string={"account_no": "A1"}))
    assert [row[0][:2] for row in customer[1:]] == ["GD", "GD"] and len(customer) == 3


def test_the_ticket_report_streams_every_matching_ticket_as_csv(world, client, make_user):
    _login(client, make_user, "supervisor", "supervision")
    response = client.get("/reports/tickets/export.csv",
                          query_string={**PERIOD, "kind": "repair"})
    assert response.status_code == 200 and response.is_streamed
    rows = _csv(response)
    assert rows[0][:3] == ["Number", "Kind", "State"]
    assert len(rows) == 4
    assert {row[6] for row in rows[1:]} == {"Fibre cable", "Cable"}
    assert {row[8] for row in rows[1:]} == {"客户A1", "客户B1"}
    # Times are shown in the report time zone: R1 was opened 2026-03-02 02:00 UTC.
    assert "2026-03-02 10:00:00" in {row[13] for row in rows[1:]}


def _bulk_tickets(app, n: int, start: int) -> None:
    from datetime import datetime, timezone
    at = datetime(2026, 3, 2, 4, tzinfo=timezone.utc)
    with app.app_context():
        db.session.execute(insert(Ticket), [
            {"number": f"BULK{start + i:08d}", "kind": "consult", "state": "consult_new",
             "description": "批量" * 20, "created_at": at, "updated_at": at}
            for i in range(n)])
        db.session.commit()


def _peak_while_reading(client, path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        response = client.get(path, query_string=PERIOD)
        size = sum(len(chunk) for chunk in response.response)
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_csv_export_memory_does_not_grow_with_the_rows(app, client, make_user):
    _login(client, make_user, "admin", "management")
    _bulk_tickets(app, 3_000, 0)
    small_peak, small_size = _peak_while_reading(client, "/reports/tickets/export.csv")
    _bulk_tickets(app, 12_000, 3_000)
    large_peak, large_size = _peak_while_reading(client, "/reports/tickets/export.csv")
    assert large_size > 4 * small_size
    # Five times the rows, not five times the memory: the rows are read in chunks.
    assert large_peak < small_peak * 1.6, (small_peak, large_peak, small_size, large_size)


def test_pages_show_a_fault_category_by_its_name_not_its_code(world, client, make_user):
    """The API answers the stored code (`fibre_cable`); pages name it in the reader's
    language: the fault report's table and chart, the ticket report, a team's queue."""
    _login(client, make_user, "supervisor", "supervision")
    faults = client.get("/reports/faults", query_string=PERIOD).get_data(as_text=True)
    assert "Fibre cable" in faults and "Cable" in faults and "fibre_cable" not in faults
    tickets = client.get("/reports/tickets",
                         query_string={**PERIOD, "kind": "repair"}).get_data(as_text=True)
    assert "<td>Fibre cable</td>" in tickets and "fibre_cable" not in tickets
    client.post("/logout")
    world.fire("R3", 30, "issue_work_order", department_id=world.dept["repair"])
    world.fire("R3", 35, "dispatch", department_id=world.dept["repair_team_2"])
    _login(client, make_user, "staff", "repair_team_2")
    queue = client.get("/dispatch/queue").get_data(as_text=True)
    assert "<td>Fibre cable</td>" in queue and "fibre_cable" not in queue  # R3
