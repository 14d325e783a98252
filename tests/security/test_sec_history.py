"""History is append-only: no route can change or remove ticket_events / customer_changes, no
code in ticketing/ updates or deletes them, and the database itself refuses it (SQLite and
PostgreSQL triggers)."""
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from ticketing.customers.models import CustomerChange
from ticketing.extensions import db
from ticketing.tickets.models import TicketEvent

ROOT = Path(__file__).resolve().parents[2]
HISTORY_TABLES = ("ticket_events", "customer_changes")


@pytest.fixture
def history(app):
    """One ticket and one customer, each with history rows."""
    from ticketing.customers.operations import create_customer, update_customer
    from ticketing.tickets.operations import open_ticket
    with app.app_context():
        customer = create_customer(None, {"account_no": "KH1", "name": "王芳",
                                          "phones": ["13800138000"]})
        db.session.flush()
        update_customer(None, customer, {"notes": "改过"}, expected_version=customer.version)
        ticket = open_ticket(None, kind="consult", caller_phone="13800138000",
                             description="历史")
        db.session.commit()
        ids = {"ticket_id": ticket.id, "customer_id": customer.id}
    return ids


def _rows(app):
    with app.app_context():
        events = [tuple(r) for r in db.session.execute(select(
            TicketEvent.id, TicketEvent.event, TicketEvent.note, TicketEvent.ticket_id))]
        changes = [tuple(r) for r in db.session.execute(select(
            CustomerChange.id, CustomerChange.action, CustomerChange.customer_id))]
        db.session.remove()
    return events, changes


def test_no_route_can_put_patch_or_delete_history(app):
    writers = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods & {"PUT", "PATCH", "DELETE"}:
            writers[(method, rule.rule)] = rule.endpoint
    # A customer patch, which appends a history row (checked below), the callback settings
    # and the audit rules (not history: one row of configuration each), an open incident's
    # edit (an incident has no history rows to change) and a draft or scheduled
    # announcement's edit (likewise).
    assert writers == {("PATCH", "/api/v1/customers/<int:customer_id>"):
                       "customers_api.patch_customer",
                       ("PUT", "/api/v1/callback-settings"): "callbacks_api.put_settings",
                       ("PUT", "/api/v1/audit-rules"): "audits_api.put_rules",
                       ("PATCH", "/api/v1/incidents/<int:incident_id>"):
                       "incidents_api.update_incident",
                       ("PATCH", "/api/v1/announcements/<int:announcement_id>"):
                       "announcements_api.update_announcement"}
    for rule in app.url_map.iter_rules():
        if re.search(r"history|changes", rule.rule):
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule.rule


def test_every_write_route_only_appends_history(app, client, history, as_role):
    """Old rows survive every PATCH/POST untouched: the rows before are a prefix of after."""
    _user, headers = as_role("admin", "management")
    before_events, before_changes = _rows(app)
    version = client.get(f"/api/v1/customers/{history['customer_id']}",
                         headers=headers).get_json()["version"]
    assert client.patch(f"/api/v1/customers/{history['customer_id']}", headers=headers,
                        json={"version": version, "notes": "再改"}).status_code == 200
    version = client.get(f"/api/v1/tickets/{history['ticket_id']}",
                         headers=headers).get_json()["version"]
    assert client.post(f"/api/v1/tickets/{history['ticket_id']}/transitions", headers=headers,
                       json={"event": "suspend", "version": version,
                             "fields": {"reason": "等待"}}).status_code == 200
    for method in ("put", "patch", "delete"):
        for path in (f"/api/v1/tickets/{history['ticket_id']}/history",
                     f"/api/v1/customers/{history['customer_id']}/history"):
            assert getattr(client, method)(path, headers=headers, json={}).status_code == 405
    after_events, after_changes = _rows(app)
    assert after_events[:len(before_events)] == before_events
    assert after_changes[:len(before_changes)] == before_changes
    assert len(after_events) == len(before_events) + 1
    assert len(after_changes) == len(before_changes) + 1


# Whatever spelling an update or delete of a history row could take in the code.
FORBIDDEN = [
    r"(update|delete)\(\s*(TicketEvent|CustomerChange)\b",
    r"(TicketEvent|CustomerChange)\b[^\n]*\.(update|delete)\(",
    r"(?i)(update\s+|delete\s+from\s+)(ticket_events|customer_changes)\b",
    r"(?i)truncate[^\n]*(ticket_events|customer_changes)",
]


def test_no_code_updates_or_deletes_history_rows():
    offenders = []
    for path in sorted((ROOT / "ticketing").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for pattern in FORBIDDEN:
            for match in re.finditer(pattern, source):
                line = source.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
        # A history row loaded and then handed to session.delete() or given a new attribute.
        for match in re.finditer(r"session\.delete\((\w+)\)", source):
            if re.search(r"(event|change|history)", match.group(1), re.I):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert offenders == []


def test_the_patterns_would_catch_an_offender():
    for sample in ("db.session.execute(update(TicketEvent).values(note='x'))",
                   "db.session.execute(delete(CustomerChange))",
                   "db.session.execute(text('DELETE FROM ticket_events'))",
                   "conn.execute('update customer_changes set action = 1')"):
        assert any(re.search(p, sample) for p in FORBIDDEN), sample


@pytest.mark.parametrize("table", HISTORY_TABLES)
@pytest.mark.parametrize("statement", [
    "UPDATE {table} SET id = id",
    "UPDATE {table} SET {column} = {column}",
    "DELETE FROM {table}",
    "DELETE FROM {table} WHERE id = (SELECT max(id) FROM {table})",
])
def test_the_database_refuses_to_change_history(app, history, table, statement):
    column = {"ticket_events": "note", "customer_changes": "action"}[table]
    before = _rows(app)
    with app.app_context():
        assert db.session.scalar(text(f"SELECT count(*) FROM {table}")) > 0
        with pytest.raises(DatabaseError) as refused:
            db.session.execute(text(statement.format(table=table, column=column)))
            db.session.commit()
        db.session.rollback()
        assert "append-only" in str(refused.value).lower() or "history" in str(
            refused.value).lower(), str(refused.value)
        db.session.remove()
    assert _rows(app) == before


def test_the_orm_cannot_change_or_remove_a_history_row_either(app, history):
    before = _rows(app)
    with app.app_context():
        row = db.session.scalar(select(TicketEvent).limit(1))
        row.note = "改写"
        with pytest.raises(DatabaseError):
            db.session.commit()
        db.session.rollback()
        row = db.session.scalar(select(CustomerChange).limit(1))
        db.session.delete(row)
        with pytest.raises(DatabaseError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(func.count(TicketEvent.id))) == len(before[0])
        db.session.remove()
    assert _rows(app) == before
