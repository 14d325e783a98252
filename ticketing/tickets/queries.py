"""Reading tickets: what a user may see, filtered lists with keyset paging, caller lookups.

Shared by the API and the pages. Every list is one indexed query with a LIMIT: nothing here
loads all rows. Pages are ordered newest first by (created_at, id), which the index
ix_tickets_created serves in both directions.
"""
import base64
import binascii
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import Select, and_, false, or_, select, union

from ticketing.auth.models import Department, User
from ticketing.errors import InvalidInput
from ticketing.clock import utcnow
from ticketing.customers.models import Customer
from ticketing.extensions import db
from ticketing.search.index import list_text_clause, newest_matches
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import handled_clause, visibility_clause
from workflows.tickets import DISPLAY_STATUS, KINDS, LEAVES, display_status, kind_of_state

QUEUES = ("mine", "department", "unassigned", "open", "handled")
STATUSES = tuple(dict.fromkeys(DISPLAY_STATUS.values()))
# A state filter takes a leaf (repair_working) or a kind's top-level state (repair).
STATE_FILTERS = LEAVES + KINDS
MAX_LIMIT = 200
TEXT_LIMIT = 100


def visible_tickets(user) -> Select:
    """`select(Ticket)` restricted to the tickets `user` may see (see can_view_ticket)."""
    return select(Ticket).where(visibility_clause(user))


def encode_cursor(ticket: Ticket) -> str:
    raw = f"{ticket.created_at.isoformat()}|{ticket.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """(created_at, id) of the last row of the previous page; InvalidInput when malformed."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        at, _sep, ticket_id = raw.rpartition("|")
        created_at = datetime.fromisoformat(at)
        if created_at.tzinfo is None:
            raise ValueError("naive time")
        return created_at, int(ticket_id)
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise InvalidInput({"cursor": [_("This cursor is not valid; start from the first "
                                         "page.")]}) from None


def _states_for(state: str) -> list[str]:
    if state in KINDS:
        return [leaf for leaf in LEAVES if kind_of_state(leaf) == state]
    return [state]


def _check_choices(**given) -> None:
    choices = {"kind": KINDS, "state": STATE_FILTERS, "status": STATUSES, "queue": QUEUES}
    errors = {name: [_("Not a valid choice.")] for name, value in given.items()
              if value is not None and value not in choices[name]}
    if errors:
        raise InvalidInput(errors)


class _Ref:
    """A customer, department or user as a list row shows it (plain attributes)."""

    __slots__ = ("id", "name", "account_no", "tier", "code", "name_en", "username",
                 "full_name")

    def __init__(self, **values):
        for key, value in values.items():
            setattr(self, key, value)

    def display_name(self, locale: str | None) -> str:  # a department's, as Department's
        return self.name_en if (locale or "").startswith("en") and self.name_en else self.name


class _UserRef(_Ref):
    __slots__ = ()

    @property
    def display_name(self) -> str:  # as User.display_name
        return self.full_name or self.username


