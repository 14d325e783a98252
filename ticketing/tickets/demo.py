"""Demo tickets: a realistic working day for every demo role, opened and moved through the
workflow by the real operations, by the people who would do each step, at times spread over
the last two days, so every home page has work on it: tickets assigned in several states, an
SLA breach, a deadline about to pass, and a suspension waiting for approval."""
import random
from datetime import timedelta

from sqlalchemy import func, select

from ticketing import clock
from ticketing.auth.models import Department, User
from ticketing.customers.models import Customer
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import fire_event, open_ticket

CONSULTS = ["咨询宽带资费套餐", "询问账单扣费明细", "咨询移机办理流程", "咨询数字电视节目单",
            "咨询光纤升级到千兆的费用", "询问停机保号怎么办理"]
REPAIRS = ["电视没有信号，机顶盒显示E-202", "宽带频繁掉线", "光猫红灯闪烁，无法上网",
           "小区整栋楼停电后电视无信号", "机顶盒遥控器无反应", "网速很慢，晚上尤其明显"]
COMPLAINTS = ["维修人员迟到两小时且态度差", "多次报修未解决", "营业厅工作人员服务不规范"]

# (who opens it, kind, hours ago, steps: (who, event, fields)). Who is a demo username;
# a department or assignee is named by code / username and resolved when the day is played.
DAY = [
    # The repair team's queue: one to accept, one being worked on, one repaired.
    ("agent", "repair", 3.0, [("agent", "verify_customer", {}),
                              ("agent", "classify_fault", {"fault_type": "set_top_box"}),
                              ("dispatcher", "issue_work_order", {"department_id": "repair"}),
                              ("dispatcher", "dispatch", {"department_id": "repair_team_1",
                                                          "assignee_id": "repair"})]),
    ("agent", "repair", 5.0, [("agent", "verify_customer", {}),
                              ("agent", "classify_fault", {"fault_type": "modem"}),
                              ("dispatcher", "issue_work_order", {"department_id": "repair"}),
                              ("dispatcher", "dispatch", {"department_id": "repair_team_1",
                                                          "assignee_id": "repair"}),
                              ("repair", "accept", {})]),
    ("agent", "repair", 6.5, [("agent", "verify_customer", {}),
                              ("agent", "classify_fault", {"fault_type": "home_wiring"}),
                              ("dispatcher", "issue_work_order", {"department_id": "repair"}),
                              ("dispatcher", "dispatch", {"department_id": "repair_team_1",
                                                          "assignee_id": "repair"}),
                              ("repair", "accept", {}),
                              ("repair", "report_repaired", {"note": "更换入户线后恢复"})]),
    # The dispatcher's: new repairs to classify and work orders to send out.
    ("agent", "repair", 0.3, []),
    ("agent", "repair", 0.8, [("agent", "verify_customer", {})]),
    ("dispatcher", "repair", 1.5, [("dispatcher", "verify_customer", {}),
                                   ("dispatcher", "classify_fault", {"fault_type": "no_signal"}),
                                   ("dispatcher", "issue_work_order",
                                    {"department_id": "repair"})]),
    # A breach: opened ten hours ago (repairs: 8 h to resolve), still not dispatched.
    ("agent", "repair", 10.0, [("agent", "verify_customer", {}),
                               ("agent", "classify_fault", {"fault_type": "broadband_drop"})]),
    # A warning: the 8 hours run out in ten minutes, the team has not started.
    ("agent", "repair", 7.8, [("agent", "verify_customer", {}),
                              ("agent", "classify_fault", {"fault_type": "slow_network"}),
                              ("dispatcher", "issue_work_order", {"department_id": "repair"}),
                              ("dispatcher", "dispatch", {"department_id": "repair_team_1",
                                                          "assignee_id": "repair"})]),
    # Operations: consults waiting, one taken, one replied for the agent to relay.
    ("agent", "consult", 0.5, []),
    ("agent", "consult", 1.2, []),
    ("agent", "consult", 2.0, [("staff", "take", {})]),
    ("agent", "consult", 2.5, [("staff", "reply", {"note": "已答复：千兆套餐每月199元"})]),
    # A suspension waiting for the head's approval.
    ("agent", "consult", 4.0, [("staff", "take", {}),
                               ("staff", "suspend", {"reason": "等待客户提供身份证明材料"})]),
    # Inspection: a complaint to analyse, one analysed and handed to operations.
    ("agent", "complaint", 1.0, [("agent", "send_to_inspection", {})]),
    ("agent", "complaint", 20.0, [("agent", "send_to_inspection", {}),
                                  ("inspector", "analyse", {"note": "属实，维修时效超标"}),
                                  ("inspector", "assign", {"department_id": "operations"})]),
    # Closed yesterday: the callback agent and the supervisor look back at these.
    ("agent", "consult", 26.0, [("agent", "terminate", {"note": "已直接答复客户"})]),
    ("agent", "repair", 30.0, [("agent", "verify_customer", {}),
                               ("agent", "classify_fault", {"fault_type": "fibre_cable"}),
                               ("dispatcher", "issue_work_order", {"department_id": "repair"}),
                               ("dispatcher", "dispatch", {"department_id": "repair_team_1",
                                                           "assignee_id": "repair"}),
                               ("repair", "accept", {}),
                               ("repair", "report_repaired", {"note": "熔接光缆后恢复"}),
                               ("repair", "resolve", {"note": "客户确认信号恢复"})]),
]
TEXTS = {"consult": CONSULTS, "repair": REPAIRS, "complaint": COMPLAINTS}


def seed_demo_tickets() -> list[str]:
    """Play the demo day once (nothing happens when tickets exist), then fire what fell due."""
    if (db.session.scalar(select(func.count(Ticket.id))) or 0) > 0:
        return []
    people = {u.username: u for u in db.session.scalars(select(User))}
    customers = db.session.scalars(select(Customer).order_by(Customer.id).limit(200)).all()
    if "agent" not in people or not customers:
        return []
    departments = {d.code: d.id for d in db.session.scalars(select(Department))}
    rng = random.Random(2026)
    now = clock.utcnow()
    vip = [c for c in customers if c.is_vip]
    try:
        for number, (opener, kind, hours_ago, steps) in enumerate(DAY):
            at = now - timedelta(hours=hours_ago)
            clock.freeze(at)
            customer = vip[0] if number == 0 and vip else rng.choice(customers)
            ticket = open_ticket(people.get(opener), kind=kind, customer_id=customer.id,
                                 channel=rng.choice(["phone", "phone", "phone", "web"]),
                                 priority=rng.choice(["normal", "normal", "high"]),
                                 description=rng.choice(TEXTS[kind]))
            for step, (who, event, fields) in enumerate(steps, start=1):
                clock.freeze(at + timedelta(minutes=4 * step))
                fire_event(people.get(who), ticket, event,
                           _resolve(fields, departments, people))
            db.session.flush()
    finally:
        clock.freeze(None)
    from ticketing.timers.sweep import sweep_due_timers
    sweep_due_timers()  # the breach and the warning fire now, as a scheduler would
    return [f"tickets 0 → {len(DAY)} (a working day for every demo role)"]


def _resolve(fields: dict, departments: dict, people: dict) -> dict:
    values = dict(fields)
    if "department_id" in values:
        values["department_id"] = departments[values["department_id"]]
    if "assignee_id" in values:
        values["assignee_id"] = people[values["assignee_id"]].id
    return values
