"""Reading tickets: what a user may see, filtered lists with keyset paging, caller lookups.

Shared by the API and the pages. Every list is one indexed query with a LIMIT: nothing here
loads all rows. Pages are ordered newest first by (created_at, id), which the index
ix_tickets_created serves in both directions.
"""
import base64
import binascii
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import Select, and_, false, or_, select

from ticketing.auth.operations import InvalidInput
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import can_see_all_departments
from workflows.tickets import DISPLAY_STATUS, KINDS, LEAVES, kind_of_state

QUEUES = ("mine", "department", "unassigned", "open")
STATUSES = tuple(dict.fromkeys(DISPLAY_STATUS.values()))
# A state filter takes a leaf (repair_working) or a kind's top-level state (repair).
STATE_FILTERS = LEAVES + KINDS
MAX_LIMIT = 200
TEXT_LIMIT = 100


def visible_tickets(user) -> Select:
    """`select(Ticket)` restricted to the tickets `user` may see (see can_view_ticket)."""
    stmt = select(Ticket)
    if not getattr(user, "is_authenticated", False) or not user.can("tickets.view"):
        return stmt.where(false())
    if can_see_all_departments(user):
        return stmt
    theirs = [Ticket.assignee_id == user.id, Ticket.created_by_id == user.id]
    if user.department_id is not None:
        theirs.append(Ticket.department_id == user.department_id)
    return stmt.where(or_(*theirs))


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


def ticket_list(user, *, kind=None, state=None, status=None, department_id=None,
                assignee_id=None, customer_id=None, text=None, created_from=None,
                created_to=None, queue=None, cursor=None, limit=50):
    """One page of the tickets `user` may see, newest first: (rows, next_cursor or None).

    created_from is inclusive, created_to exclusive (naive datetimes are read as UTC).
    `text` matches description, title, number and caller phone anywhere (LIKE, with % and _
    taken literally). Raises InvalidInput for an unknown choice or a malformed cursor.
    """
    # An empty form field means "any".
    kind, state, status, queue = (value or None for value in (kind, state, status, queue))
    _check_choices(kind=kind, state=state, status=status, queue=queue)
    try:
        limit = max(1, min(int(limit), MAX_LIMIT))
    except (TypeError, ValueError):
        raise InvalidInput({"limit": [_("Give a whole number.")]}) from None
    created_from, created_to = _aware(created_from), _aware(created_to)
    stmt = visible_tickets(user)
    if kind is not None:
        stmt = stmt.where(Ticket.kind == kind)
    if state is not None:
        stmt = stmt.where(Ticket.state.in_(_states_for(state)))
    if status is not None:
        stmt = stmt.where(Ticket.state.in_(
            [leaf for leaf, shown in DISPLAY_STATUS.items() if shown == status]))
    if department_id is not None:
        stmt = stmt.where(Ticket.department_id == department_id)
    if assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == assignee_id)
    if customer_id is not None:
        stmt = stmt.where(Ticket.customer_id == customer_id)
    if text is not None and text.strip():
        needle = text.strip()[:TEXT_LIMIT]
        stmt = stmt.where(or_(*(column.icontains(needle, autoescape=True) for column in (
            Ticket.description, Ticket.title, Ticket.number, Ticket.caller_phone))))
    if created_from is not None:
        stmt = stmt.where(Ticket.created_at >= created_from)
    if created_to is not None:
        stmt = stmt.where(Ticket.created_at < created_to)
    stmt = _queue(stmt, user, queue)
    if cursor:
        at, last_id = decode_cursor(cursor)
        # The <= bound is what an index range scan uses; the OR breaks ties on the same time.
        stmt = stmt.where(and_(Ticket.created_at <= at,
                               or_(Ticket.created_at < at, Ticket.id < last_id)))
    stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit + 1)
    rows = list(db.session.scalars(stmt).unique())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=timezone.utc) if at is not None and at.tzinfo is None else at


def _queue(stmt: Select, user, queue: str | None) -> Select:
    if queue == "mine":  # assigned to me, or opened by me and still open (agents, dispatchers)
        return stmt.where(or_(Ticket.assignee_id == user.id,
                              and_(Ticket.created_by_id == user.id, Ticket.state != "closed")))
    if queue == "open":
        return stmt.where(Ticket.state != "closed")
    if queue in ("department", "unassigned"):
        if user.department_id is None:
            return stmt.where(false())
        stmt = stmt.where(Ticket.department_id == user.department_id)
        if queue == "unassigned":
            stmt = stmt.where(Ticket.assignee_id.is_(None))
    return stmt


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