class TicketRow:
    """One ticket of a list, read as plain columns: the Ticket's column attributes plus
    customer, department, assignee and created_by (each None or a plain reference)."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    @property
    def status(self) -> str:
        return display_status(self.state)


_TICKET_COLUMNS = tuple(Ticket.__table__.columns)
_TICKET_NAMES = tuple(column.key for column in _TICKET_COLUMNS)
_CUSTOMER_FIELDS = ("id", "name", "account_no", "tier")
_CUSTOMER_COLUMNS = tuple(Customer.__table__.c[field] for field in _CUSTOMER_FIELDS)
# Departments and users: few distinct ones per page, read in one small query per table by
# id rather than joined (a four-way outer join cost PostgreSQL more to plan than to run).
# Customers differ on every row: those are joined.
_REF_TABLES = (  # (table, columns, class, [(ticket attribute, foreign key column)])
    (Department.__table__, ("id", "code", "name", "name_en"), _Ref,
     [("department", "department_id")]),
    (User.__table__, ("id", "username", "full_name"), _UserRef,
     [("assignee", "assignee_id"), ("created_by", "created_by_id")]),
)


def ticket_rows(user, order: str = "newest", **filters):
    """One page of the tickets `user` may see, newest first: (rows, next_cursor or None).
    order="deadline": the tickets with a running SLA clock, nearest deadline first (the
    most urgent `limit` of them; no next page).

    Filters: kind, state, status, department_id, assignee_id, customer_id, ids, priority,
    channel, category, fault_type (exact), text,
    created_from (inclusive), created_to (exclusive; naive datetimes are read as UTC), queue,
    cursor, limit. `text` is a full-text match (ticketing.search: Chinese by character
    bigrams, other words whole) over number, title, caller, description, notes and the
    customer's name, account number and address; every word must match. Raises InvalidInput
    for an unknown choice, a text over TEXT_LIMIT characters or a malformed cursor.

    Rows are plain TicketRow objects: one query of the tickets' columns with their
    customers, then one per referenced table (departments, users) for the ids on the page.
    No ORM identity map, no per-row relationship or role loads."""
    connection = db.session.connection()  # plain Core selects: skip the ORM execution layer
    if order == "deadline":
        values, limit = _page_values(connection, *_nearest_deadline_first(
            *_list_conditions(user, **{**filters, "cursor": None})))
    else:
        values, limit = _newest_page(connection, user, filters)
    next_cursor = None
    if len(values) > limit:
        values = values[:limit]
        if order != "deadline":  # the most urgent page only: no paging by deadline
            next_cursor = encode_cursor(TicketRow(values[-1]))
    for table, fields, cls, links in _REF_TABLES:
        ids = {row[key] for row in values for _name, key in links} - {None}
        found = {}
        if ids:
            columns = [table.c[field] for field in fields]
            found = {row[0]: cls(**dict(zip(fields, row))) for row in connection.execute(
                select(*columns).where(table.c.id.in_(sorted(ids))))}
        for row in values:
            for name, key in links:
                row[name] = found.get(row[key])
    return [TicketRow(row) for row in values], next_cursor


def _page_values(connection, source, conditions, order_by, limit) -> tuple[list, int]:
    """(the first limit + 1 rows as dicts with their customer, limit)."""
    customers = Customer.__table__
    stmt = (select(*_TICKET_COLUMNS, *_CUSTOMER_COLUMNS)
            .select_from(source.outerjoin(customers, customers.c.id == Ticket.customer_id))
            .where(*conditions).order_by(*order_by).limit(limit + 1))
    width = len(_TICKET_NAMES)
    values = []
    for row in connection.execute(stmt):
        value = dict(zip(_TICKET_NAMES, row))
        value["customer"] = None if row[width] is None else _Ref(
            **dict(zip(_CUSTOMER_FIELDS, row[width:])))
        values.append(value)
    return values, limit


def _newest_page(connection, user, filters: dict) -> tuple[list, int]:
    """_page_values of a newest-first page. A text filter on PostgreSQL reads its matches
    a window of recent tickets at a time (ticketing.search.index.newest_matches: a page of
    50 usually fills in the first)."""
    def page(since=None):
        return _page_values(connection, *_newest_first(*_list_conditions(
            user, text_since=since, **filters)))

    text = filters.get("text")
    if connection.dialect.name != "postgresql" or not (text and text.strip()):
        return page()
    newest_id = None
    if filters.get("cursor"):
        try:
            newest_id = decode_cursor(filters["cursor"])[1]
        except InvalidInput:
            return page()  # which says what is wrong with it
    limit = _page_limit(filters.get("limit", 50))
    return newest_matches(connection, limit + 1, lambda since: page(since)[0],
                          newest_id), limit


def list_conditions(user, **filters) -> list:
    """WHERE clauses of a ticket list with ticket_rows' filters (no queue, no cursor), for a
    read that is not one page: the ticket report's CSV export."""
    if filters.get("queue") or filters.get("cursor"):
        raise ValueError("list_conditions takes no queue or cursor")
    return _list_conditions(user, **filters)[0]


def _list_conditions(user, *, kind=None, state=None, status=None, department_id=None,
                     assignee_id=None, customer_id=None, text=None, created_from=None,
                     created_to=None, queue=None, cursor=None, limit=50, ids=None,
                     priority=None, channel=None, category=None, fault_type=None,
                     awaiting_approval=False, text_since=None):
    """(WHERE clauses, branches, limit) of a ticket list; see ticket_rows and
    _newest_first for the branches."""
    # An empty form field means "any".
    kind, state, status, queue = (value or None for value in (kind, state, status, queue))
    _check_choices(kind=kind, state=state, status=status, queue=queue)
    limit = _page_limit(limit)
    created_from, created_to = _aware(created_from), _aware(created_to)
    where = [visibility_clause(user)]
    if kind is not None:
        where.append(Ticket.kind == kind)
    if state is not None:
        where.append(Ticket.state.in_(_states_for(state)))
    if status is not None:
        where.append(Ticket.state.in_(
            [leaf for leaf, shown in DISPLAY_STATUS.items() if shown == status]))
    if awaiting_approval:  # suspensions nobody has approved yet
        where += [Ticket.state == "suspended", Ticket.suspension_approved.is_(False)]
    if department_id is not None:
        where.append(Ticket.department_id == department_id)
    if assignee_id is not None:
        where.append(Ticket.assignee_id == assignee_id)
    if customer_id is not None:
        where.append(Ticket.customer_id == customer_id)
    if ids is not None:
        where.append(Ticket.id.in_(list(ids)))
    for column, value in ((Ticket.priority, priority), (Ticket.channel, channel),
                          (Ticket.category, category), (Ticket.fault_type, fault_type)):
        if value:  # exact values (the ticket report's filters)
            where.append(column == value)
    if text is not None and text.strip():
        where.append(_text_match(text.strip(), text_since))
        if text_since is not None:  # the same window on the tickets' side, for the planner
            where.append(Ticket.created_at >= text_since)
    if created_from is not None:
        where.append(Ticket.created_at >= created_from)
    if created_to is not None:
        where.append(Ticket.created_at < created_to)
    queue_where, branches = _queue(user, queue)
    where += queue_where
    if cursor:
        at, last_id = decode_cursor(cursor)
        # The <= bound is what an index range scan uses; the OR breaks ties on the same time.
        where.append(and_(Ticket.created_at <= at,
                          or_(Ticket.created_at < at, Ticket.id < last_id)))
    return where, branches, limit


