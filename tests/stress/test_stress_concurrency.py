"""Concurrent clients firing transitions at the same tickets on PostgreSQL lose nothing: zero
5xx, every accepted transition has exactly one history row, every refused one is a 409, and
each ticket's final state is the last history row's.

Most requests fire the event the state just read allows (suspend or resume), so each refusal
of those is a stale version. Mixed in (a quarter of the requests) are events the state does not
allow: the opposite of the allowed one, or an event of another kind or state. Each of those
ends in a 409 `event_not_allowed` naming the state (if the ticket changed since it was read,
the answer is first a 409 `stale_version` with the current state and version, and the client
asks again with an event that state does not allow either), and none of them changes
anything: no history row, no version, no state.

Two drivers share the checks:
- threads with the Flask test client in this process (normal suite, PostgreSQL only, ~10 s);
- 32 client threads against two gunicorn workers on 127.0.0.1 (marked slow; > 30 s, so it runs
  only with RUN_SLOW=1):

    createdb -h 127.0.0.1 -U postgres test_stress
    RUN_SLOW=1 TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_stress \\
        python -m pytest tests/stress/test_stress_concurrency.py -n 0
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from ticketing.extensions import db
from workflows.machine import ticket_workflow
from workflows.tickets import EVENTS as ALL_EVENTS

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ("suspend", "resume")
WRONG_SHARE = 0.25  # of requests: an event the state read does not allow
WRONG_RETRIES = 50  # a wrong event answered stale_version is asked again, at most this often
pytestmark = pytest.mark.postgres


@pytest.fixture
def scene(app):
    """An admin with a token and `n` open consult tickets; returns (headers, ticket ids)."""
    from ticketing.auth.operations import create_user, issue_token
    from ticketing.tickets.models import Ticket
    from ticketing.tickets.operations import open_ticket

    def make(n):
        with app.app_context():
            user = create_user("stress_admin", "correct-horse-9", ["admin"], "management")
            db.session.flush()
            token, _row = issue_token(user, "stress", 1)
            for i in range(n):
                open_ticket(None, kind="consult", caller_phone="13800138000",
                            description=f"并发 {i}")
            db.session.commit()
            ids = list(db.session.scalars(select(Ticket.id).order_by(Ticket.id)))
            db.session.remove()
        return {"Authorization": f"Bearer {token}"}, ids

    return make


def _wrong_event(rnd, state: str) -> str:
    """An event not allowed in `state`: half the time the opposite of the allowed one."""
    opposite = "suspend" if state == "suspended" else "resume"
    allowed = set(ticket_workflow.allowed_events(state))
    if rnd.random() < 0.5 and opposite not in allowed:
        return opposite
    return rnd.choice(sorted(set(ALL_EVENTS) - allowed))


def _fire_wrong(call, rnd, ticket_id, state, version) -> list:
    """Fire events not allowed in the state read until one is answered otherwise than by a
    stale version. Returns every answer [(event, status, body)]."""
    answers = []
    for _attempt in range(WRONG_RETRIES):
        event = _wrong_event(rnd, state)
        status, body = call("POST", f"/api/v1/tickets/{ticket_id}/transitions",
                            {"event": event, "version": version, "fields": {}})
        answers.append((event, status, body))
        if status != 409 or not isinstance(body, dict) or body.get("error") != "stale_version":
            break
        state, version = body["state"], body["current_version"]  # what it is now
    return answers


def _hammer(call, tickets, threads, seconds, max_requests):
    """Each thread: read a random ticket, fire the event its state allows with the version it
    read, or (WRONG_SHARE of the time) events it does not allow (_fire_wrong).
    Returns (accepted [(ticket, event, history id)], statuses of the allowed events
    Counter[(status, error)], wrong [answers of _fire_wrong], errors [...])."""
    accepted, statuses, wrong, errors = [], Counter(), [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    budget = iter(range(max_requests))
    start = threading.Barrier(threads, timeout=30)

    def worker(seed):
        rnd = random.Random(seed)
        start.wait()
        while time.monotonic() < deadline:
            with lock:
                if next(budget, None) is None:
                    return
            ticket_id = rnd.choice(tickets)
            status, body = call("GET", f"/api/v1/tickets/{ticket_id}", None)
            if status != 200:
                with lock:
                    errors.append(("GET", ticket_id, status, body))
                continue
            if rnd.random() < WRONG_SHARE:
                answers = _fire_wrong(call, rnd, ticket_id, body["state"], body["version"])
                with lock:
                    wrong.append((ticket_id, answers))
                continue
            event = "resume" if body["state"] == "suspended" else "suspend"
            status, result = call("POST", f"/api/v1/tickets/{ticket_id}/transitions", {
                "event": event, "version": body["version"],
                "fields": {"reason": "并发"} if event == "suspend" else {}})
            with lock:
                statuses[status, result.get("error") if isinstance(result, dict) else None] += 1
                if status == 200:
                    accepted.append((ticket_id, event, result["history"]["id"]))
                elif status != 409:
                    errors.append(("POST", ticket_id, status, result))

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(seconds + 60)
    assert not any(t.is_alive() for t in pool), "a client thread hung"
    return accepted, statuses, wrong, errors


def _versions(app, tickets) -> dict:
    from ticketing.tickets.models import Ticket
    with app.app_context():
        versions = dict(db.session.execute(select(Ticket.id, Ticket.version)
                                           .where(Ticket.id.in_(tickets))).all())
        db.session.remove()
    return versions


def _check_wrong(wrong):
    """Every answer to a not-allowed event is a 409; the last one event_not_allowed."""
    assert wrong, "no not-allowed event was sent"
    bad = []
    for ticket_id, answers in wrong:
        for event, status, body in answers:
            code = body.get("error") if isinstance(body, dict) else None
            if status != 409 or code not in ("event_not_allowed", "stale_version"):
                bad.append((ticket_id, event, status, body))
        event, status, body = answers[-1]
        if status != 409 or body.get("error") != "event_not_allowed":
            bad.append((ticket_id, event, status, body, "after", len(answers), "tries"))
        elif body["event"] != event or body["state"] not in ("consult_new", "suspended") \
                or event in body["allowed_events"]:
            bad.append((ticket_id, event, body))
    assert bad == [], bad[:5]


def _check(app, tickets, before, accepted, statuses, wrong, errors):
    from ticketing.tickets.models import Ticket, TicketEvent
    assert errors == [], errors[:5]
    # The event the state read allows is refused only because the ticket changed meanwhile.
    assert set(statuses) <= {(200, None), (409, "stale_version")}, statuses
    assert statuses[200, None] > 0, "no transition got through"
    _check_wrong(wrong)
    with app.app_context():
        rows = db.session.execute(select(TicketEvent.id, TicketEvent.ticket_id,
                                         TicketEvent.event, TicketEvent.to_state)
                                  .where(TicketEvent.ticket_id.in_(tickets))
                                  .order_by(TicketEvent.id)).all()
        states = dict(db.session.execute(select(Ticket.id, Ticket.state)
                                         .where(Ticket.id.in_(tickets))).all())
        db.session.remove()
    # Refused events left no row: every row after "open" is an accepted transition.
    fired = [(r.ticket_id, r.event, r.id) for r in rows if r.event != "open"]
    assert sorted(fired) == sorted(accepted), "accepted transitions and history rows differ"
    # ...and no version: each accepted transition bumped it once, nothing else did.
    per_ticket_accepted = Counter(ticket_id for ticket_id, _e, _h in accepted)
    assert _versions(app, tickets) == {t: before[t] + per_ticket_accepted[t] for t in tickets}
    assert len({h for _t, _e, h in accepted}) == len(accepted), "a history row reported twice"
    last = {}
    for row in rows:
        last[row.ticket_id] = row.to_state
    assert {t: states[t] for t in tickets} == {t: last[t] for t in tickets}
    # The alternation held: suspends and resumes of a ticket differ by at most one.
    per_ticket = defaultdict(Counter)
    for ticket_id, event, _h in accepted:
        per_ticket[ticket_id][event] += 1
    for counts in per_ticket.values():
        assert counts["suspend"] - counts["resume"] in (0, 1), counts


def test_threads_with_the_test_client_lose_nothing(app, scene):
    headers, tickets = scene(40)
    local = threading.local()

    def call(method, path, body):
        if not hasattr(local, "client"):
            local.client = app.test_client()
        response = local.client.open(path, method=method, json=body, headers=headers)
        return response.status_code, response.get_json()

    before = _versions(app, tickets)
    result = _hammer(call, tickets, threads=8, seconds=5, max_requests=600)
    _check(app, tickets, before, *result)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(database_url):
    """Two gunicorn workers on 127.0.0.1 against the test database; stopped by PID."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "stress-secret",
           "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "8", "-b",
         f"127.0.0.1:{port}", "--timeout", "60", "ticketing.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(process.stderr.read().decode()[-3000:])
                time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not start")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)  # only the PID this fixture started
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stderr.close()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="takes > 30 s: set RUN_SLOW=1")
def test_32_clients_against_two_gunicorn_workers_lose_nothing(app, scene, gunicorn):
    headers, tickets = scene(200)

    def call(method, path, body):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(gunicorn + path, data=data, method=method,
                                         headers={**headers, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                return error.code, json.loads(text)
            except ValueError:
                return error.code, text[:500]

    before = _versions(app, tickets)
    result = _hammer(call, tickets, threads=32, seconds=30, max_requests=20000)
    _check(app, tickets, before, *result)
