"""Demo supervision: two complaints closed by the people who would handle them, so the
supervisor finds audits in the queue; one with its liability ruled and appealed by the
operations head, waiting for a second reviewer's ruling (the admin may give it)."""
from datetime import timedelta

from sqlalchemy import select

from ticketing import clock
from ticketing.audits.liability import appeal, record_liability
from ticketing.audits.models import ComplaintLiability
from ticketing.auth.models import Department, User
from ticketing.customers.models import Customer
from ticketing.extensions import db
from ticketing.tickets.operations import fire_event, open_ticket

COMPLAINTS = [(20.0, "维修人员上门迟到两小时，且未提前电话告知"),
              (50.0, "营业厅工作人员办理业务时态度冷淡")]


def seed_demo_audits() -> list[str]:
    """Once: nothing happens when a liability ruling exists or the demo people are missing."""
    if db.session.scalar(select(ComplaintLiability.id).limit(1)) is not None:
        return []
    people = {u.username: u for u in db.session.scalars(select(User)).unique()}
    customer = db.session.scalar(select(Customer).order_by(Customer.id).limit(1))
    if not {"agent", "inspector", "staff", "supervisor", "head"} <= set(people) or not customer:
        return []
    operations = db.session.scalar(select(Department.id).where(Department.code == "operations"))
    now = clock.utcnow()
    tickets = []
    try:
        for hours_ago, text in COMPLAINTS:
            at = now - timedelta(hours=hours_ago)
            clock.freeze(at)
            ticket = open_ticket(people["agent"], kind="complaint", customer_id=customer.id,
                                 description=text)
            for step, (who, event, fields) in enumerate([
                    ("agent", "send_to_inspection", {}),
                    ("inspector", "analyse", {"note": "投诉属实，涉及服务规范"}),
                    ("inspector", "assign", {"department_id": operations}),
                    ("staff", "handle", {"note": "已上门致歉并说明原因", "receipt_person": "王先生",
                                         "satisfaction": 3}),
                    ("staff", "resolve", {"note": "客户接受道歉"})], start=1):
                clock.freeze(at + timedelta(minutes=20 * step))
                fire_event(people[who], ticket, event, fields)
            tickets.append(ticket)
        clock.freeze(now - timedelta(hours=40))
        record_liability(people["supervisor"], tickets[1], {
            "justified": True, "department_id": operations, "person_id": people["staff"].id,
            "note": "服务态度问题属实"})
        clock.freeze(now - timedelta(hours=30))
        appeal(people["head"], tickets[1], "客户当日情绪激动，工作人员已按规范解释，申请复核")
        db.session.flush()
    finally:
        clock.freeze(None)
    return ["complaints under audit: 2 (one liability ruling appealed)"]
