"""One rule decides who sees a ticket: the SQL expression that filters every list and the
predicate that guards every page and endpoint agree, ticket by ticket and user by user; and
whoever acted on a ticket keeps read access to it after handing it off."""
from sqlalchemy import select

from ticketing.auth.models import User
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import can_view_ticket, visibility_clause


def _world(api):
    """Tickets in several departments, assigned, handed off and untouched."""
    consult = api.open("agent")                                  # operations
    handed = api.open("agent")
    ops_dept = api.department_id("operations")
    inspection = api.department_id("inspection")
    assert api.fire("ops", handed["id"], "transfer", department_id=inspection).status_code == 200
    repair = api.open("agent", kind="repair")                    # dispatch
    complaint = api.open("agent2", kind="complaint")             # inspection
    assert api.fire("agent2", complaint["id"], "send_to_inspection").status_code == 200
    assert api.fire("inspector", complaint["id"], "analyse", note="n").status_code == 200
    assert api.fire("inspector", complaint["id"], "assign",
                    department_id=ops_dept).status_code == 200
    return [consult, handed, repair, complaint]


def test_the_visibility_sql_and_the_predicate_agree_for_every_user_and_ticket(app, api, people):
    _world(api)
    for key in ("agent", "agent2", "dispatcher", "ops", "ops_head", "inspector", "team1",
                "callback", "supervisor", "admin"):
        people[key]
    with app.app_context():
        tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert len(tickets) == 4
        for user in db.session.scalars(select(User).order_by(User.id)):
            by_sql = set(db.session.scalars(
                select(Ticket.id).where(visibility_clause(user))))
            by_predicate = {t.id for t in tickets if can_view_ticket(user, t)}
            assert by_sql == by_predicate, user.username


def test_whoever_handed_a_ticket_off_still_sees_it_and_finds_it_under_handled(api):
    ticket = api.open("agent")
    inspection = api.department_id("inspection")
    assert api.fire("ops", ticket["id"], "transfer",
                    department_id=inspection).status_code == 200

    assert api.get("ops", f"/tickets/{ticket['id']}").status_code == 200
    handled = api.get("ops", "/tickets?queue=handled").get_json()["items"]
    assert [row["id"] for row in handled] == [ticket["id"]]
    # Seeing is not acting: the ticket is no longer operations' to work on.
    refused = api.fire("ops", ticket["id"], "reply", note="too late")
    assert refused.status_code == 403
    # Someone who never touched it still gets a 404.
    assert api.get("team1", f"/tickets/{ticket['id']}").status_code == 404
