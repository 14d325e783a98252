"""The dispatcher's board and a field team's queue: what they read, in a few indexed queries.

The board reads open repair work orders state by state through ix_tickets_state_created
(state, created_at, id): each state is one index range read oldest first, cut at the limit,
so its cost follows the board's size, not the number of tickets. Unassigned work orders
(repair_ordered: no team yet) are read first, so a full board never hides them."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime

from flask_babel import get_locale
from sqlalchemy import and_, func, select
from sqlalchemy.orm.util import identity_key

from ticketing.auth.models import Department, User
from ticketing.clock import utcnow
from ticketing.customers.models import Customer
from ticketing.dispatch.models import TeamArea
from ticketing.dispatch.operations import is_field_team, teams_serving
from ticketing.extensions import db
from ticketing.faults.labels import fault_labels
from ticketing.tickets.models import Ticket
from ticketing.timers.deadlines import Deadline, deadlines_for
from workflows.tickets import FIELD_TEAM_KINDS

# Open repair work orders, in the order the board reads them: unassigned first.
UNASSIGNED_STATE = "repair_ordered"
WORK_ORDER_STATES = (UNASSIGNED_STATE, "repair_dispatched", "repair_working")
# What a field team has in hand: sent to it, being worked on.
QUEUE_STATES = ("repair_dispatched", "repair_working")
BOARD_LIMIT, MAX_BOARD_LIMIT = 100, 1000
QUEUE_LIMIT = 500

_COLUMNS = (Ticket.id, Ticket.number, Ticket.version, Ticket.state, Ticket.priority,
            Ticket.fault_type, Ticket.created_at, Ticket.department_id, Ticket.assignee_id,
            Customer.area, Customer.name.label("customer_name"))


def _locale() -> str:
    locale = get_locale()
    return str(locale) if locale else "zh"


@dataclass
class WorkOrder:
    id: int
    number: str
    version: int
    state: str
    priority: str
    fault_type: str | None
    fault_type_label: str
    area: str | None
    customer_name: str
    created_at: datetime
    team: Department | None
    assignee: User | None
    deadline: Deadline | None
    kind: str = "repair"

    @property
    def unassigned(self) -> bool:
        return self.state == UNASSIGNED_STATE

    @property
    def sla(self) -> str | None:
        return self.deadline.state if self.deadline else None

    def sort_key(self):
        due = self.deadline.due_at.timestamp() if self.deadline else float("inf")
        return (not self.unassigned, due, self.created_at, self.id)


@dataclass
class Group:
    area: str | None
    fault_type: str | None
    fault_type_label: str
    items: list[WorkOrder] = field(default_factory=list)
    serving_team_ids: list[int] = field(default_factory=list)

    @cached_property
    def unassigned(self) -> int:
        """Asked by the sort and each row's template: counted once, after grouping."""
        return sum(1 for item in self.items if item.unassigned)


@dataclass
class Team:
    id: int
    code: str
    name: str
    areas: list[str]
    members: list[User]


@dataclass
class Board:
    groups: list[Group]
    counts: dict[str, int]
    shown: int
    teams: list[Team]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def truncated(self) -> bool:
        return self.shown < self.total


# One count per state, in one statement: each is an index-only range count; grouping the
# three ranges together made PostgreSQL sort and aggregate 43,708 entries (7-9 ms, 3-5 ms so).
_COUNTS = select(*(select(func.count()).select_from(Ticket).where(Ticket.state == state)
                   .scalar_subquery() for state in WORK_ORDER_STATES))


_TEAMS = (select(Department, User, TeamArea.area)
          .outerjoin(User, and_(User.department_id == Department.id, User.active.is_(True)))
          .outerjoin(TeamArea, TeamArea.department_id == Department.id)
          .where(Department.kind.in_(FIELD_TEAM_KINDS), Department.active.is_(True))
          # The database's order, kept by first appearance: areas as areas_of reads them,
          # members as members_of does.
          .order_by(Department.id, TeamArea.area, User.full_name, User.username))


