"""Helpers for the audit stories: tickets driven through the real operations, the frozen
clock, the sweep, and supervisors calling the API."""
import pytest
from sqlalchemy import select

from tests.drive import ClosingDrive
from ticketing import clock
from ticketing.extensions import db


class Desk(ClosingDrive):
    """Tickets, the clock and the sweep, each call one committed unit of work."""

    description = "监管测试"

    def handle_complaint(self, ticket_id: int, department: str = "operations"):
        """A complaint's whole road: inspection, analysis, the responsible department
        handles it, resolved (closed)."""
        self.fire(ticket_id, "send_to_inspection")
        self.fire(ticket_id, "analyse", note="服务态度问题")
        self.fire(ticket_id, "assign", department_id=self.department_id(department))
        self.fire(ticket_id, "handle", note="已向客户道歉", receipt_person="张三",
                  satisfaction=4)
        self.fire(ticket_id, "resolve", note="已处理完毕")

    def audits(self, ticket_id: int | None = None) -> list:
        from ticketing.audits.models import Audit
        with self.app.app_context():
            query = select(Audit).order_by(Audit.id)
            if ticket_id is not None:
                query = query.where(Audit.ticket_id == ticket_id)
            rows = db.session.scalars(query).unique().all()
            for row in rows:
                db.session.expunge(row)
            return rows

    def notifications(self, user_id: int, kind="audit_overdue") -> list:
        return super().notifications(user_id, kind)

    def set_rules(self, **changes):
        from ticketing.audits.operations import current_rules, save_rules
        with self.app.app_context():
            rules = current_rules()
            data = {name: getattr(rules, name) for name in (
                "complaints", "unsatisfied_callbacks", "sla_breaches", "sample_percent",
                "due_minutes", "calendar_id")}
            save_rules({**data, **changes}, rules.version)
            db.session.commit()


@pytest.fixture
def desk(app):
    yield Desk(app)
    clock.freeze(None)


@pytest.fixture
def supervisor(as_role):
    return as_role("supervisor", "supervision")

