"""Fast seeder: N tickets with a realistic mix of kinds, states, history rows and timers.

    python bench/seed.py --tickets 1000000 [--database-url URL] [--due 10000]

Builds the schema with the real migrations, then writes rows in chunks: PostgreSQL through
COPY, SQLite through executemany in large transactions. Columns are read from the migrated
database, so the seeder follows the schema; timer rows are written when a timers table
exists. Prints rows per second. Used by bench/run; safe only on a scratch database."""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, inspect, text  # noqa: E402

KIND_MIX = [("consult", 0.5), ("repair", 0.35), ("complaint", 0.15)]
PATHS = {  # the states a ticket passes through, in order, per kind (workflows/tickets.py)
    "consult": ["consult_new", "consult_handling", "consult_replied", "closed"],
    "repair": ["repair_new", "repair_verified", "repair_classified", "repair_ordered",
               "repair_dispatched", "repair_working", "repair_repaired", "closed"],
    "complaint": ["complaint_new", "complaint_inspecting", "complaint_analysed",
                  "complaint_assigned", "complaint_handled", "closed"],
}
EVENTS_INTO = {"consult_handling": "transfer", "consult_replied": "reply", "closed": "resolve",
               "repair_verified": "verify_customer", "repair_classified": "classify_fault",
               "repair_ordered": "issue_work_order", "repair_dispatched": "dispatch",
               "repair_working": "accept", "repair_repaired": "report_repaired",
               "complaint_inspecting": "send_to_inspection", "complaint_analysed": "analyse",
               "complaint_assigned": "assign", "complaint_handled": "handle"}
FAULTS = ["fibre_cable", "cable", "equipment", "machine_room", "power_cut"]  # category codes
CATEGORIES = ["资费查询", "业务办理", "信号问题", "账单疑问", "装机移机", "服务态度", "维修时效"]
PRIORITIES = [("normal", 0.8), ("high", 0.12), ("low", 0.05), ("urgent", 0.03)]
CHUNK = 20_000
# Text for full-text search to chew on: what callers report, what staff write, who and where.
SYMPTOMS = ["电视没有信号", "机顶盒无法开机", "宽带经常掉线", "网速很慢", "光猫红灯闪烁",
            "WiFi连不上", "停电后无法恢复", "账单金额有误", "要求办理过户", "咨询资费套餐",
            "维修人员态度差", "上门维修超时", "遥控器失灵", "画面卡顿有马赛克", "声音和画面不同步",
            "欠费停机要求复机", "新装宽带预约", "申请移机", "燃气表读数异常", "家里停水",
            "电表跳闸", "路由器重启后仍无网络", "IPTV点播失败", "信号时有时无", "线路被施工挖断",
            "楼道分线箱损坏", "光纤接头松动", "套餐到期未提醒", "发票开错", "营业厅排队太久",
            "预约时间无人上门", "电话一直打不通", "缴费后仍显示欠费", "网络延迟高影响游戏",
            "Router keeps rebooting", "no signal after storm", "billing error on invoice"]
EXTRAS = ["客户很着急", "已多次来电", "要求今天处理", "老人独居需优先", "小区多户同样情况",
          "周末上门", "客户要求回电", "", "", ""]
NOTES = ["已联系客户", "已派单", "更换光猫后恢复", "用户不在家改约", "已解释资费政策",
         "现场检查线路老化", "故障已排除", "等待备件", "已转运营部处理", "客户表示满意",
         "replaced the modem", "cable re-spliced on site"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红文辉玲萍鹏飞斌宇浩凯婷雪琳晨欣怡佳"
DISTRICTS = ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "石景山区", "通州区", "昌平区",
             "大兴区", "顺义区", "房山区", "门头沟区"]
STREETS = ["建国路", "长安街", "学院路", "中关村大街", "望京街", "酒仙桥路", "广渠路", "南三环",
           "北苑路", "安立路", "西直门外大街", "复兴路", "永定路", "京顺路", "天通苑路", "回龙观街",
           "黄村路", "新华大街", "良乡路", "石门路"]


def _pick(rng: random.Random, mix):
    r, total = rng.random(), 0.0
    for value, share in mix:
        total += share
        if r < total:
            return value
    return mix[-1][0]


