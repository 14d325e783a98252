"""The demo world has work for the supervisor: complaints under audit, one liability ruling
appealed and waiting for a second reviewer; seeding again adds nothing."""
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ticketing.extensions import db


def test_seed_demo_puts_complaints_in_the_audit_queue_once(app, runner, monkeypatch):
    monkeypatch.setattr("ticketing.auth.models.generate_password_hash",
                        lambda password, method=None: generate_password_hash(
                            password, method="pbkdf2:sha256:1"))
    from ticketing.audits.models import Audit, ComplaintLiability
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "complaints under audit: 2" in result.output
    with app.app_context():
        complaints = db.session.scalars(select(Audit).where(Audit.status == "open")).unique()
        assert sum("complaint" in a.reason_list for a in complaints) >= 2
        [liability] = db.session.scalars(select(ComplaintLiability)).unique().all()
        assert liability.status == "appealed" and liability.reviewer.username == "supervisor"
        counts = db.session.scalar(select(func.count(Audit.id)))
        db.session.remove()
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "complaints under audit" not in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Audit.id))) == counts
