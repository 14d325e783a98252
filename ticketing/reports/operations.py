"""Report rollups: kept current in the unit of work of every ticket change, or rebuilt.

The ticket signals mark what changed in `session.info`; just before the commit (when every
signal receiver, the SLA clocks' included, has run and flushed) each marked ticket's
counted contribution (ReportTicketFact) is compared with what it should be now, and the
difference is added to the daily sums (ReportDaily) by upserts. A rollback drops the marks,
so the sums follow exactly the committed tickets.

Append-only cubes: `repairs` counts each report_repaired event (a reopened repair reported
again counts again), `sla` each SLA clock when it stops (a stopped clock never changes),
`satisfaction` each callback survey when it is recorded (the callbacks area's
callback_surveyed signal: a done callback never changes).
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import bindparam, delete, event, or_, select, text
from sqlalchemy.orm import Session

from ticketing.dbsetup import json_rows, json_value
from ticketing.extensions import db
from ticketing.reports.models import KEY_COLUMNS, MEASURES, ReportDaily, ReportTicketFact
from ticketing.signals import callback_surveyed, ticket_opened, tickets_transitioned

DEFAULT_TIMEZONE = "Asia/Shanghai"
_TICKETS, _REPAIRS, _CLOCKS = "reports.tickets", "reports.repairs", "reports.clocks"
_OPENED = "reports.opened"  # ids of the tickets opened in this transaction: no fact yet
_SURVEYS = "reports.surveys"
# The satisfaction cube's `clock` key: the four survey dimensions (the mean score of each),
# and the result (met: surveys satisfied).
DIMENSIONS = ("overall", "attitude", "standard", "effect")
RESULT = "result"
_FACT_FIELDS = ("day", "department_id", "kind", "state", "channel", "category", "area",
                "fault_type")


def report_zone() -> ZoneInfo:
    """The time zone that cuts report days (REPORTS_TIMEZONE, default Asia/Shanghai)."""
    name = current_app.config.get("REPORTS_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def report_day(at: datetime) -> date:
    return at.astimezone(report_zone()).date()


def month_of(day: date) -> date:
    """The first day of the month of a report day (the fault_months cube's `day`)."""
    return day.replace(day=1)


def day_start(day: date) -> datetime:
    """The first instant of a report day (aware, in the report zone)."""
    return datetime(day.year, day.month, day.day, tzinfo=report_zone())


# -- what a ticket counts for ------------------------------------------------------------

def _key(cube: str, day: date, **values) -> tuple:
    values.update(cube=cube, day=day)
    return tuple(values.get(name, 0 if name == "department_id" else "")
                 for name in KEY_COLUMNS)


def _facts_of(ticket, area: str, day: date | None = None) -> dict:
    return {"day": day or report_day(ticket.created_at),
            "department_id": ticket.department_id or 0, "kind": ticket.kind,
            "state": ticket.state, "channel": ticket.channel or "",
            "category": ticket.category or "", "area": area or "",
            "fault_type": ticket.fault_type or ""}


def _contributions(facts: dict) -> list[tuple]:
    """The summary, calls and fault keys one ticket adds 1 to."""
    day, dept = facts["day"], facts["department_id"]
    keys = [_key("summary", day, department_id=dept, kind=facts["kind"], state=facts["state"]),
            _key("calls", day, department_id=dept, kind=facts["kind"],
                 category=facts["category"], channel=facts["channel"])]
    if facts["fault_type"]:
        keys.append(_key("faults", day, department_id=dept, area=facts["area"],
                         fault_type=facts["fault_type"]))
        keys.append(_key("fault_days", day, department_id=dept,
                         fault_type=facts["fault_type"]))
        keys.append(_key("fault_months", month_of(day), department_id=dept,
                         area=facts["area"], fault_type=facts["fault_type"]))
    return keys


# -- marks set by the signals ------------------------------------------------------------

def _on_ticket_opened(ticket, **_kwargs) -> None:
    db.session.info.setdefault(_TICKETS, {})[ticket.id] = ticket
    db.session.info.setdefault(_OPENED, set()).add(ticket.id)


def _on_tickets_transitioned(event: str, *, transitions, at: datetime, **_kwargs) -> None:
    marked = db.session.info.setdefault(_TICKETS, {})
    for t in transitions:
        marked[t.ticket.id] = t.ticket
    if event == "report_repaired":
        db.session.info.setdefault(_REPAIRS, []).extend((t.ticket, at) for t in transitions)


def _on_clock_stopped(clock, value, oldvalue, _initiator) -> None:
    if value is not None and (oldvalue is None or not isinstance(oldvalue, datetime)):
        db.session.info.setdefault(_CLOCKS, {})[id(clock)] = clock


def _on_callback_surveyed(callback, *, threshold: int, **_kwargs) -> None:
    db.session.info.setdefault(_SURVEYS, {})[id(callback)] = (callback, threshold)


def _forget(session: Session, *_args) -> None:
    for name in (_TICKETS, _REPAIRS, _CLOCKS, _SURVEYS, _OPENED):
        session.info.pop(name, None)


def _before_commit(session: Session) -> None:
    tickets = session.info.pop(_TICKETS, None)
    repairs = session.info.pop(_REPAIRS, None)
    clocks = session.info.pop(_CLOCKS, None)
    surveys = session.info.pop(_SURVEYS, None)
    opened = session.info.pop(_OPENED, None) or set()
    if not (tickets or repairs or clocks or surveys):
        return
    deltas: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0, 0])
    facts = _refresh_facts(session, list(tickets.values()), deltas, opened) if tickets else []
    for ticket, at in repairs or ():
        _count_repair(session, ticket, at, deltas)
    for clock in (clocks or {}).values():
        _count_clock(session, clock, deltas)
    for callback, threshold in (surveys or {}).values():
        _count_survey(callback, threshold, deltas)
    apply_deltas(session, deltas, facts)


