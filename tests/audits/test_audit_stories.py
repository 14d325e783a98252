"""Audits end to end (SPEC §6, issue 16), driven by the frozen clock and the real sweep:
a selected closing gets its audit in the same transaction; a reject reopens the ticket with
the reason in its history; an unsatisfied callback and an SLA breach are audited; an overdue
audit escalates exactly once; bad decisions are refused and change nothing."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ticketing.extensions import db
from workflows.tickets import REOPEN_STATE


def decide(client, headers, audit_id, **body):
    return client.post(f"/api/v1/audits/{audit_id}/decision", headers=headers, json=body)


def test_a_closed_complaint_is_audited_and_a_reject_reopens_it_with_the_reason(
        desk, sh, client, supervisor):
    user, headers = supervisor
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    [audit] = desk.audits(ticket)
    assert (audit.status, audit.reason_list, audit.trigger, audit.round) == (
        "open", ["complaint"], "closing", 0)
    assert audit.created_at == sh(2026, 3, 2, 10, 0) and audit.due_at > audit.created_at

    queue = client.get("/api/v1/audits?status=open", headers=headers).get_json()
    assert [a["id"] for a in queue["items"]] == [audit.id]
    detail = client.get(f"/api/v1/audits/{audit.id}", headers=headers).get_json()
    events = [s["event"] for s in detail["steps"]]
    assert events == ["open", "send_to_inspection", "analyse", "assign", "handle", "resolve"]
    handle = detail["steps"][4]
    assert handle["note"] == "已向客户道歉" and handle["at"].startswith("2026-03-02T02:00")
    assert {d["clock"]: d["met"] for d in detail["deadlines"]} == {
        "response": True, "resolution": True, "complaint_limit": True}

    desk.at(sh(2026, 3, 2, 15, 0))
    response = decide(client, headers, audit.id, decision="reject",
                      reason="回执人信息不全，请重新处理", version=detail["version"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "done" and body["decision"] == "reject"
    assert body["decided_by"]["id"] == user.id and body["event_id"]
    reopened = desk.ticket(ticket)
    assert reopened.state == REOPEN_STATE["complaint"] and reopened.reopen_count == 1
    [(note, data, actor_id)] = desk.history(ticket, "reopen")
    assert note == "回执人信息不全，请重新处理"  # the supervisor's words, as typed
    assert data["audit_id"] == audit.id and actor_id == user.id
    assert desk.messages(ticket, "reopen", "zh") == [
        f"稽核 #{audit.id} 驳回：回执人信息不全，请重新处理"]
    assert desk.messages(ticket, "reopen", "en") == [
        f"Audit #{audit.id} rejected: 回执人信息不全，请重新处理"]

    # Handled again and closed: round 1 is a complaint again, so it is audited again.
    desk.fire(ticket, "handle", note="补全回执", receipt_person="张三", satisfaction=5)
    desk.fire(ticket, "resolve", note="已处理")
    audits = desk.audits(ticket)
    assert [(a.round, a.status) for a in audits] == [(0, "done"), (1, "open")]
    passed = decide(client, headers, audits[1].id, decision="pass", reason="")
    assert passed.status_code == 200 and desk.ticket(ticket).state == "closed"
    assert [d for _n, d, _a in desk.history(ticket, "audit_passed")] == [
        {"audit_id": audits[1].id}]
    done = client.get(f"/api/v1/audits?status=done&ticket_id={ticket}", headers=headers)
    assert [a["decision"] for a in done.get_json()["items"]] == ["reject", "pass"]


def test_an_unsatisfied_callback_puts_the_ticket_in_the_queue(desk, sh, client, as_role,
                                                              supervisor):
    desk.set_rules(sample_percent=0)
    _agent, agent_headers = as_role("callback_agent", "callback")
    _user, headers = supervisor
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair")
    desk.close(ticket)
    assert desk.audits(ticket) == [], "a repair on time is not selected without the sample"
    [callback] = desk.callbacks(ticket)
    desk.at(sh(2026, 3, 2, 14, 0))
    response = client.post(f"/api/v1/callbacks/{callback.id}/attempts", headers=agent_headers,
                           json={"version": callback.version, "reached": True, "overall": 2,
                                 "attitude": 2, "standard": 3, "effect": 2, "comment": "没修好"})
    assert response.status_code == 201, response.get_json()
    [audit] = desk.audits(ticket)
    assert (audit.reason_list, audit.trigger, audit.callback_id, audit.round) == (
        ["unsatisfied_callback"], "callback", callback.id, 0)
    assert audit.created_at == sh(2026, 3, 2, 14, 0)
    listed = client.get("/api/v1/audits?reason=unsatisfied_callback", headers=headers)
    assert [a["id"] for a in listed.get_json()["items"]] == [audit.id]
    detail = client.get(f"/api/v1/audits/{audit.id}", headers=headers).get_json()
    assert detail["callbacks"][0]["result"] == "unsatisfied"
    # The callback reopened the ticket already: a reject adds its reason to the history.
    assert desk.ticket(ticket).state == REOPEN_STATE["repair"]
    response = decide(client, headers, audit.id, decision="reject", reason="维修质量差")
    assert response.status_code == 200, response.get_json()
    assert desk.ticket(ticket).reopen_count == 1
    [(note, data, _actor)] = desk.history(ticket, "audit_rejected")
    assert note == "维修质量差" and data == {"audit_id": audit.id}
    # Closed again after the re-handling, on time: it had an unsatisfied callback, so it is
    # audited.
    desk.at(sh(2026, 3, 2, 16, 0))
    desk.close(ticket)
    audits = desk.audits(ticket)
    assert [(a.round, a.trigger, a.reason_list) for a in audits][-1] == (
        1, "closing", ["unsatisfied_callback"])


def test_an_unsatisfied_callback_on_an_audited_closing_joins_its_open_audit(
        desk, sh, client, as_role):
    _agent, agent_headers = as_role("callback_agent", "callback")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    [callback] = desk.callbacks(ticket)
    response = client.post(f"/api/v1/callbacks/{callback.id}/attempts", headers=agent_headers,
                           json={"version": callback.version, "reached": True, "overall": 1,
                                 "attitude": 1, "standard": 1, "effect": 1, "comment": "很差"})
    assert response.status_code == 201
    [audit] = desk.audits(ticket)
    assert audit.reason_list == ["complaint", "unsatisfied_callback"]
    assert audit.callback_id == callback.id


def test_a_ticket_that_missed_its_deadline_is_audited_when_closed(desk, sh, client,
                                                                 supervisor):
    desk.set_rules(sample_percent=0)
    _user, headers = supervisor
    desk.at(sh(2026, 3, 2, 9, 0))
    on_time, late = desk.open("repair"), desk.open("repair")
    desk.close(on_time)
    # Repairs run 24x7 with an 8 hour resolution: two days later the sweep escalates it.
    desk.at(sh(2026, 3, 4, 9, 0))
    desk.sweep()
    desk.close(late)
    assert desk.audits(on_time) == []
    [audit] = desk.audits(late)
    assert audit.reason_list == ["sla_breach"]
    detail = client.get(f"/api/v1/audits/{audit.id}", headers=headers).get_json()
    missed = [d["clock"] for d in detail["deadlines"] if d["met"] is False]
    assert "resolution" in missed
    assert any(s["event"] == "escalated" for s in detail["steps"])


def test_a_deadline_missed_earlier_in_the_round_selects_the_closing(desk, sh, app):
    """The response clock stopped late long before the closing: the closing reads it with
    the clocks it stops, and agrees with asking the database afresh."""
    from ticketing.tickets.models import Ticket
    from ticketing.timers.clocks import breached_in_round
    desk.set_rules(sample_percent=0)
    desk.at(sh(2026, 3, 2, 9, 0))
    late, on_time = desk.open("repair"), desk.open("repair")
    desk.fire(on_time, "suspend", reason="客户要求")
    desk.at(sh(2026, 3, 2, 13, 0))  # four hours without a response
    desk.fire(late, "suspend", reason="客户要求")
    desk.fire(late, "close", note="已处理")
    desk.fire(on_time, "close", note="已处理")
    assert [a.reason_list for a in desk.audits(late)] == [["sla_breach"]]
    assert desk.audits(on_time) == []
    with app.app_context():
        tickets = [db.session.get(Ticket, late), db.session.get(Ticket, on_time)]
        assert breached_in_round(tickets, sh(2026, 3, 2, 13, 0)) == {late}


def test_a_deadline_missed_in_an_earlier_round_does_not_select_the_next_closing(desk, sh):
    desk.set_rules(sample_percent=0)
    desk.at(sh(2026, 3, 2, 9, 0))
    ticket = desk.open("repair")
    desk.at(sh(2026, 3, 2, 13, 0))
    desk.close(ticket)  # the response was late: round 0 is audited
    assert [a.round for a in desk.audits(ticket)] == [0]
    desk.fire(ticket, "reopen", reason="客户再次来电")
    desk.close(ticket)  # round 1 answered at once
    assert [a.round for a in desk.audits(ticket)] == [0]


def test_an_overdue_audit_escalates_exactly_once(desk, sh, make_user, app):
    head = make_user("supervisor", "supervision")  # holds audits.escalations
    bystander = make_user("department_head", "operations")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    [audit] = desk.audits(ticket)
    desk.at(audit.due_at - timedelta(minutes=1))
    desk.sweep()
    assert desk.notifications(head.id) == []
    desk.at(audit.due_at + timedelta(minutes=1))
    assert desk.sweep() >= 1
    assert [n["audit_id"] for n in desk.notifications(head.id)] == [audit.id]
    assert desk.notifications(bystander.id) == []
    desk.sweep()
    desk.at(audit.due_at + timedelta(days=3))
    desk.sweep()
    assert len(desk.notifications(head.id)) == 1
    assert desk.audits(ticket)[0].escalated_at == audit.due_at + timedelta(minutes=1)
    # Run again on the same timer (as after a crash between firing and marking): no repeat.
    from ticketing.audits.operations import fire_overdue_audits
    from ticketing.timers.models import Timer
    with app.app_context():
        timer = db.session.scalars(select(Timer).where(Timer.kind == "audit_overdue")).one()
        assert timer.status == "fired"
        fire_overdue_audits([timer], audit.due_at + timedelta(days=4))
        db.session.commit()
    assert len(desk.notifications(head.id)) == 1


def test_a_decided_audit_does_not_escalate(desk, sh, client, supervisor):
    head, headers = supervisor
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    [audit] = desk.audits(ticket)
    assert decide(client, headers, audit.id, decision="pass").status_code == 200
    desk.at(audit.due_at + timedelta(hours=1))
    desk.sweep()
    assert desk.notifications(head.id) == []


def _everything(app):
    from ticketing.audits.models import Audit
    from ticketing.tickets.models import Ticket, TicketEvent
    with app.app_context():
        out = (sorted((a.id, a.status, a.decision, a.version) for a in
                      db.session.scalars(select(Audit)).unique()),
               sorted((t.id, t.state, t.version) for t in db.session.scalars(select(Ticket))
                      .unique()),
               db.session.scalar(select(func.count(TicketEvent.id))))
        db.session.remove()
    return out


def test_bad_decisions_are_refused_and_change_nothing(desk, sh, client, supervisor, app):
    _user, headers = supervisor
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    [audit] = desk.audits(ticket)
    before = _everything(app)
    for body, status, code in (
            ({"decision": "reject", "reason": "  "}, 400, "invalid_input"),
            ({"decision": "maybe"}, 400, "invalid_input"),
            ({"decision": "pass", "version": audit.version + 3}, 409, "stale_version"),
            ({"decision": "reject", "reason": "x" * 4001}, 400, "invalid_input")):
        response = decide(client, headers, audit.id, **body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"] == code and response.get_json()["message"]
        assert _everything(app) == before
    assert decide(client, headers, audit.id, decision="pass").status_code == 200
    after = _everything(app)
    again = decide(client, headers, audit.id, decision="reject", reason="改主意")
    assert again.status_code == 409 and again.get_json()["error"] == "audit_done"
    assert _everything(app) == after
    assert decide(client, headers, 999999, decision="pass").status_code == 404


def test_the_rules_are_data_with_a_version_and_refuse_bad_values(client, as_role, desk, sh):
    _admin, headers = as_role("admin", "management")
    rules = client.get("/api/v1/audit-rules", headers=headers).get_json()
    assert rules["complaints"] and rules["sample_percent"] == 10
    stale = client.put("/api/v1/audit-rules", headers=headers,
                       json={**rules, "version": rules["version"] + 1})
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    bad = client.put("/api/v1/audit-rules", headers=headers, json={**rules,
                                                                  "sample_percent": 101})
    assert bad.status_code == 400
    no_calendar = client.put("/api/v1/audit-rules", headers=headers,
                             json={**rules, "calendar_id": 99999})
    assert no_calendar.status_code == 400 and "calendar_id" in no_calendar.get_json()["fields"]
    response = client.put("/api/v1/audit-rules", headers=headers,
                          json={**rules, "complaints": False, "sample_percent": 0})
    assert response.status_code == 200 and response.get_json()["version"] == rules["version"] + 1
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    assert desk.audits(ticket) == [], "complaints are no longer audited by rule"


def test_an_audit_is_seen_by_whoever_may_see_its_ticket(desk, sh, client, as_role):
    _head, head_headers = as_role("department_head", "operations")
    _other, other_headers = as_role("department_head", "dispatch")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket, department="operations")
    [audit] = desk.audits(ticket)
    assert client.get(f"/api/v1/audits/{audit.id}", headers=head_headers).status_code == 200
    assert [a["id"] for a in client.get("/api/v1/audits", headers=head_headers)
            .get_json()["items"]] == [audit.id]
    assert client.get(f"/api/v1/audits/{audit.id}", headers=other_headers).status_code == 404
    assert client.get("/api/v1/audits", headers=other_headers).get_json()["items"] == []
    refused = decide(client, head_headers, audit.id, decision="pass")
    assert refused.status_code == 403, "seeing is not deciding"


def test_the_queue_filters_and_pages_with_a_cursor(desk, sh, client, supervisor):
    _user, headers = supervisor
    desk.at(sh(2026, 3, 2, 10, 0))
    tickets = [desk.open("complaint") for _ in range(3)]
    for i, ticket in enumerate(tickets):
        desk.at(sh(2026, 3, 2, 10, i + 1))
        desk.handle_complaint(ticket)
    first = client.get("/api/v1/audits?limit=2", headers=headers).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(f"/api/v1/audits?limit=2&cursor={first['next_cursor']}",
                      headers=headers).get_json()
    assert [a["ticket"]["id"] for a in first["items"] + rest["items"]] == tickets
    assert rest["next_cursor"] is None
    assert client.get("/api/v1/audits?status=overdue", headers=headers).get_json()["items"] == []
    desk.at(sh(2026, 3, 9, 10, 0))
    overdue = client.get("/api/v1/audits?status=overdue&kind=complaint", headers=headers)
    assert len(overdue.get_json()["items"]) == 3
    assert client.get("/api/v1/audits?kind=consult", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/audits?cursor=bad", headers=headers).status_code == 400
    assert client.get("/api/v1/audits?status=late", headers=headers).status_code == 400


def test_the_audit_and_its_closing_commit_together(desk, sh, app, monkeypatch):
    """If anything in the closing's unit of work fails, neither the closing nor its audit
    (nor its timer) is saved."""
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.fire(ticket, "suspend", reason="等待")
    import ticketing.audits.operations as ops

    written = ops.insert_with_timers

    def broken(*args, **kwargs):
        written(*args, **kwargs)  # the rows and their timers are written, then it fails
        raise RuntimeError("the timer insert failed")

    monkeypatch.setattr(ops, "insert_with_timers", broken)
    from ticketing.tickets.models import Ticket
    from ticketing.tickets.operations import fire_event
    with app.app_context():
        try:
            fire_event(None, db.session.get(Ticket, ticket), "close", {"note": "结束"})
            db.session.commit()
        except RuntimeError:
            db.session.rollback()
    assert desk.ticket(ticket).state == "suspended"
    assert desk.audits(ticket) == []


@pytest.mark.postgres
def test_concurrent_sweeps_escalate_each_overdue_audit_exactly_once(desk, sh, make_user, app):
    """Three schedulers at once (row locks, SKIP LOCKED): one notification per audit."""
    import threading

    from ticketing.timers.sweep import sweep_due_timers
    head = make_user("supervisor", "supervision")
    desk.at(sh(2026, 3, 2, 10, 0))
    tickets = [desk.open("complaint") for _ in range(24)]
    for ticket in tickets:
        desk.fire(ticket, "suspend", reason="等待")
        desk.fire(ticket, "close", note="结束")
    audits = desk.audits()
    assert len(audits) == 24
    now = max(a.due_at for a in audits) + timedelta(minutes=1)
    start, errors = threading.Barrier(3, timeout=30), []

    def run(worker):
        try:
            with app.app_context():
                start.wait()
                try:
                    sweep_due_timers(now=now, batch_size=5, worker=worker,
                                     time_budget=float("inf"))
                finally:
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(f"sweep{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    notified = sorted(n["audit_id"] for n in desk.notifications(head.id))
    assert notified == sorted(a.id for a in audits)
