"""Department ids by code are kept per process (every new ticket and transfer asks), yet a
department made by another process is known to the very next ticket change."""
from sqlalchemy import select

from ticketing import create_app
from ticketing.auth.models import Department
from ticketing.auth.departments import department_id_of
from ticketing.auth.operations import save_department
from ticketing.extensions import db


def test_a_department_made_by_another_process_is_known_at_once(app):
    with app.app_context():
        dispatch = department_id_of("dispatch")
        assert dispatch == db.session.scalar(select(Department.id).where(
            Department.code == "dispatch"))
        assert department_id_of("north_field") is None
        db.session.commit()
    other = create_app(dict(app.config))  # another worker: its own copy
    with other.app_context():
        made = save_department(None, code="north_field", name="北区抢修", name_en="",
                               kind="repair_team", active=True).id
        db.session.commit()
        db.engine.dispose()
    with app.app_context():
        assert department_id_of("north_field") == made


def test_a_rolled_back_department_is_known_to_no_one(app):
    with app.app_context():
        save_department(None, code="gone_team", name="撤销", name_en="", kind="other",
                        active=True)
        db.session.flush()
        assert department_id_of("gone_team") is not None  # this transaction sees its own
        db.session.rollback()
        assert department_id_of("gone_team") is None