_FACTS_OF = select(ReportTicketFact.__table__).where(
    ReportTicketFact.__table__.c.ticket_id.in_(bindparam("ids", expanding=True)))


def _refresh_facts(session: Session, tickets: list, deltas: dict, opened: set) -> list:
    """Add the tickets' changed contributions to `deltas`; returns their new fact rows."""
    # Facts are written only here, at a commit: a ticket opened in this transaction has none.
    ids = [t.id for t in tickets if t.id not in opened]
    old = {}
    for start in range(0, len(ids), 500):
        old.update({row.ticket_id: row._asdict() for row in session.execute(
            _FACTS_OF, {"ids": ids[start:start + 500]})})
    changed = []
    for ticket in tickets:
        before = old.get(ticket.id)
        if before is None:  # a new ticket: its customer was loaded with it
            now = _facts_of(ticket, ticket.customer.area if ticket.customer_id else "")
        else:  # a ticket's day and area are those it was counted with
            now = _facts_of(ticket, before["area"], before["day"])
            before = {name: before[name] for name in _FACT_FIELDS}
            if before == now:
                continue
            for key in _contributions(before):
                deltas[key][0] -= 1
        for key in _contributions(now):
            deltas[key][0] += 1
        changed.append({"ticket_id": ticket.id, **now})
    changed.sort(key=lambda row: row["ticket_id"])  # one lock order: no deadlock
    return changed


_RESOLUTION_DUE = text(
    "SELECT due_at FROM sla_clocks WHERE ticket_id = :ticket_id AND clock = 'resolution' "
    "AND started_at <= :at AND (stopped_at IS NULL OR stopped_at >= :at) "
    "ORDER BY id DESC LIMIT 1")


def _count_repair(session: Session, ticket, at: datetime, deltas: dict) -> None:
    """One repair reported done by the team holding it: time since the ticket was opened,
    and whether the resolution deadline (if any) still held."""
    from ticketing.timers.models import SlaClock
    due = session.scalar(select(SlaClock.due_at).where(
        SlaClock.ticket_id == ticket.id, SlaClock.clock == "resolution",
        SlaClock.started_at <= at,
        or_(SlaClock.stopped_at.is_(None), SlaClock.stopped_at >= at))
        .order_by(SlaClock.id.desc()).limit(1))
    measures = deltas[_key("repairs", report_day(at), department_id=ticket.department_id or 0)]
    measures[0] += 1
    measures[1] += (at - ticket.created_at).total_seconds() / 60
    if due is not None:
        measures[2] += 1
        measures[3] += int(at <= due)


