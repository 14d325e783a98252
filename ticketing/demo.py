"""Demo data: one user per role and a few hundred customers with realistic Chinese names."""
import random

from sqlalchemy import func, select

from ticketing.auth.models import User
from ticketing.auth.operations import create_user
from ticketing.customers.models import Customer, CustomerPhone
from ticketing.extensions import db
from ticketing.wiring import wiring

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏建国志宏海燕雪梅琳晨浩宇欣怡子轩梓涵一诺思远嘉豪雨桐佳琪俊杰晓东文博天佑"
DISTRICTS = [("东城区", ["和平里街道", "安定门街道", "东四街道"]),
             ("西城区", ["月坛街道", "金融街街道", "什刹海街道"]),
             ("朝阳区", ["望京街道", "三里屯街道", "双井街道", "劲松街道"]),
             ("海淀区", ["中关村街道", "学院路街道", "万寿路街道"]),
             ("丰台区", ["方庄街道", "右安门街道"]),
             ("通州区", ["新华街道", "永顺镇"])]
ROADS = ["建国路", "朝阳北路", "学院路", "中关村大街", "复兴路", "长安街", "光华路", "望京西路",
         "安立路", "北苑路", "科学院南路", "新华大街"]
COMMUNITIES = ["阳光小区", "和谐家园", "幸福里", "金台里", "枫林苑", "华清嘉园", "远洋山水",
               "富力城", "珠江帝景", "望京花园", "世纪城", "芳群园"]

DEMO_USERS = [
    ("agent", "agent", "call_center", "李晓东"),
    ("dispatcher", "dispatcher", "dispatch", "王建国"),
    ("staff", "staff", "operations", "张秀英"),
    ("repair", "staff", "repair_team_1", "刘强"),
    ("inspector", "staff", "inspection", "陈静"),
    ("callback", "callback_agent", "callback", "杨丽"),
    ("supervisor", "supervisor", "supervision", "赵敏"),
    ("head", "department_head", "operations", "周海燕"),
    ("admin", "admin", "management", "系统管理员"),
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _address(rng: random.Random) -> tuple[str, str]:
    district, streets = rng.choice(DISTRICTS)
    area = f"{district}{rng.choice(streets)}"
    address = (f"北京市{district}{rng.choice(ROADS)}{rng.randint(1, 300)}号"
               f"{rng.choice(COMMUNITIES)}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元"
               f"{rng.randint(1, 28)}{rng.randint(1, 4):02d}室")
    return area, address


def seed_demo(customers: int = 300, password: str = "demo-pass-2026") -> list[str]:
    report = []
    for username, role, dept, full_name in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(username, password, [role], dept, full_name=full_name)
            report.append(f"user {username} / {password} ({role}, {dept})")
    existing = db.session.scalar(select(func.count(Customer.id))) or 0
    rng = random.Random(20261123 + existing)
    for i in range(existing, customers):
        area, address = _address(rng)
        customer = Customer(account_no=f"KH{100000 + i}", name=_name(rng), address=address,
                            area=area, tier="vip" if rng.random() < 0.08 else "ordinary",
                            notes="")
        phones = [f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"]
        if rng.random() < 0.3:
            phones.append(f"010{rng.randint(60000000, 89999999)}")
        customer.phones = [CustomerPhone(number=p) for p in phones]
        db.session.add(customer)
    db.session.flush()
    if customers > existing:
        report.append(f"customers {existing} → {customers}")
    for add in wiring().demo_data:
        report.extend(add() or [])
    return report
