"""A ticket's answer (GET, creation, transition) is dumped without marshmallow's per-field
machinery: it must be exactly what TicketDetailSchema, which documents it, gives."""
import json

from flask_login import login_user

from ticketing.auth.models import User
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.schemas import TicketDetailSchema


def _schema_dump(app, user_id, ticket_id, language):
    with app.test_request_context(headers={"Accept-Language": language}):
        login_user(db.session.get(User, user_id))
        dumped = TicketDetailSchema().dump(db.session.get(Ticket, ticket_id))
        return json.loads(json.dumps(dumped))


def test_every_ticket_answer_is_what_the_detail_schema_dumps(api, people, app, client):
    customer = api.customer(tier="vip", phones=("13800000066",))
    held = api.open(customer_id=customer["id"], title="账单", priority="urgent")
    assert api.fire("ops", held["id"], "take").status_code == 200
    closed = api.open(kind="consult", caller_name="王五")
    assert api.fire("ops", closed["id"], "terminate", note="answered").status_code == 200
    repair = api.open(kind="repair")
    tickets = [held["id"], closed["id"], repair["id"]]
    checked_unavailable = False
    for who in ("admin", "agent", "ops", "ops_head", "dispatcher"):
        person = people[who]
        for language in ("en", "zh"):
            for ticket_id in tickets:
                answer = client.get(f"/api/v1/tickets/{ticket_id}", headers={
                    **person.headers, "Accept-Language": language})
                if answer.status_code == 404:  # not theirs to see
                    continue
                assert answer.status_code == 200
                expected = _schema_dump(app, person.id, ticket_id, language)
                assert answer.get_json() == expected, (who, language, ticket_id)
                checked_unavailable |= bool(expected["unavailable_events"])
    # the answers compared include events ruled out, with their reasons in both languages
    assert checked_unavailable


def test_creation_and_transition_answers_are_what_the_detail_schema_dumps(api, people, app):
    customer = api.customer(phones=("13800000055",), account_no="ACC-DUMP")
    created = api.open(kind="repair", customer_id=customer["id"], caller_name="李四")
    assert created == _schema_dump(app, people["agent"].id, created["id"], "en")
    fired = api.fire("dispatcher", created["id"], "verify_customer")
    assert fired.status_code == 200, fired.get_json()
    assert fired.get_json()["ticket"] == _schema_dump(app, people["dispatcher"].id,
                                                      created["id"], "en")