def _count_clock(session: Session, clock, deltas: dict) -> None:
    from ticketing.tickets.models import Ticket
    ticket = session.get(Ticket, clock.ticket_id)
    measures = deltas[_key("sla", report_day(clock.stopped_at),
                           department_id=clock.department_id or 0,
                           kind=ticket.kind if ticket else "", clock=clock.clock)]
    measures[0] += 1
    measures[1] += clock.business_minutes_used or 0.0
    measures[2] += 1
    measures[3] += int(not clock.breached)


def _count_survey(callback, threshold: int, deltas: dict) -> None:
    """One survey: per dimension its score and whether it reached the threshold; and the
    result."""
    day, dept = report_day(callback.done_at), callback.department_id or 0
    for dimension in DIMENSIONS:
        score = getattr(callback, dimension)
        measures = deltas[_key("satisfaction", day, department_id=dept, kind=callback.kind,
                               clock=dimension)]
        measures[0] += 1
        measures[1] += score
        measures[2] += 1
        measures[3] += int(score >= threshold)
    measures = deltas[_key("satisfaction", day, department_id=dept, kind=callback.kind,
                           clock=RESULT)]
    measures[0] += 1
    measures[2] += 1
    measures[3] += int(callback.result == "satisfied")


def apply_deltas(session: Session, deltas: dict, facts: list = ()) -> None:
    """Add {key: [n, minutes, with_sla, met]} to the daily sums, and write the tickets'
    changed `facts` rows: one upsert statement each, or one for both on PostgreSQL."""
    # Sorted by key: two commits that touch the same sums lock them in the same order,
    # so they queue on PostgreSQL instead of deadlocking.
    rows = [{**dict(zip(KEY_COLUMNS, key)), "n": n, "minutes": minutes, "with_sla": with_sla,
             "met": met} for key, (n, minutes, with_sla, met) in sorted(deltas.items())
            if n or minutes or with_sla or met]
    connection = session.connection()
    if facts and rows and connection.dialect.name == "postgresql":
        connection.execute(_pg_facts_and_sums(), {
            "facts": json.dumps(facts, default=json_value),
            "sums": json.dumps(rows, default=json_value)})
        return
    if facts:
        connection.execute(_upsert(session, "facts"), facts)
    if rows:
        connection.execute(_upsert(session, "daily"), rows)


def _pg_facts_and_sums():
    """PostgreSQL: both upserts in one statement (each round trip costs about as much as
    the work), the rows of each passed as one JSON array and read in its order."""
    stmt = _UPSERTS.get(("postgresql", "both"))
    if stmt is None:
        facts, sums = ("ticket_id", *_FACT_FIELDS), (*KEY_COLUMNS, *MEASURES)
        fact_table, daily_table = ReportTicketFact.__tablename__, ReportDaily.__tablename__
        stmt = _UPSERTS[("postgresql", "both")] = text(
            f"WITH facts AS (INSERT INTO {fact_table} ({', '.join(facts)}) "
            f"{json_rows(fact_table, facts, 'facts')} "
            "ON CONFLICT (ticket_id) DO UPDATE SET "
            + ", ".join(f"{name} = excluded.{name}" for name in _FACT_FIELDS) + ") "
            f"INSERT INTO {daily_table} ({', '.join(sums)}) "
            f"{json_rows(daily_table, sums, 'sums')} "
            f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET "
            + ", ".join(f"{name} = {daily_table}.{name} + excluded.{name}"
                        for name in MEASURES))
    return stmt


_UPSERTS: dict[tuple[str, str], object] = {}


