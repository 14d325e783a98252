"""Callback surveys end to end (SPEC §5, issue 16): closing makes the task in the same
transaction, due on the business calendar; attempts, retries, unreachable; unsatisfied
reopens with the survey in the history and the next closing is called back again; overdue
callbacks escalate to whoever holds callbacks.escalations through the real sweep."""
from datetime import timedelta

from sqlalchemy import func, select

from ticketing.extensions import db
from workflows.tickets import REOPEN_STATE

SATISFIED = {"reached": True, "overall": 5, "attitude": 4, "standard": 5, "effect": 4,
             "comment": "师傅很专业"}


def test_closing_a_repair_makes_one_callback_due_a_business_day_later(line, sh, app):
    line.at(sh(2026, 3, 6, 16, 0))  # a Friday afternoon
    ticket = line.open("repair")
    line.close(ticket)
    [callback] = line.callbacks(ticket)
    assert callback.status == "pending" and callback.round == 0 and callback.kind == "repair"
    # 480 business minutes on office hours (09:00-18:00 Mon-Fri, lunch as configured):
    # not a wall-clock 8 hours: Friday 16:00 + 8 business hours lands on Monday or Tuesday.
    assert callback.due_at > sh(2026, 3, 9, 9, 0)
    assert callback.created_at == sh(2026, 3, 6, 16, 0)
    from ticketing.timers.models import Timer
    with app.app_context():
        timers = db.session.scalars(select(Timer).where(Timer.kind == "callback_overdue")).all()
        assert [(t.ticket_id, t.due_at, t.status) for t in timers] == [
            (ticket, callback.due_at, "pending")]


def test_a_consult_is_not_called_back_by_default_and_an_admin_can_change_that(
        line, sh, client, as_role):
    line.at(sh(2026, 3, 2, 10, 0))
    consult = line.open("consult")
    line.close(consult)
    assert line.callbacks(consult) == []
    _admin, headers = as_role("admin", "management")
    settings = client.get("/api/v1/callback-settings", headers=headers).get_json()
    assert settings["kinds"] == ["repair", "complaint"]
    settings["kinds"].append("consult")
    settings["due_minutes"]["consult"] = 60
    response = client.put("/api/v1/callback-settings", headers=headers, json=settings)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == settings["version"] + 1
    consult = line.open("consult")
    line.close(consult)
    [callback] = line.callbacks(consult)
    assert callback.due_at == sh(2026, 3, 2, 11, 0)


def test_not_reached_retries_after_the_delay_then_is_unreachable(line, sh, client, agent,
                                                                    call):
    user, headers = agent
    line.at(sh(2026, 3, 2, 10, 0))
    ticket = line.open("repair")
    line.close(ticket)
    [callback] = line.callbacks(ticket)
    response = call(headers, callback.id, reached=False, note="无人接听")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["callback"]
    # The default retry delay is 120 business minutes: 12:00 is still inside office hours.
    assert body["status"] == "pending" and body["attempts"] == 1
    assert body["not_before"].startswith("2026-03-02T04:00")  # 12:00 Shanghai
    # Too early for the retry: refused, nothing changed.
    early = call(headers, callback.id, reached=False, note="再打")
    assert early.status_code == 409 and early.get_json()["error"] == "not_yet_due"
    assert line.callbacks(ticket)[0].attempts == 1
    listed = client.get("/api/v1/callbacks?status=waiting", headers=headers).get_json()
    assert [c["id"] for c in listed["items"]] == [callback.id]
    line.at(sh(2026, 3, 2, 12, 0))
    assert call(headers, callback.id, reached=False, note="关机").status_code == 201
    line.at(sh(2026, 3, 2, 15, 0))
    last = call(headers, callback.id, reached=False, note="仍然关机")
    assert last.status_code == 201
    assert last.get_json()["callback"]["status"] == "unreachable"
    assert [a["note"] for a in last.get_json()["callback"]["attempt_list"]] == [
        "无人接听", "关机", "仍然关机"]
    again = call(headers, callback.id, reached=False, note="第四次")
    assert again.status_code == 409 and again.get_json()["error"] == "no_open_callback"
    unreachable = client.get("/api/v1/callbacks?status=unreachable", headers=headers)
    assert [c["id"] for c in unreachable.get_json()["items"]] == [callback.id]
    # Nothing left for the sweep to escalate: the overdue timers find the task finished.
    line.at(sh(2026, 3, 10, 10, 0))
    line.sweep()
    assert line.callbacks(ticket)[0].escalations == 0