def teams_with_members() -> list[Team]:
    locale = _locale()
    # One statement for the teams, their active members and their areas (three round trips
    # were a tenth of the board page on PostgreSQL); the rows repeat a team per member ×
    # area, which for field teams is a few dozen.
    teams: dict[int, Department] = {}
    members: dict[int, dict[int, User]] = {}
    areas: dict[int, dict[str, None]] = {}
    for team, member, area in db.session.execute(_TEAMS):
        teams.setdefault(team.id, team)
        if member is not None:
            members.setdefault(team.id, {})[member.id] = member
        if area is not None:
            areas.setdefault(team.id, {})[area] = None
    return [Team(t.id, t.code, t.display_name(locale), list(areas.get(t.id, {})),
                 list(members.get(t.id, {}).values())) for t in teams.values()]


def _loaded(model, ids: set[int]) -> dict:
    """{id: row}: those the session holds already (the board loads the field teams and their
    members first, and work orders are mostly theirs), the rest in one query."""
    found = {}
    for id_ in ids:
        row = db.session.identity_map.get(identity_key(model, id_))
        if row is not None:
            found[id_] = row
    missing = ids - found.keys()
    if missing:
        found.update((row.id, row) for row in db.session.scalars(
            select(model).where(model.id.in_(sorted(missing)))))
    return found


def _work_orders(rows, now: datetime) -> list[WorkOrder]:
    """Rows of _COLUMNS as work orders with their team, technician and nearest deadline."""
    if not rows:
        return []
    # An unassigned work order shows no team (its department is the repair desk's).
    departments = _loaded(Department, {r.department_id for r in rows if r.department_id
                                       and r.state != UNASSIGNED_STATE})
    users = _loaded(User, {r.assignee_id for r in rows if r.assignee_id})
    deadlines = deadlines_for([r.id for r in rows], now)
    faults = fault_labels()
    return [WorkOrder(r.id, r.number, r.version, r.state, r.priority, r.fault_type,
                      faults.get(r.fault_type, r.fault_type) if r.fault_type else "",
                      r.area, r.customer_name or "", r.created_at,
                      departments.get(r.department_id) if r.state != UNASSIGNED_STATE
                      else None, users.get(r.assignee_id), deadlines.get(r.id))
            for r in rows]


def board(limit: int = BOARD_LIMIT, now: datetime | None = None) -> Board:
    """Open repair work orders grouped by customer area and fault type; groups with
    unassigned work first, then by area and fault; in a group, unassigned first, then
    nearest deadline."""
    now = now or utcnow()
    limit = max(1, min(int(limit), MAX_BOARD_LIMIT))
    rows = []
    for state in WORK_ORDER_STATES:
        if len(rows) >= limit:
            break
        rows.extend(db.session.execute(
            select(*_COLUMNS).outerjoin(Customer, Customer.id == Ticket.customer_id)
            .where(Ticket.state == state).order_by(Ticket.created_at, Ticket.id)
            .limit(limit - len(rows))).all())
    counts = dict(zip(WORK_ORDER_STATES, db.session.execute(_COUNTS).one()))
    teams = teams_with_members()
    team_areas = {t.id: t.areas for t in teams}
    groups: dict[tuple, Group] = {}
    for order in _work_orders(rows, now):
        key = (order.area or "", order.fault_type or "")
        if key not in groups:
            groups[key] = Group(order.area, order.fault_type, order.fault_type_label,
                                serving_team_ids=teams_serving(order.area, team_areas))
        groups[key].items.append(order)
    for group in groups.values():
        group.items.sort(key=WorkOrder.sort_key)
    ordered = sorted(groups.values(), key=lambda g: (g.unassigned == 0, g.area or "\uffff",
                                                      g.fault_type_label or "\uffff"))
    return Board(ordered, counts, len(rows), teams)


def team_of(user) -> Department | None:
    """The field team the user belongs to, or None."""
    department = user.department if user.department_id else None
    return department if is_field_team(department) else None


def team_queue(team: Department, now: datetime | None = None) -> list[tuple[Ticket, Deadline]]:
    """The team's work orders (sent to it, being worked on): to accept first, then by
    nearest deadline."""
    now = now or utcnow()
    tickets = list(db.session.scalars(
        select(Ticket).where(Ticket.department_id == team.id,
                             Ticket.state.in_(QUEUE_STATES))
        .order_by(Ticket.created_at, Ticket.id).limit(QUEUE_LIMIT)).unique())
    deadlines = deadlines_for([t.id for t in tickets], now)

    def key(ticket):
        deadline = deadlines.get(ticket.id)
        return (ticket.state != "repair_dispatched",
                deadline.due_at.timestamp() if deadline else float("inf"), ticket.id)

    return [(t, deadlines.get(t.id)) for t in sorted(tickets, key=key)]