def _page_limit(limit) -> int:
    try:
        return max(1, min(int(limit), MAX_LIMIT))
    except (TypeError, ValueError):
        raise InvalidInput({"limit": [_("Give a whole number.")]}) from None


def _text_match(text: str, since=None):
    """The tickets whose indexed text (ticket, notes, customer: see ticketing.search)
    holds every word of `text`, created at or after `since` when given (PostgreSQL);
    nothing when it holds no searchable word."""
    if len(text) > TEXT_LIMIT:
        raise InvalidInput({"text": [_("At most %(n)d characters.", n=TEXT_LIMIT)]})
    clause = list_text_clause(db.session.connection(), text, Ticket.id, since=since)
    return false() if clause is None else clause


def _newest_first(where: list, branches: list | None, limit: int):
    """(FROM, WHERE, ORDER BY, limit) of one page, newest first by (created_at, id).

    Without branches: tickets filtered by `where`, read backwards along an index that
    starts with the equality filters and ends with (created_at, id). With branches (lists
    of further conditions, any of which selects a ticket: "assigned to me, or opened by me
    and still open"), an OR would defeat those indexes (the database walks every ticket
    newest first and filters), so each branch takes its own first limit + 1 rows along its
    own index and the page is the newest of those few.
    """
    newest = (Ticket.created_at.desc(), Ticket.id.desc())
    if not branches:
        return Ticket.__table__, where, newest, limit
    firsts = [select(Ticket.id, Ticket.created_at).where(*where, *extra)
              .order_by(*newest).limit(limit + 1).subquery() for extra in branches]
    picked = union(*(select(first.c.id, first.c.created_at) for first in firsts)
                   ).subquery("picked")
    return (picked.join(Ticket.__table__, Ticket.id == picked.c.id), [],
            (picked.c.created_at.desc(), picked.c.id.desc()), limit)


def _nearest_deadline_first(where: list, branches: list | None, limit: int):
    """(FROM, WHERE, ORDER BY, limit): tickets with a running clock, nearest due first."""
    from ticketing.timers.deadlines import running_deadline_order
    deadlines = running_deadline_order()
    if branches:
        where = where + [or_(*(and_(*branch) for branch in branches))]
    return (Ticket.__table__.join(deadlines, deadlines.c.ticket_id == Ticket.id), where,
            (deadlines.c.due_at, Ticket.id), limit)


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=timezone.utc) if at is not None and at.tzinfo is None else at


def _queue(user, queue: str | None) -> tuple[list, list | None]:
    """(WHERE clauses, branches or None) of a queue; see _newest_first."""
    if queue == "mine":  # assigned to me, or opened by me and still open (agents, dispatchers)
        return [], [[Ticket.assignee_id == user.id],
                    [Ticket.created_by_id == user.id, Ticket.state != "closed"]]
    if queue == "open":
        return [Ticket.state != "closed"], None
    if queue == "handled":  # tickets I acted on, wherever they are now
        return [handled_clause(user)], None
    if queue in ("department", "unassigned"):
        if user.department_id is None:
            return [false()], None
        where = [Ticket.department_id == user.department_id]
        if queue == "unassigned":  # waiting for someone to take it: closed ones wait for nobody
            where += [Ticket.assignee_id.is_(None), Ticket.state != "closed"]
        return where, None
    return [], None


def department_holds_tickets(department_id: int) -> bool:
    """Whether any ticket is, or was last, in this department (one indexed lookup)."""
    return db.session.scalar(select(Ticket.id).where(Ticket.department_id == department_id)
                             .limit(1)) is not None


def open_tickets_for_caller(user, number: str, customer_ids, limit: int = 50) -> list[Ticket]:
    """Open tickets the user may see that this number called about or its customers have."""
    match = [Ticket.caller_phone == number]
    if customer_ids:
        match.append(Ticket.customer_id.in_(list(customer_ids)))
    stmt = (visible_tickets(user).where(Ticket.state != "closed", or_(*match))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit))
    return list(db.session.scalars(stmt).unique())


def is_repeat_caller(number: str, window_hours: float, now: datetime | None = None) -> bool:
    """Whether this number opened a ticket within the last `window_hours` (SPEC §7)."""
    since = (now or utcnow()) - timedelta(hours=window_hours)
    stmt = select(Ticket.id).where(Ticket.caller_phone == number,
                                   Ticket.created_at >= since).limit(1)
    return db.session.scalar(stmt) is not None