def test_unsatisfied_reopens_with_the_survey_and_the_next_closing_is_called_back(
        line, sh, client, agent, call):
    user, headers = agent
    line.at(sh(2026, 3, 2, 10, 0))
    ticket = line.open("repair")
    line.close(ticket)
    [first] = line.callbacks(ticket)
    line.at(sh(2026, 3, 2, 14, 0))
    response = call(headers, first.id, reached=True, overall=4, attitude=2, standard=4,
                    effect=4, comment="态度不好")
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert result["callback"]["result"] == "unsatisfied"
    assert result["attempt"]["satisfied"] is False and result["attempt"]["reopen_event_id"]
    reopened = line.ticket(ticket)
    assert reopened.state == REOPEN_STATE["repair"] and reopened.reopen_count == 1
    [(note, data, actor_id)] = line.history(ticket, "reopen")
    assert actor_id == user.id and note == "态度不好"  # the customer's words
    assert data["callback_id"] == first.id
    assert data["callback_survey"] == {"overall": 4, "attitude": 2, "standard": 4, "effect": 4}
    # The system's part is rendered in the reader's language, not stored as text.
    history = client.get(f"/api/v1/tickets/{ticket}/history", headers=headers).get_json()
    [row] = [r for r in history if r["event"] == "reopen"]
    assert row["message"] == ("Callback survey unsatisfied (overall 4, attitude 2, "
                              "standard 4, effect 4): 态度不好")
    assert line.messages(ticket, "reopen", "zh") == [
        "回访不满意（总体 4，服务态度 2，服务规范 4，服务效果 4）：态度不好"]
    # Handled again and closed again: a new callback (round 1) is due.
    line.at(sh(2026, 3, 3, 10, 0))
    line.close(ticket)
    callbacks = line.callbacks(ticket)
    assert [(c.round, c.status) for c in callbacks] == [(0, "done"), (1, "pending")]
    response = call(headers, callbacks[1].id, **SATISFIED)
    assert response.get_json()["callback"]["result"] == "satisfied"
    assert line.ticket(ticket).state == "closed"
    done = client.get(f"/api/v1/callbacks?status=done&ticket_id={ticket}", headers=headers)
    assert [c["round"] for c in done.get_json()["items"]] == [0, 1]


def test_overdue_callbacks_escalate_once_to_the_holders_of_the_permission(
        line, sh, make_user, app):
    lead = make_user("supervisor", "call_center")
    bystander = make_user("agent", "call_center")
    line.at(sh(2026, 3, 2, 10, 0))
    ticket = line.open("complaint")
    line.close(ticket)
    [callback] = line.callbacks(ticket)
    line.at(callback.due_at - timedelta(minutes=1))
    line.sweep()
    assert line.notifications(lead.id) == []
    line.at(callback.due_at + timedelta(minutes=1))
    assert line.sweep() >= 1
    assert [n["callback_id"] for n in line.notifications(lead.id)] == [callback.id]
    assert line.notifications(bystander.id) == []
    line.sweep()
    assert len(line.notifications(lead.id)) == 1
    assert line.callbacks(ticket)[0].escalations == 1
    # The handler is idempotent when run again on the same timer (as after a crash).
    from ticketing.callbacks.operations import fire_overdue_callbacks
    from ticketing.timers.models import Timer
    with app.app_context():
        timer = db.session.scalars(select(Timer).where(Timer.kind == "callback_overdue")).one()
        fire_overdue_callbacks([timer], callback.due_at + timedelta(hours=1))
        db.session.commit()
    assert len(line.notifications(lead.id)) == 1


