"""The callback report's CSV, byte for byte as the page-by-page ORM export wrote it before it
read plain columns (EXPECTED was captured from that export on the `surveyed` world of
test_report_satisfaction), with every filter, a department head's cut, Chinese labels and a
comment that needs quoting, in chunks of two rows so rows cross chunk boundaries; and its
memory does not grow with the rows."""
import tracemalloc

from sqlalchemy import update

from ticketing.auth.models import User
from ticketing.callbacks.models import Callback
from ticketing.extensions import db
from tests.reports.test_report_satisfaction import surveyed  # noqa: F401 (a fixture)
from tests.reports.test_report_satisfaction import PASSWORD, PERIOD, D3, _callback_id

EXPECTED = {  # view: the CSV's records (its lines end with \r\n)
    'all': [
        'Ticket,Kind,Closed,Due,Status,Attempts,Callback agent,Done,Result,Overall,'
        'Service attitude,Service standard,Service effect,Comment',
        'GD202603020000001,Repair,2026-03-02 13:00:00,2026-03-03 12:00:00,Done,1,王回访,'
        '2026-03-03 10:00:00,Satisfied,5,4,5,4,回访',
        'GD202603020000002,Repair,2026-03-03 12:00:00,2026-03-04 11:00:00,Done,1,nameless,'
        '2026-03-03 15:00:00,Unsatisfied,2,3,4,2,回访',
        'GD202603030000006,Complaint,2026-03-03 14:20:00,2026-03-04 17:00:00,Done,2,王回访,'
        '2026-03-04 11:00:00,Satisfied,4,5,3,4,"说得对, ""很好""\n第二行"',
        'GD202603030000003,Repair,2026-03-04 12:05:00,2026-03-05 11:05:00,Open,0,,,,,,,,',
    ],
    'zh': [
        '工单,类型,已关闭,到期时间,状态,回访次数,回访员,已完成,结果,总体,服务态度,服务规范,服务效果,意见',
        'GD202603020000001,报修,2026-03-02 13:00:00,2026-03-03 12:00:00,已完成,1,王回访,'
        '2026-03-03 10:00:00,满意,5,4,5,4,回访',
        'GD202603020000002,报修,2026-03-03 12:00:00,2026-03-04 11:00:00,已完成,1,nameless,'
        '2026-03-03 15:00:00,不满意,2,3,4,2,回访',
        'GD202603030000006,投诉,2026-03-03 14:20:00,2026-03-04 17:00:00,已完成,2,王回访,'
        '2026-03-04 11:00:00,满意,4,5,3,4,"说得对, ""很好""\n第二行"',
        'GD202603030000003,报修,2026-03-04 12:05:00,2026-03-05 11:05:00,进行中,0,,,,,,,,',
    ],
    'head': [
        'Ticket,Kind,Closed,Due,Status,Attempts,Callback agent,Done,Result,Overall,'
        'Service attitude,Service standard,Service effect,Comment',
        'GD202603020000001,Repair,2026-03-02 13:00:00,2026-03-03 12:00:00,Done,1,王回访,'
        '2026-03-03 10:00:00,Satisfied,5,4,5,4,回访',
    ],
    'complaint': [
        'Ticket,Kind,Closed,Due,Status,Attempts,Callback agent,Done,Result,Overall,'
        'Service attitude,Service standard,Service effect,Comment',
        'GD202603030000006,Complaint,2026-03-03 14:20:00,2026-03-04 17:00:00,Done,2,王回访,'
        '2026-03-04 11:00:00,Satisfied,4,5,3,4,"说得对, ""很好""\n第二行"',
    ],
    'done': [
        'Ticket,Kind,Closed,Due,Status,Attempts,Callback agent,Done,Result,Overall,'
        'Service attitude,Service standard,Service effect,Comment',
        'GD202603020000001,Repair,2026-03-02 13:00:00,2026-03-03 12:00:00,Done,1,王回访,'
        '2026-03-03 10:00:00,Satisfied,5,4,5,4,回访',
        'GD202603020000002,Repair,2026-03-03 12:00:00,2026-03-04 11:00:00,Done,1,nameless,'
        '2026-03-03 15:00:00,Unsatisfied,2,3,4,2,回访',
        'GD202603030000006,Complaint,2026-03-03 14:20:00,2026-03-04 17:00:00,Done,2,王回访,'
        '2026-03-04 11:00:00,Satisfied,4,5,3,4,"说得对, ""很好""\n第二行"',
    ],
    'due': [
        'Ticket,Kind,Closed,Due,Status,Attempts,Callback agent,Done,Result,Overall,'
        'Service attitude,Service standard,Service effect,Comment',
        'GD202603030000003,Repair,2026-03-04 12:05:00,2026-03-05 11:05:00,Open,0,,,,,,,,',
    ],
    'agent': [
        'Ticket,Kind,Closed,Due,Status,Attempts,Callback agent,Done,Result,Overall,'
        'Service attitude,Service standard,Service effect,Comment',
        'GD202603020000001,Repair,2026-03-02 13:00:00,2026-03-03 12:00:00,Done,1,王回访,'
        '2026-03-03 10:00:00,Satisfied,5,4,5,4,回访',
        'GD202603030000006,Complaint,2026-03-03 14:20:00,2026-03-04 17:00:00,Done,2,王回访,'
        '2026-03-04 11:00:00,Satisfied,4,5,3,4,"说得对, ""很好""\n第二行"',
    ],
    'last day': [
        'Ticket,Kind,Closed,Due,Status,Attempts,Callback agent,Done,Result,Overall,'
        'Service attitude,Service standard,Service effect,Comment',
        'GD202603030000003,Repair,2026-03-04 12:05:00,2026-03-05 11:05:00,Open,0,,,,,,,,',
    ],
    'none': [
        'Ticket,Kind,Closed,Due,Status,Attempts,Callback agent,Done,Result,Overall,'
        'Service attitude,Service standard,Service effect,Comment',
    ],
}


