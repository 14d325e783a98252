"""Demo tickets, opened and moved through the workflow by the real operations."""
import random

from sqlalchemy import func, select

from ticketing.auth.models import Department, User
from ticketing.customers.models import Customer
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import fire_event, open_ticket

CONSULTS = ["咨询宽带资费套餐", "询问账单扣费明细", "咨询移机办理流程", "咨询数字电视节目单"]
REPAIRS = ["电视没有信号，机顶盒显示E-202", "宽带频繁掉线", "光猫红灯闪烁，无法上网",
           "小区整栋楼停电后电视无信号"]
COMPLAINTS = ["维修人员迟到两小时且态度差", "多次报修未解决", "营业厅工作人员服务不规范"]


def _dept(code: str) -> int:
    return db.session.scalar(select(Department.id).where(Department.code == code))


def seed_demo_tickets(count: int = 40) -> list[str]:
    if (db.session.scalar(select(func.count(Ticket.id))) or 0) > 0:
        return []
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    customers = db.session.scalars(select(Customer).order_by(Customer.id).limit(200)).all()
    if admin is None or not customers:
        return []
    rng = random.Random(2026)
    steps = {
        "consult": [("transfer", {"department_id": _dept("operations")}),
                    ("reply", {"note": "已答复客户所询资费"}), ("relay", {})],
        "repair": [("verify_customer", {}), ("classify_fault", {"fault_type": "fibre_cable"}),
                   ("issue_work_order", {"department_id": _dept("repair")}),
                   ("dispatch", {"department_id": _dept("repair_team_1")}),
                   ("accept", {}), ("report_repaired", {"note": "更换分光器后恢复"}),
                   ("resolve", {"note": "客户确认信号恢复"})],
        "complaint": [("send_to_inspection", {}), ("analyse", {"note": "属实，维修时效超标"}),
                      ("assign", {"department_id": _dept("repair_team_1")}),
                      ("handle", {"note": "已致歉并回访", "receipt_person": "王队长",
                                  "satisfaction": 4}),
                      ("resolve", {"note": "投诉处理完毕"})],
    }
    texts = {"consult": CONSULTS, "repair": REPAIRS, "complaint": COMPLAINTS}
    for i in range(count):
        kind = rng.choice(["consult", "consult", "repair", "repair", "complaint"])
        customer = rng.choice(customers)
        ticket = open_ticket(admin, kind=kind, customer_id=customer.id,
                             channel=rng.choice(["phone", "phone", "web", "walk_in"]),
                             priority=rng.choice(["normal", "normal", "high", "urgent"]),
                             category=kind, description=rng.choice(texts[kind]))
        for event, fields in steps[kind][:rng.randint(0, len(steps[kind]))]:
            fire_event(admin, ticket, event, dict(fields))
        if ticket.state not in ("closed",) and rng.random() < 0.15:
            fire_event(admin, ticket, "suspend", {"reason": "等待区域停电恢复"})
    db.session.flush()
    return [f"tickets 0 → {count}"]