def test_bad_attempts_are_refused_and_change_nothing(line, sh, client, agent, call,
                                                     as_role, app):
    _user, headers = agent
    line.at(sh(2026, 3, 2, 10, 0))
    ticket = line.open("repair")
    line.close(ticket)
    [callback] = line.callbacks(ticket)

    def state():
        from ticketing.callbacks.models import CallbackAttempt
        with app.app_context():
            count = db.session.scalar(select(func.count(CallbackAttempt.id)))
        row = line.callbacks(ticket)[0]
        return count, row.status, row.version, line.ticket(ticket).state

    before = state()
    out_of_range = call(headers, callback.id, reached=True, overall=6, attitude=0,
                        standard=3, effect=3)
    assert out_of_range.status_code == 400
    assert set(out_of_range.get_json()["fields"]) == {"overall", "attitude"}
    missing = call(headers, callback.id, reached=True, overall=3)
    assert missing.status_code == 400
    assert set(missing.get_json()["fields"]) == {"attitude", "standard", "effect"}
    stale = call(headers, callback.id, version=callback.version + 5, **SATISFIED)
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    not_found = call(headers, 999999, version=1, **SATISFIED)
    assert not_found.status_code == 404
    _other, other_headers = as_role("callback_agent", "call_center")
    assert call(headers, callback.id, reached=False).status_code == 201  # now it is theirs
    assert state() != before
    before = state()
    line.at(sh(2026, 3, 3, 10, 0))
    taken = call(other_headers, callback.id, **SATISFIED)
    assert taken.status_code == 409 and taken.get_json()["error"] == "taken"
    assert state() == before
    assert call(headers, callback.id, **SATISFIED).status_code == 201
    before = state()
    closed = call(headers, callback.id, **SATISFIED)
    assert closed.status_code == 409 and closed.get_json()["error"] == "no_open_callback"
    assert state() == before


def test_settings_refuse_bad_values_and_stale_versions(client, as_role, app):
    _admin, headers = as_role("admin", "management")
    settings = client.get("/api/v1/callback-settings", headers=headers).get_json()
    bad = dict(settings, threshold=9, kinds=["repair", "nonsense"])
    response = client.put("/api/v1/callback-settings", headers=headers, json=bad)
    assert response.status_code == 400
    assert {"threshold", "kinds"} <= set(response.get_json()["fields"])
    no_due = dict(settings, kinds=["consult"], due_minutes={})
    response = client.put("/api/v1/callback-settings", headers=headers, json=no_due)
    assert response.status_code == 400 and "due_minutes" in response.get_json()["fields"]
    assert client.put("/api/v1/callback-settings", headers=headers,
                      json=dict(settings, retry_minutes=30)).status_code == 200
    stale = client.put("/api/v1/callback-settings", headers=headers,
                       json=dict(settings, retry_minutes=45))
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    assert client.get("/api/v1/callback-settings",
                      headers=headers).get_json()["retry_minutes"] == 30


def test_the_list_filters_and_pages_with_a_cursor(line, sh, client, agent):
    _user, headers = agent
    line.at(sh(2026, 3, 2, 10, 0))
    tickets = []
    for i in range(5):
        line.at(sh(2026, 3, 2, 10, i))
        tickets.append(line.open("repair" if i % 2 else "complaint"))
        line.close(tickets[-1])
    seen, cursor = [], None
    while True:
        url = "/api/v1/callbacks?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers).get_json()
        seen += [c["ticket"]["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == tickets
    kinds = client.get("/api/v1/callbacks?kind=repair", headers=headers).get_json()
    assert [c["ticket"]["id"] for c in kinds["items"]] == tickets[1::2]
    ranged = client.get("/api/v1/callbacks", headers=headers, query_string={
        "date_from": sh(2026, 3, 2, 10, 2).isoformat(),
        "date_to": sh(2026, 3, 2, 10, 4).isoformat()}).get_json()
    assert [c["ticket"]["id"] for c in ranged["items"]] == tickets[2:4]
    line.at(sh(2026, 3, 20, 10, 0))
    overdue = client.get("/api/v1/callbacks?status=overdue", headers=headers).get_json()
    assert len(overdue["items"]) == 5 and all(c["overdue"] for c in overdue["items"])
    assert client.get("/api/v1/callbacks?status=due", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/callbacks?status=bogus", headers=headers).status_code == 400
    assert client.get("/api/v1/callbacks?cursor=%%%", headers=headers).status_code == 400


def test_the_closing_and_its_callback_commit_together(line, sh, app, monkeypatch):
    """If the callback cannot be written, the closing is rolled back with it."""
    line.at(sh(2026, 3, 2, 10, 0))
    ticket = line.open("repair")
    line.fire(ticket, "suspend", reason="客户要求")
    import ticketing.callbacks.operations as ops

    written = ops.insert_with_timers

    def broken(*args, **kwargs):
        written(*args, **kwargs)  # the rows and their timers are written, then it fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(ops, "insert_with_timers", broken)
    import pytest
    with pytest.raises(RuntimeError):
        line.fire(ticket, "close", note="已处理")
    with app.app_context():
        db.session.rollback()
    assert line.ticket(ticket).state == "suspended"
    assert line.callbacks(ticket) == []
