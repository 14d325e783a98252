"""Dispatch gives a work order only to a member of the chosen team, tells them in-app, and
unassigned tickets can be taken (claimed) by their department."""
from sqlalchemy import select

from ticketing.extensions import db
from ticketing.timers.models import Notification


def _ordered_repair(api):
    customer = api.customer(phones=["13800000009"])
    ticket = api.open(kind="repair", customer_id=customer["id"])
    for event, fields in (("verify_customer", {}), ("classify_fault", {"fault_type": "no_signal"}),
                          ("issue_work_order", {"department_id": api.department_id("repair")})):
        assert api.fire("dispatcher", ticket["id"], event, **fields).status_code == 200
    return ticket


def test_dispatch_to_someone_outside_the_team_is_refused_and_changes_nothing(api, people):
    ticket = _ordered_repair(api)
    before = api.stored(ticket["id"])
    refused = api.fire("dispatcher", ticket["id"], "dispatch",
                       department_id=api.department_id("repair_team_1"),
                       assignee_id=people["callback"].id)
    assert refused.status_code == 400
    assert "assignee_id" in refused.get_json()["fields"]
    assert api.stored(ticket["id"]) == before


def test_the_new_assignee_is_notified_in_app(app, api, people):
    ticket = _ordered_repair(api)
    team1 = people["team1"]
    done = api.fire("dispatcher", ticket["id"], "dispatch",
                    department_id=api.department_id("repair_team_1"), assignee_id=team1.id)
    assert done.status_code == 200
    with app.app_context():
        notes = db.session.scalars(select(Notification).where(
            Notification.user_id == team1.id)).all()
        assert [(n.kind, n.data["ticket_number"]) for n in notes] == [
            ("assigned", ticket["number"])]
    inbox = api.get(team1.headers, "/notifications").get_json()
    assert "was assigned to you" in inbox[0]["message"]


def test_take_assigns_an_unassigned_ticket_to_whoever_takes_it_once(api, people):
    ticket = api.open("agent")
    ops = people["ops"]
    assert "take" in api.ticket("ops", ticket["id"])["allowed_events"]
    taken = api.fire("ops", ticket["id"], "take")
    assert taken.status_code == 200
    assert api.stored(ticket["id"])["assignee_id"] == ops.id
    after = api.ticket("ops_head", ticket["id"])
    assert "take" not in after["allowed_events"]
    assert {"event": "take", "guards": ["unassigned"],
            "reasons": ["Someone already holds this ticket."]} in after["unavailable_events"]
    again = api.fire("ops_head", ticket["id"], "take")
    assert again.status_code == 409 and again.get_json()["error"] == "guard_refused"