def _upsert(session: Session, which: str):
    """The two upserts, built once per dialect: building one cost more than running it, and
    every commit that changes a ticket runs both."""
    dialect = session.get_bind().dialect.name
    stmt = _UPSERTS.get((dialect, which))
    if stmt is not None:
        return stmt
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    if which == "facts":
        facts = insert(ReportTicketFact.__table__)
        stmt = facts.on_conflict_do_update(
            index_elements=["ticket_id"],
            set_={name: facts.excluded[name] for name in _FACT_FIELDS})
    else:
        table = ReportDaily.__table__
        daily = insert(table)
        stmt = daily.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS),
            set_={name: table.c[name] + daily.excluded[name]
                  for name in ("n", "minutes", "with_sla", "met")})
    _UPSERTS[(dialect, which)] = stmt
    return stmt


# -- rebuilding from the tickets ---------------------------------------------------------

def _day_sql(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(timezone('{report_zone().key}', {column}) AS date)"
    # SQLite stores naive UTC text; the report zone's offset now (zones of China keep one).
    offset = datetime.now(report_zone()).utcoffset() or timedelta(0)
    return f"date({column}, '{int(offset.total_seconds() // 60):+d} minutes')"


def _month_sql(dialect: str, column: str) -> str:
    """The first day of the month of a date column (the fault_months cube's `day`)."""
    if dialect == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _fault_months_statement(dialect: str) -> str:
    """The fault_months cube summed from the daily faults cube (migration f6d2b8a4c913 does
    the same for databases that had the daily rows before the cube)."""
    return (f"INSERT INTO report_daily ({', '.join(KEY_COLUMNS)}, n, minutes, with_sla, met) "
            f"SELECT 'fault_months', {_month_sql(dialect, 'day')}, department_id, '', '', '', "
            "'', area, fault_type, '', SUM(n), 0, 0, 0 FROM report_daily "
            f"WHERE cube = 'faults' GROUP BY {_month_sql(dialect, 'day')}, department_id, area, "
            "fault_type HAVING SUM(n) <> 0")


def _survey_statements(session: Session, day, cols: str) -> list[str]:
    """The satisfaction cube from the done callbacks. The scores are judged against the
    threshold of the callback settings now (a survey's result is the one it was given)."""
    from ticketing.callbacks.models import CallbackSettings
    from ticketing.callbacks.operations import DEFAULTS, SETTINGS_ID
    threshold = int(session.scalar(select(CallbackSettings.threshold).where(
        CallbackSettings.id == SETTINGS_ID)) or DEFAULTS["threshold"])
    common = (f"INSERT INTO report_daily ({cols}) SELECT 'satisfaction', {day('c.done_at')}, "
              "COALESCE(c.department_id, 0), c.kind, '', '', '', '', '', ")
    source = ("FROM callbacks c WHERE c.status = 'done' AND c.result IS NOT NULL "
              "AND c.done_at IS NOT NULL GROUP BY 2, 3, 4")
    statements = [
        f"{common}'{dimension}', COUNT(*), SUM(c.{dimension}), COUNT(*), "
        f"SUM(CASE WHEN c.{dimension} >= {threshold} THEN 1 ELSE 0 END) {source}"
        for dimension in DIMENSIONS]
    statements.append(f"{common}'{RESULT}', COUNT(*), 0, COUNT(*), "
                      f"SUM(CASE WHEN c.result = 'satisfied' THEN 1 ELSE 0 END) {source}")
    return statements


def rebuild_rollups(session: Session | None = None) -> dict:
    """Recompute every rollup from tickets, history, SLA clocks and callback surveys (after an
    import, a bulk load or an upgrade). Flushes nothing of the ORM; the caller commits.
    Returns row counts."""
    session = session or db.session
    dialect = session.get_bind().dialect.name
    day = lambda column: _day_sql(dialect, column)  # noqa: E731
    if dialect == "postgresql":
        minutes = "EXTRACT(EPOCH FROM (x.at - x.created_at)) / 60"
    else:
        minutes = "(julianday(x.at) - julianday(x.created_at)) * 1440"
    session.execute(delete(ReportDaily))
    session.execute(delete(ReportTicketFact))
    cols = ", ".join(KEY_COLUMNS) + ", n, minutes, with_sla, met"
    statements = [
        "INSERT INTO report_ticket_facts (ticket_id, day, department_id, kind, state, channel, "
        "category, area, fault_type) "
        f"SELECT t.id, {day('t.created_at')}, COALESCE(t.department_id, 0), t.kind, t.state, "
        "t.channel, t.category, COALESCE(c.area, ''), COALESCE(t.fault_type, '') "
        "FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id",
        f"INSERT INTO report_daily ({cols}) SELECT 'summary', day, department_id, kind, state, "
        "'', '', '', '', '', COUNT(*), 0, 0, 0 FROM report_ticket_facts "
        "GROUP BY day, department_id, kind, state",
        f"INSERT INTO report_daily ({cols}) SELECT 'calls', day, department_id, kind, '', "
        "channel, category, '', '', '', COUNT(*), 0, 0, 0 FROM report_ticket_facts "
        "GROUP BY day, department_id, kind, channel, category",
        f"INSERT INTO report_daily ({cols}) SELECT 'faults', day, department_id, '', '', '', "
        "'', area, fault_type, '', COUNT(*), 0, 0, 0 FROM report_ticket_facts "
        "WHERE fault_type <> '' GROUP BY day, department_id, area, fault_type",
        f"INSERT INTO report_daily ({cols}) SELECT 'fault_days', day, department_id, '', '', "
        "'', '', '', fault_type, '', COUNT(*), 0, 0, 0 FROM report_ticket_facts "
        "WHERE fault_type <> '' GROUP BY day, department_id, fault_type",
        _fault_months_statement(dialect),
        f"INSERT INTO report_daily ({cols}) SELECT 'repairs', {day('x.at')}, x.department_id, "
        f"'', '', '', '', '', '', '', COUNT(*), SUM({minutes}), "
        "SUM(CASE WHEN x.due IS NULL THEN 0 ELSE 1 END), "
        "SUM(CASE WHEN x.due >= x.at THEN 1 ELSE 0 END) FROM ("
        "SELECT e.at, t.created_at, COALESCE(t.department_id, 0) AS department_id, "
        "(SELECT k.due_at FROM sla_clocks k WHERE k.ticket_id = e.ticket_id "
        "AND k.clock = 'resolution' AND k.started_at <= e.at "
        "AND (k.stopped_at IS NULL OR k.stopped_at >= e.at) ORDER BY k.id DESC LIMIT 1) AS due "
        "FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.event = 'report_repaired') x GROUP BY 2, 3",
        f"INSERT INTO report_daily ({cols}) SELECT 'sla', {day('k.stopped_at')}, "
        "COALESCE(k.department_id, 0), t.kind, '', '', '', '', '', k.clock, COUNT(*), "
        "SUM(k.business_minutes_used), COUNT(*), "
        "SUM(CASE WHEN k.breached THEN 0 ELSE 1 END) "
        "FROM sla_clocks k JOIN tickets t ON t.id = k.ticket_id "
        "WHERE k.stopped_at IS NOT NULL GROUP BY 2, 3, 4, 10",
        *_survey_statements(session, day, cols),
    ]
    for statement in statements:
        session.execute(text(statement))
    counts = {}
    for table in ("report_ticket_facts", "report_daily"):
        counts[table] = session.scalar(text(f"SELECT COUNT(*) FROM {table}"))
    return counts


# -- wiring (once per process) -------------------------------------------------------------

_connected = False


def connect_rollups() -> None:
    """Connect the signal receivers and session hooks; idempotent (create_app runs it)."""
    global _connected
    if _connected:
        return
    from ticketing.timers.models import SlaClock
    ticket_opened.connect(_on_ticket_opened, weak=False)
    tickets_transitioned.connect(_on_tickets_transitioned, weak=False)
    callback_surveyed.connect(_on_callback_surveyed, weak=False)
    event.listen(SlaClock.stopped_at, "set", _on_clock_stopped)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_soft_rollback", _forget)
    _connected = True
