"""The last active administrator cannot be removed, deactivated or demoted (nobody could
repair the accounts after that), and every change to users, roles, permissions, tokens and
sessions is in an append-only audit log with its actor, on a page and the API."""
import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from ticketing.auth.models import AuditEntry, Role, User
from ticketing.extensions import db

PASSWORD = "correct-horse-9"


def _client(app, user):
    client = app.test_client()
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 302
    return client


def _form(user, **changes):
    data = {"full_name": user.full_name, "department": "management", "roles": ["admin"],
            "locale": "en", "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("change", ["deactivate", "demote"])
def test_the_last_admin_cannot_be_deactivated_or_demoted(app, make_user, change):
    admin = make_user("admin", "management")
    client = _client(app, admin)
    data = _form(admin, active=None) if change == "deactivate" else _form(admin,
                                                                          roles=["agent"])
    response = client.post(f"/admin/users/{admin.id}", data=data)
    assert response.status_code == 400
    assert "no active administrator" in response.get_data(True)
    with app.app_context():
        user = db.session.get(User, admin.id)
        assert user.active and [r.name for r in user.roles] == ["admin"]
        assert db.session.scalar(select(AuditEntry.id).where(
            AuditEntry.action != "user.created")) is None, "nothing recorded"
    # With a second admin, the first may step down.
    make_user("admin", "management")
    assert client.post(f"/admin/users/{admin.id}", data=data).status_code == 302


def test_the_admin_role_cannot_lose_the_permissions_that_make_admins(app, make_user):
    admin = make_user("admin", "management")
    client = _client(app, admin)
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "admin"))
        role_id, kept = role.id, sorted(role.permissions - {"users.manage"})
    response = client.post(f"/admin/roles/{role_id}", data={"permissions": kept})
    assert response.status_code == 400 and "no active administrator" in response.get_data(True)
    with app.app_context():
        assert "users.manage" in db.session.get(Role, role_id).permissions


def test_changes_to_users_and_roles_are_audited_with_their_actor(app, make_user):
    admin = make_user("admin", "management", username="boss")
    client = _client(app, admin)
    assert client.post("/admin/users/new", data={
        "username": "newbie", "password": PASSWORD, "roles": ["agent"],
        "department": "call_center", "locale": "zh", "active": "y"}).status_code == 302
    with app.app_context():
        newbie = db.session.scalar(select(User).where(User.username == "newbie"))
        staff = db.session.scalar(select(Role).where(Role.name == "staff"))
        newbie_id, staff_id, staff_perms = newbie.id, staff.id, sorted(staff.permissions)
    client.post(f"/admin/users/{newbie_id}", data={
        "full_name": "新人", "department": "operations", "roles": ["staff"], "locale": "zh",
        "active": "y", "password": "another-pass-2"})
    client.post(f"/admin/roles/{staff_id}", data={"permissions": staff_perms + ["sla.manage"]})
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id.is_not(None))
                                  .order_by(AuditEntry.id)).all()
        summary = [(r.action, r.target_name, r.actor.username) for r in rows]
        assert summary == [("user.created", "newbie", "boss"),
                           ("user.updated", "newbie", "boss"),
                           ("sessions.ended", "newbie", "boss"),
                           ("role.permissions_changed", "staff", "boss")]
        assert rows[1].details["roles"] == [["agent"], ["staff"]]
        assert rows[1].details["department"] == ["call_center", "operations"]
        assert rows[1].details["password"] == "changed"
        assert PASSWORD not in rows[1].details_json and "another-pass" not in rows[1].details_json
        assert rows[3].details == {"added": ["sla.manage"], "removed": []}
    page = client.get("/admin/audit").get_data(True)
    assert "newbie" in page and "sla.manage" in page and "boss" in page
    token = client.post("/api/v1/tokens", json={"username": "boss", "password": PASSWORD})
    api = client.get("/api/v1/audit?limit=2", headers={
        "Authorization": f"Bearer {token.get_json()['token']}"}).get_json()
    assert [e["action"] for e in api] == ["role.permissions_changed", "sessions.ended"]
    assert api[0]["actor"]["username"] == "boss"


def test_the_command_line_is_recorded_as_the_actor(app, runner):
    result = runner.invoke(args=["create-user", "cliuser", "--role", "agent",
                                 "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.action == "user.created" and entry.actor_id is None


def test_the_audit_log_is_append_only_in_the_database(app, make_user):
    make_user("admin", "management")
    with app.app_context():
        from ticketing.auth.operations import record_audit
        record_audit(None, "user.updated", db.session.scalars(select(User)).first(),
                     {"x": 1})
        db.session.commit()
        for statement in ("UPDATE audit_log SET action = 'user.created'",
                          "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError):
                db.session.execute(text(statement))
            db.session.rollback()
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert json.loads(last.details_json) == {"x": 1}