def prepare(url: str) -> None:
    from ticketing import create_app
    from ticketing.cli import migrate_database
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        migrate_database()
        from ticketing.demo import seed_demo
        seed_demo(customers=0)
        from ticketing.extensions import db
        db.session.commit()
        db.engine.dispose()


class Writer:
    """COPY on PostgreSQL, executemany on SQLite; column lists come from the database."""

    def __init__(self, engine):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        inspector = inspect(engine)
        self.tables = set(inspector.get_table_names())
        self.columns = {t: [c["name"] for c in inspector.get_columns(t)] for t in self.tables}

    def write(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        cols = [c for c in self.columns[table] if c in rows[0]]
        with self.engine.begin() as conn:
            if self.pg:
                raw = conn.connection.driver_connection
                with raw.cursor() as cur:
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row([row[c] for c in cols])
            else:
                sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                       f"({', '.join('?' for _ in cols)})")
                conn.connection.driver_connection.executemany(
                    sql, [tuple(_sqlite(row[c]) for c in cols) for row in rows])

    def max_id(self, table: str) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))


def _sqlite(value):
    if isinstance(value, datetime):  # UTCDateTime stores naive UTC text on SQLite
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ")
    return value


def seed(url: str, tickets: int, due: int = 0, customers: int | None = None,
         seed_value: int = 7, quiet: bool = False) -> dict:
    started = time.perf_counter()
    prepare(url)
    prepared = time.perf_counter()
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    writer = Writer(engine)
    rng = random.Random(seed_value)
    now = datetime.now(timezone.utc)
    with engine.connect() as conn:
        departments = dict(conn.execute(text("SELECT code, id FROM departments")).all())
        users = [r[0] for r in conn.execute(text("SELECT id FROM users")).all()] or [None]
    customers = customers if customers is not None else max(100, tickets // 10)
    first_customer = writer.max_id("customers") + 1
    counts = {"customers": 0, "customer_phones": 0, "tickets": 0, "ticket_events": 0,
              "timers": 0, "sla_clocks": 0, "callbacks": 0}
    # customers and phones
    for start in range(0, customers, CHUNK):
        rows, phones = [], []
        for i in range(start, min(customers, start + CHUNK)):
            cid = first_customer + i
            name = (SURNAMES[cid % len(SURNAMES)] + GIVEN[(cid // 7) % len(GIVEN)]
                    + GIVEN[(cid // 311) % len(GIVEN)])
            address = (f"北京市{DISTRICTS[cid % len(DISTRICTS)]}"
                       f"{STREETS[(cid // 13) % len(STREETS)]}{cid % 300 + 1}号"
                       f"{cid % 9 + 1}单元{cid % 30 + 1}0{cid % 4 + 1}室")
            rows.append({"id": cid, "account_no": f"B{cid:09d}", "name": name,
                         "address": address, "area": f"片区{cid % 40}",
                         "tier": "vip" if cid % 13 == 0 else "ordinary", "notes": "",
                         "created_at": now, "updated_at": now, "version": 1})
            phones.append({"id": cid, "customer_id": cid, "number": f"139{cid:08d}",
                           "label": ""})
        writer.write("customers", rows)
        writer.write("customer_phones", phones)
        counts["customers"] += len(rows)
        counts["customer_phones"] += len(phones)
    first_ticket = writer.max_id("tickets") + 1
    next_event = writer.max_id("ticket_events") + 1
    has_timers = "timers" in writer.tables and "sla_clocks" in writer.tables
    next_clock = writer.max_id("sla_clocks") + 1 if has_timers else 0
    next_timer = writer.max_id("timers") + 1 if has_timers else 0
    has_callbacks = "callbacks" in writer.tables
    next_callback = writer.max_id("callbacks") + 1 if has_callbacks else 0
    # About 35 % of seeded tickets stay open (and get a clock); spread the due ones over them.
    due_every = max(1, int(tickets * 0.3) // due) if due else 0
    due_made = open_seen = 0
    if has_timers:
        default_calendar, policies = _policies(engine)
    slot = (365 * 24 * 60 - 10) / max(tickets, 1)  # minutes of the year per ticket
    for start in range(0, tickets, CHUNK):
        t_rows, e_rows, c_rows, tm_rows, cb_rows = [], [], [], [], []
        for i in range(start, min(tickets, start + CHUNK)):
            tid = first_ticket + i
            kind = _pick(rng, KIND_MIX)
            path = PATHS[kind]
            # Opened in id order, as in production (an id is taken when the ticket is
            # written): one slot of the year per ticket, oldest first, a random time in it.
            created = now - timedelta(minutes=10 + (tickets - 1 - i + rng.random()) * slot)
            roll = rng.random()
            if roll < 0.6:
                stop = len(path) - 1  # closed
            elif roll < 0.7:
                stop = 0
            else:
                stop = rng.randint(1, len(path) - 2)
            state = path[stop]
            suspended = roll > 0.95 and state != "closed"
            at = created
            history = [{"id": next_event, "ticket_id": tid, "at": at, "actor_id": users[0],
                        "event": "open", "from_state": None, "to_state": path[0], "note": "",
                        "data": "{}"}]
            next_event += 1
            for step in range(1, stop + 1):
                at = at + timedelta(minutes=rng.randint(5, 600))
                history.append({"id": next_event, "ticket_id": tid, "at": at,
                                "actor_id": rng.choice(users),
                                "event": EVENTS_INTO.get(path[step], "resolve"),
                                "from_state": path[step - 1], "to_state": path[step],
                                "note": rng.choice(NOTES), "data": "{}"})
                next_event += 1
            if suspended:
                at = at + timedelta(minutes=rng.randint(5, 600))
                history.append({"id": next_event, "ticket_id": tid, "at": at,
                                "actor_id": rng.choice(users), "event": "suspend",
                                "from_state": state, "to_state": "suspended",
                                "note": "等待停电恢复", "data": "{}"})
                next_event += 1
            e_rows.extend(history)
            final = "suspended" if suspended else state
            dept = {"consult": "operations", "repair": "repair_team_1",
                    "complaint": "inspection"}[kind]
            t_rows.append({
                "id": tid, "number": f"GD{created:%Y%m%d}{tid:07d}", "kind": kind,
                "state": final, "priority": _pick(rng, PRIORITIES),
                "channel": rng.choice(("phone", "phone", "phone", "web", "email", "walk_in")),
                "customer_id": first_customer + rng.randrange(customers),
                "caller_phone": f"139{rng.randrange(10**8):08d}", "caller_name": "",
                "category": rng.choice(CATEGORIES),
                "fault_type": rng.choice(FAULTS) if kind == "repair" and stop >= 2 else None,
                "title": "", "description": (f"{rng.choice(CATEGORIES)}：{rng.choice(SYMPTOMS)}，"
                                             f"{rng.choice(EXTRAS)}"),
                "department_id": departments.get(dept), "assignee_id": rng.choice(users),
                "created_by_id": users[0], "created_at": created, "updated_at": at,
                "first_response_at": history[1]["at"] if len(history) > 1 else None,
                "customer_verified_at": created if kind == "repair" and stop >= 1 else None,
                "suspended_from": state if suspended else None,
                "suspended_at": at if suspended else None, "suspension_approved": False,
                "closed_at": at if final == "closed" else None, "incident_ref": None,
                "handling_note": "", "receipt_person": "",
                "customer_satisfaction": rng.randint(1, 5) if final == "closed"
                and kind == "complaint" else None,
                "reopen_count": 0, "version": len(history) + 1})
            if has_callbacks and final == "closed" and kind in ("repair", "complaint"):
                cb_rows.append(_callback_row(rng, next_callback, tid, kind, at, now,
                                             departments.get(dept), users))
                next_callback += 1
            if has_timers and final == "closed":
                # A finished resolution clock, so SLA compliance has a year of figures.
                policy = policies[kind]
                c_rows.append(_stopped_clock_row(writer, next_clock, tid, created, at, policy,
                                                 default_calendar, departments.get(dept)))
                next_clock += 1
            if has_timers and final not in ("closed", "suspended"):
                is_due = bool(due_every) and open_seen % due_every == 0 and due_made < due
                open_seen += 1
                due_made += is_due
                policy = policies[kind]
                clock_due = (now - timedelta(minutes=1)) if is_due else \
                    now + timedelta(days=rng.randint(1, 30))
                c_rows.append(_clock_row(writer, next_clock, tid, created, clock_due, policy,
                                         default_calendar, departments.get(dept)))
                for level, offset in ((1, 0), (2, policy["level2_after_minutes"]),
                                      (3, policy["level3_after_minutes"])):
                    tm_due = clock_due + timedelta(minutes=offset)
                    if is_due and level > 1:
                        tm_due = now + timedelta(days=1)
                    tm_rows.append(_timer_row(writer, next_timer, tid, next_clock, level,
                                              tm_due, now))
                    next_timer += 1
                next_clock += 1
        writer.write("tickets", t_rows)
        writer.write("ticket_events", e_rows)
        if has_timers:
            writer.write("sla_clocks", c_rows)
            writer.write("timers", tm_rows)
            counts["sla_clocks"] += len(c_rows)
            counts["timers"] += len(tm_rows)
        writer.write("callbacks", cb_rows)
        counts["callbacks"] += len(cb_rows)
        counts["tickets"] += len(t_rows)
        counts["ticket_events"] += len(e_rows)
        if not quiet:
            print(f"  {counts['tickets']:>9,} tickets {time.perf_counter() - started:7.1f}s",
                  file=sys.stderr)
    indexed = time.perf_counter()
    search_rows = _build_search_index(engine, writer)
    indexed = time.perf_counter() - indexed
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("customers", "customer_phones", "tickets", "ticket_events",
                          "sla_clocks", "timers", "callbacks"):
                if table in writer.tables:
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    rollup_seconds = _rebuild_reports(engine) if "report_daily" in writer.tables else None
    engine.dispose()
    seconds = time.perf_counter() - started
    rows = sum(counts.values())
    load = time.perf_counter() - prepared - indexed  # without migrations, reference data
    # and the search index (built after the load, timed apart)
    return {"seconds": round(seconds, 1), "load_seconds": round(load, 2), "rows": rows,
            "rows_per_second": int(rows / load), "tickets_per_second": int(tickets / load),
            "due": due_made, "search_index_rows": search_rows,
            "report_rollup_seconds": rollup_seconds,
            "search_index_seconds": round(indexed, 1), **counts}


def _build_search_index(engine, writer: Writer) -> int:
    """The full-text index over the loaded rows, built as the migration builds it."""
    if "ticket_search" not in writer.tables:
        return 0
    from ticketing.search.index import backfill
    with engine.begin() as conn:
        return backfill(conn)


def _policies(engine) -> tuple[int, dict]:
    """The default calendar id and, per kind, the kind-wide SLA policy (any priority/tier)."""
    with engine.connect() as conn:
        calendar_id = conn.scalar(text("SELECT MIN(id) FROM business_calendars"))
        rows = conn.execute(text(
            "SELECT id, kind, calendar_id, resolution_minutes, warn_before_minutes, "
            "level2_after_minutes, level3_after_minutes FROM sla_policies "
            "WHERE priority IS NULL AND customer_tier IS NULL AND active")).mappings().all()
    by_kind = {r["kind"]: dict(r) for r in rows}
    fallback = by_kind.get(None) or {"id": None, "calendar_id": calendar_id,
                                     "resolution_minutes": 8 * 60, "warn_before_minutes": 0,
                                     "level2_after_minutes": 60, "level3_after_minutes": 240}
    return calendar_id, {k: by_kind.get(k, fallback) for k in PATHS}


def _clock_row(writer: Writer, clock_id: int, ticket_id: int, started, due, policy: dict,
               calendar_id: int, department_id) -> dict:
    """A running resolution clock of round 0, first segment (SlaClock)."""
    row = {"id": clock_id, "ticket_id": ticket_id, "clock": "resolution", "round": 0,
           "policy_id": policy["id"], "calendar_id": policy["calendar_id"] or calendar_id,
           "department_id": department_id, "target_minutes": policy["resolution_minutes"],
           "warn_before_minutes": policy["warn_before_minutes"],
           "level2_after_minutes": policy["level2_after_minutes"],
           "level3_after_minutes": policy["level3_after_minutes"],
           "started_at": started, "due_at": due, "resumed_at": started, "paused_at": None,
           "stopped_at": None, "segment": 1, "breached": False,
           "business_minutes_used": 0.0, "escalation_level": 0, "warned": False}
    return {k: v for k, v in row.items() if k in writer.columns["sla_clocks"]}


def _stopped_clock_row(writer: Writer, clock_id: int, ticket_id: int, started, stopped,
                       policy: dict, calendar_id: int, department_id) -> dict:
    """A resolution clock stopped when the ticket closed (wall minutes as business minutes:
    close enough for a report's figures)."""
    due = started + timedelta(minutes=policy["resolution_minutes"])
    used = (stopped - started).total_seconds() / 60
    row = {"id": clock_id, "ticket_id": ticket_id, "clock": "resolution", "round": 0,
           "policy_id": policy["id"], "calendar_id": policy["calendar_id"] or calendar_id,
           "department_id": department_id, "target_minutes": policy["resolution_minutes"],
           "warn_before_minutes": policy["warn_before_minutes"],
           "level2_after_minutes": policy["level2_after_minutes"],
           "level3_after_minutes": policy["level3_after_minutes"],
           "started_at": started, "due_at": due, "resumed_at": None, "paused_at": None,
           "stopped_at": stopped, "segment": 1, "breached": stopped > due,
           "business_minutes_used": used, "escalation_level": 0, "warned": False}
    return {k: v for k, v in row.items() if k in writer.columns["sla_clocks"]}


SCORES = ((5, 0.45), (4, 0.3), (3, 0.15), (2, 0.06), (1, 0.04))


def _callback_row(rng: random.Random, callback_id: int, ticket_id: int, kind: str, closed,
                  now, department_id, users) -> dict:
    """The callback of a closing: surveyed (85 %), unreachable (10 %) or still pending; a
    survey scores each dimension 1-5, unsatisfied below the default threshold 3."""
    due = closed + timedelta(hours=8)
    roll = rng.random()
    status = "done" if roll < 0.85 else "unreachable" if roll < 0.95 or due < now \
        else "pending"
    row = {"id": callback_id, "ticket_id": ticket_id, "round": 0, "kind": kind,
           "status": status, "created_at": closed, "not_before": closed, "due_at": due,
           "attempts": 0 if status == "pending" else rng.randint(1, 3),
           "agent_id": None if status == "pending" else rng.choice(users), "taken_at": None,
           "done_at": None, "escalations": 0, "result": None, "overall": None,
           "attitude": None, "standard": None, "effect": None, "comment": "",
           "department_id": None, "version": 1}
    if status != "pending":
        row["done_at"] = closed + timedelta(minutes=rng.randint(30, 480))
    if status == "done":
        scores = {d: _pick(rng, SCORES) for d in ("overall", "attitude", "standard", "effect")}
        row.update(scores, result="satisfied" if min(scores.values()) >= 3 else "unsatisfied",
                   department_id=department_id, comment="满意" if min(scores.values()) >= 3
                   else "不满意")
    return row


def _rebuild_reports(engine) -> float:
    """The report rollups from what was just written (ticketing.reports.operations)."""
    from sqlalchemy.orm import Session
    from ticketing.reports.operations import rebuild_rollups
    started = time.perf_counter()
    with Session(engine) as session:
        rebuild_rollups(session)
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE report_daily"))
            conn.execute(text("ANALYZE report_ticket_facts"))
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return round(time.perf_counter() - started, 1)


def _timer_row(writer: Writer, timer_id: int, ticket_id: int, clock_id: int, level: int,
               due, now) -> dict:
    """A pending SLA escalation timer as timers.clocks._clock_timer_rows makes it."""
    row = {"id": timer_id, "ticket_id": ticket_id, "clock_id": clock_id,
           "kind": "sla_escalation", "level": level, "due_at": due, "status": "pending",
           "fired_at": None, "attempts": 0, "last_error": None, "claimed_by": None,
           "created_at": now, "dedupe_key": f"sla:{clock_id}:1:{level}",
           "data": '{"segment": 1}'}
    return {k: v for k, v in row.items() if k in writer.columns["timers"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=0, help="tickets with a due timer")
    parser.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "sqlite:////tmp/ticketing-bench.sqlite3"))
    args = parser.parse_args()
    from ticketing.config import _normalise_db_url
    result = seed(_normalise_db_url(args.database_url), args.tickets, args.due)
    print(result)


if __name__ == "__main__":
    main()
