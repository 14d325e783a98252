"""open_ticket writes the ticket's row without the ORM's flush: the object it returns must be
that row, column for column, and its number must be GD + the day + the id."""
from datetime import datetime, timezone

from sqlalchemy import inspect, select, text

from ticketing import clock, create_app
from ticketing.auth.models import Department
from ticketing.auth.operations import save_department
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import fire_event, open_ticket
from ticketing.timers.models import SlaClock, Timer

COLUMNS = [column.key for column in Ticket.__table__.columns]


def _open(**fields):
    return open_ticket(None, kind=fields.pop("kind", "repair"), caller_phone="13900000001",
                       description=fields.pop("description", "没有信号"), **fields)


def test_the_object_stands_for_the_row_as_stored(app):
    clock.freeze(datetime(2026, 3, 3, 8, 30, tzinfo=timezone.utc))
    with app.app_context():
        ticket = _open(title="无信号", category="signal")
        # Nothing is left to read back: every column was given, none is expired.
        state = inspect(ticket)
        assert not (state.unloaded | state.expired_attributes) & set(COLUMNS)
        given = {name: getattr(ticket, name) for name in COLUMNS}
        assert given["number"] == f"GD20260303{ticket.id:07d}" and given["version"] == 1
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(Ticket, ticket.id)
        assert {name: getattr(stored, name) for name in COLUMNS} == given
        assert stored.department.code == "dispatch"


def test_numbers_follow_the_ids_and_a_new_ticket_moves_on_at_version_1(app):
    clock.freeze(datetime(2026, 3, 4, 1, tzinfo=timezone.utc))
    with app.app_context():
        tickets = [_open() for _ in range(3)]
        assert [t.number for t in tickets] == [f"GD20260304{t.id:07d}" for t in tickets]
        # The version counter holds: a change made in the same transaction is version 2.
        fire_event(None, tickets[0], "reclassify", {"to_kind": "consult", "reason": "来电实为咨询"})
        db.session.commit()
        assert db.session.scalar(select(Ticket.version).where(
            Ticket.id == tickets[0].id)) == 2


def test_a_rolled_back_opening_leaves_no_row_clock_or_timer(app):
    with app.app_context():
        ticket_id = _open().id
        assert db.session.scalar(select(SlaClock.id).where(SlaClock.ticket_id == ticket_id))
        db.session.rollback()
        assert db.session.get(Ticket, ticket_id) is None
        assert db.session.scalar(select(SlaClock.id).where(
            SlaClock.ticket_id == ticket_id)) is None
        assert db.session.scalar(select(Timer.id).where(Timer.ticket_id == ticket_id)) is None
        # The next ticket takes the id back and its number says so.
        again = _open()
        assert again.number.endswith(f"{again.id:07d}")


def test_an_id_past_seven_digits_keeps_all_its_digits(app, is_postgres):
    with app.app_context():
        if is_postgres:
            db.session.execute(text("SELECT setval('tickets_id_seq', 12345677)"))
        else:  # the next id is the largest plus one
            first = _open()
            db.session.execute(text("PRAGMA defer_foreign_keys = ON"))  # never committed
            db.session.execute(text("UPDATE tickets SET id = 12345677 WHERE id = :id"),
                               {"id": first.id})
            db.session.expunge_all()
        ticket = _open()
        assert ticket.id == 12345678 and ticket.number.endswith("12345678")
        assert len(ticket.number) == len("GD") + 8 + 8


def test_the_clocks_timers_are_those_the_clock_rules_make(app):
    """On PostgreSQL the clocks and their timers go in as one statement, the timers' keys
    and data written in SQL: they must be the rows _clock_timer_rows makes from the clocks
    as stored (on SQLite they are made by it)."""
    from ticketing.timers.clocks import _clock_timer_rows
    now = datetime(2026, 3, 3, 2, tzinfo=timezone.utc)
    clock.freeze(now)
    with app.app_context():
        ticket = _open(kind="complaint")
        db.session.commit()
        clocks = db.session.scalars(select(SlaClock).where(
            SlaClock.ticket_id == ticket.id).order_by(SlaClock.id)).all()
        assert {c.clock for c in clocks} >= {"response", "resolution"}
        fields = ("ticket_id", "clock_id", "kind", "level", "due_at", "dedupe_key", "data",
                  "status", "attempts")
        expected = sorted((tuple(row[name] for name in fields)
                           for c in clocks for row in _clock_timer_rows(c, now)),
                          key=lambda row: row[5])
        stored = sorted((tuple(getattr(t, name) for name in fields)
                         for t in db.session.scalars(select(Timer).where(
                             Timer.ticket_id == ticket.id))), key=lambda row: row[5])
        assert stored == expected and len(stored) == len(clocks)


def test_a_renamed_department_is_shown_renamed_by_the_next_new_ticket(app, api):
    """A new ticket's department comes from the kept copy: an edit made by another process
    (a rename) moves the copy's stamp, and the next answer carries the new name."""
    before = api.open(kind="repair")["department"]
    other = create_app(dict(app.config))
    with other.app_context():
        dispatch = db.session.get(Department, before["id"])
        save_department(dispatch, code=dispatch.code, name="调度中心（新）", name_en="Dispatch HQ",
                        kind=dispatch.kind, active=True)
        db.session.commit()
        db.engine.dispose()
    after = api.open(kind="repair")["department"]
    assert after["id"] == before["id"] and after["name"] == "调度中心（新）"
    with app.app_context():
        assert db.session.get(Department, before["id"]).revision >= 1


def test_an_api_creation_reads_only_its_token_before_writing(app, api):
    """A creation request's one read is its bearer token, which brings the user, their
    permissions and the kept configuration's stamp along; the department comes from the kept
    copy. Everything after it writes (SQLite holds its one write lock from the first write
    to the commit, so reads are kept before it)."""
    from sqlalchemy import event
    api.open(kind="repair")  # the kept copies are loaded once per process
    with app.app_context():
        engine = db.engine
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split())[:60])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        api.open(kind="complaint")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    reads = [s for s in statements if s.startswith("SELECT")]
    assert len(reads) == 1 and "api_tokens" in reads[0], statements
    assert statements[0] == reads[0]
