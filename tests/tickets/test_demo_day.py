"""seed-demo gives every demo role a working day: assigned tickets in several states, an SLA
breach, a deadline about to pass, and a suspension waiting for approval."""
from sqlalchemy import select

from ticketing.auth.models import User
from ticketing.demo import DEMO_USERS, seed_demo
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.timers.models import SlaClock

PASSWORD = "demo-pass-2026"


def test_every_demo_role_starts_the_day_with_work(app, client):
    with app.app_context():
        seed_demo(customers=30, password=PASSWORD)
        db.session.commit()
        repair = db.session.scalar(select(User).where(User.username == "repair"))
        states = set(db.session.scalars(select(Ticket.state).where(
            Ticket.assignee_id == repair.id)))
        assert {"repair_dispatched", "repair_working", "repair_repaired"} <= states
        live = db.session.scalars(select(SlaClock).where(SlaClock.stopped_at.is_(None))).all()
        assert any(c.breached and c.escalation_level >= 1 for c in live), "a breach"
        assert any(c.warned and not c.breached for c in live), "a warning"
        assert db.session.scalar(select(Ticket.id).where(
            Ticket.state == "suspended", Ticket.suspension_approved.is_(False))), \
            "a suspension waiting for approval"

    for username, *_rest in DEMO_USERS:
        client.post("/login", data={"username": username, "password": PASSWORD})
        home = client.get("/").get_data(True)
        if username not in ("admin", "callback"):
            assert "GD" in home, f"{username}'s home page lists tickets"
        client.post("/logout")
    client.post("/login", data={"username": "head", "password": PASSWORD})
    assert "待审批的挂起" in client.get("/").get_data(True)  # demo users speak Chinese