def _exports(app, surveyed, make_user) -> dict[str, str]:  # noqa: F811
    # The agent column shows the full name, else the username: R2's survey goes to an agent
    # without a full name.
    other = make_user("callback_agent", "call_center", username="nameless")
    with app.app_context():
        db.session.execute(update(Callback).where(
            Callback.id == _callback_id(app, surveyed.world.tickets["K1"]))
            .values(comment='说得对, "很好"\n第二行'))
        db.session.execute(update(Callback).where(
            Callback.id == _callback_id(app, surveyed.world.tickets["R2"]))
            .values(agent_id=other.id))
        db.session.execute(update(User).where(User.id == surveyed.agent.id)
                           .values(full_name="王回访"))
        db.session.commit()
    clients = {}
    for name, role, department, locale in (
            ("en", "supervisor", "supervision", "en"), ("zh", "supervisor", "supervision", "zh"),
            ("head", "department_head", "repair_team_1", "en")):
        user = make_user(role, department, locale=locale)
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
        assert client.post("/login", data={"username": user.username,
                                           "password": PASSWORD}).status_code == 302
        clients[name] = client
    views = {
        "all": ("en", PERIOD), "zh": ("zh", PERIOD), "head": ("head", PERIOD),
        "complaint": ("en", {**PERIOD, "kind": "complaint"}),
        "done": ("en", {**PERIOD, "status": "done"}),
        "due": ("en", {**PERIOD, "status": "due"}),
        "agent": ("en", {**PERIOD, "agent_id": surveyed.agent.id}),
        "last day": ("en", {"date_from": D3, "date_to": D3}),
        "none": ("en", {"date_from": "2025-01-01", "date_to": "2025-01-31"}),
    }
    out = {}
    for view, (who, params) in views.items():
        response = clients[who].get("/reports/callbacks/export.csv", query_string=params)
        assert response.status_code == 200 and response.is_streamed
        out[view] = response.get_data().decode("utf-8")
    return out


def test_callback_csv_is_byte_for_byte_the_orm_exports(
        app, surveyed, make_user, monkeypatch):  # noqa: F811
    from ticketing.reports import views
    monkeypatch.setattr(views, "CALLBACK_CHUNK_ROWS", 2)  # (before: callbacks per page)
    got = _exports(app, surveyed, make_user)
    assert got == {view: "\ufeff" + "".join(record + "\r\n" for record in records)
                   for view, records in EXPECTED.items()}


def _bulk_callbacks(app, n: int, start: int) -> None:
    """n closed consults, each with a done callback closed 2026-03-02 12:00 (Shanghai)."""
    from datetime import datetime, timezone
    from sqlalchemy import insert, select
    from ticketing.tickets.models import Ticket
    at = datetime(2026, 3, 2, 4, tzinfo=timezone.utc)
    with app.app_context():
        db.session.execute(insert(Ticket), [
            {"number": f"BULK{start + i:08d}", "kind": "consult", "state": "closed",
             "description": "批量", "created_at": at, "updated_at": at, "closed_at": at}
            for i in range(n)])
        ids = db.session.scalars(select(Ticket.id).where(Ticket.number.like("BULK%"))
                                 .order_by(Ticket.id).offset(start)).all()
        db.session.execute(insert(Callback), [
            {"ticket_id": ticket_id, "kind": "consult", "status": "done", "created_at": at,
             "not_before": at, "due_at": at, "done_at": at, "attempts": 1,
             "result": "satisfied", "overall": 5, "attitude": 4, "standard": 5, "effect": 4,
             "comment": "满意" * 20} for ticket_id in ids])
        db.session.commit()


def _peak_while_reading(client) -> tuple[int, int]:
    tracemalloc.start()
    try:
        response = client.get("/reports/callbacks/export.csv", query_string=PERIOD)
        size = sum(len(chunk) for chunk in response.response)
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_callback_csv_memory_does_not_grow_with_the_rows(app, client, make_user):
    user = make_user("admin", "management")
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 302
    _bulk_callbacks(app, 3_000, 0)
    small_peak, small_size = _peak_while_reading(client)
    _bulk_callbacks(app, 12_000, 3_000)
    large_peak, large_size = _peak_while_reading(client)
    assert large_size > 4 * small_size
    # Five times the rows, not five times the memory: the rows are read in chunks.
    assert large_peak < small_peak * 1.6, (small_peak, large_peak, small_size, large_size)
