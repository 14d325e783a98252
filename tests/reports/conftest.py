"""A small world whose report figures are computed by hand (see each test), built through the
real operations at frozen times and committed step by step as requests would."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from ticketing import clock
from ticketing.auth.models import Department
from ticketing.customers.models import Customer, CustomerPhone
from ticketing.extensions import db
from ticketing.tickets.operations import fire_event, open_ticket


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    """2026-03-<day> at hour:minute UTC (report days are Asia/Shanghai, UTC+8: 02:00 UTC is
    10:00 the same day there)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


class World:
    def __init__(self, app):
        self.app = app
        self.tickets: dict[str, int] = {}
        with app.app_context():
            self.dept = {d.code: d.id for d in db.session.scalars(select(Department))}

    def customer(self, account_no: str, area: str, phone: str) -> int:
        with self.app.app_context():
            customer = Customer(account_no=account_no, name=f"客户{account_no}", area=area,
                                phones=[CustomerPhone(number=phone)])
            db.session.add(customer)
            db.session.commit()
            return customer.id

    def open(self, key: str, at: datetime, **fields) -> int:
        clock.freeze(at)
        with self.app.app_context():
            ticket = open_ticket(None, **fields)
            db.session.commit()
            self.tickets[key] = ticket.id
            self.opened = getattr(self, "opened", {})
            self.opened[key] = at
        return self.tickets[key]

    def fire(self, key: str, minutes_after_open: int, event: str, **fields) -> None:
        clock.freeze(self.opened[key] + timedelta(minutes=minutes_after_open))
        with self.app.app_context():
            from ticketing.tickets.models import Ticket
            ticket = db.session.get(Ticket, self.tickets[key])
            fire_event(None, ticket, event, fields)
            db.session.commit()


def build_world(app) -> World:
    """Six tickets over two report days, 2026-03-02 (D1) and 2026-03-03 (D2):

    R1 repair, customer A (东区), D1 10:00: verified +5 min, fault 光缆 (fibre_cable), work order, dispatched
       to repair team 1, accepted, reported repaired +120 min, resolved +180 min.
    R2 repair, customer B (西区), D1 11:00: verified +90 min (response deadline 60: missed),
       fault 电缆 (cable), dispatched to repair team 2, repaired +600 min (resolution 480: missed).
    R3 repair, customer A, D2 10:00: verified +5 min, fault 光缆; stays with dispatch.
    C1 consult 资费查询 by phone, D1 12:00: terminated +20 min.
    C2 consult 资费查询 by web, D2 13:00: stays new.
    K1 complaint 服务态度 by phone, D2 14:00: stays new.
    Customer D also lives in 东区 (two customers there, one in 西区)."""
    world = World(app)
    a = world.customer("A1", "东区", "13800000001")
    b = world.customer("B1", "西区", "13800000002")
    world.customer("D1", "东区", "13800000003")
    d = world.dept

    def repair(key, customer, at, verify, fault, team, repaired=None, resolved=None):
        world.open(key, at, kind="repair", customer_id=customer, description="没有信号")
        world.fire(key, verify, "verify_customer")
        world.fire(key, verify + 5, "classify_fault", fault_type=fault)
        if team is None:
            return
        world.fire(key, verify + 10, "issue_work_order", department_id=d["repair"])
        world.fire(key, verify + 15, "dispatch", department_id=d[team])
        world.fire(key, verify + 20, "accept")
        world.fire(key, repaired, "report_repaired", note="修好了")
        if resolved:
            world.fire(key, resolved, "resolve", note="已回复客户")

    repair("R1", a, utc(2, 2), 5, "fibre_cable", "repair_team_1", 120, 180)
    repair("R2", b, utc(2, 3), 90, "cable", "repair_team_2", 600)
    repair("R3", a, utc(3, 2), 5, "fibre_cable", None)
    world.open("C1", utc(2, 4), kind="consult", caller_phone="13900000001",
               category="资费查询", channel="phone", description="问资费")
    world.fire("C1", 20, "terminate", note="已解答")
    world.open("C2", utc(3, 5), kind="consult", caller_phone="13900000002",
               category="资费查询", channel="web", description="问资费")
    world.open("K1", utc(3, 6), kind="complaint", caller_phone="13900000003",
               category="服务态度", channel="phone", description="态度差")
    clock.freeze(utc(4, 2))
    return world


@pytest.fixture
def world(app):
    return build_world(app)


@pytest.fixture
def reports(client, as_role):
    """reports("supervisor", "supervision") -> get(name, **params) -> response (API)."""

    def make(role: str, department: str | None):
        _user, headers = as_role(role, department)

        def get(name: str, **params):
            return client.get(f"/api/v1/reports/{name}", query_string=params, headers=headers)

        return get

    return make
