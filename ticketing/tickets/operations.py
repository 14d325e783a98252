"""Ticket operations: open a ticket, fire a workflow event. They flush, never commit: the
request, CLI command or timer that calls them commits once, so the state change, its history
row and the timers set by signal receivers commit together or not at all."""
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import String, bindparam, cast, func, insert, literal, select
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value

from ticketing.auth.models import Department, User
from ticketing.auth.departments import department_id_of, kept_department
from ticketing.errors import InvalidInput
from ticketing.clock import utcnow
from ticketing.dbsetup import as_loaded, insert_rows
from ticketing.customers.models import Customer
from ticketing.customers.operations import normalise_phone
from ticketing.errors import Conflict
from ticketing.extensions import db
from ticketing.signals import ticket_opened, tickets_transitioned
from ticketing.tickets.models import CHANNELS, PRIORITIES, Ticket, TicketEvent
from ticketing.wiring import wiring
from workflows.errors import EventNotAllowed, UnknownEvent
from workflows.machine import ticket_workflow
from workflows.tickets import EVENTS, INITIAL_STATE, KINDS, kind_of_state, responded

# Where each kind of ticket is handled first (SPEC §2): consults by operations, repairs
# by dispatch, complaints by inspection. Department codes are reference data.
FIRST_DEPARTMENT = {"consult": "operations", "repair": "dispatch", "complaint": "inspection"}
TEXT_LIMIT = 4000
VIP_PRIORITY = "high"  # the least priority a VIP customer's ticket gets


def open_ticket(actor, *, kind: str, channel: str = "phone", priority: str = "normal",
                customer_id: int | None = None, caller_phone: str = "", caller_name: str = "",
                category: str = "", title: str = "", description: str = "") -> Ticket:
    """A call becomes a ticket in the `new` sub-state of its kind."""
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = [_("Choose consult, repair or complaint.")]
    if channel not in CHANNELS:
        errors["channel"] = [_("Unknown channel.")]
    if priority not in PRIORITIES:
        errors["priority"] = [_("Unknown priority.")]
    customer = None
    if customer_id is not None:
        customer = db.session.get(Customer, customer_id)
        if customer is None:
            errors["customer_id"] = [_("No such customer.")]
    phone = ""
    if caller_phone:
        phone = normalise_phone(caller_phone) or ""
        if not phone:
            errors["caller_phone"] = [_("Not a phone number: %(value)s", value=caller_phone)]
    if customer is None and not caller_phone and "customer_id" not in errors:
        errors["customer_id"] = [_("Give the customer or the caller's phone number.")]
    if not (description or "").strip():
        errors["description"] = [_("Describe the caller's request.")]
    for name, value, limit in (("description", description, TEXT_LIMIT), ("title", title, 200),
                               ("category", category, 60), ("caller_name", caller_name, 100)):
        if len(value or "") > limit:
            errors[name] = [_("At most %(n)d characters.", n=limit)]
    if errors:
        raise InvalidInput(errors)
    if customer is not None and customer.is_vip and \
            PRIORITIES.index(priority) < PRIORITIES.index(VIP_PRIORITY):
        priority = VIP_PRIORITY  # key accounts take the priority channel (SPEC §7)
    now = utcnow()
    department_id = department_id_of(FIRST_DEPARTMENT[kind])
    department = kept_department(department_id) if department_id else None
    actor_id = getattr(actor, "id", None)
    values = dict(
        kind=kind, state=INITIAL_STATE[kind], priority=priority, channel=channel,
        customer_id=customer.id if customer is not None else None,
        caller_phone=phone or (customer.phone_numbers[0] if customer and customer.phones
                               else ""),
        caller_name=(caller_name or (customer.name if customer else "")).strip(),
        category=(category or "").strip(), title=(title or "").strip(),
        description=description.strip(),
        department_id=department_id,
        created_by_id=actor_id, created_at=now, updated_at=now, **_NEW_TICKET_DEFAULTS)
    ticket = _insert_ticket(values, now, note=values["description"][:500],
                            data={"kind": kind, "channel": channel})
    set_committed_value(ticket, "customer", customer)
    set_committed_value(ticket, "department", department)
    set_committed_value(ticket, "assignee", None)
    if actor_id is None or (isinstance(actor, User) and object_session(actor) is db.session()):
        set_committed_value(ticket, "created_by", actor if actor_id is not None else None)
    ticket_opened.send(ticket, actor=actor, at=now)
    db.session.flush()
    return ticket


# A new ticket's columns besides those open_ticket sets: all are given, so that the object
# stands for the row as inserted (an omitted one would be read back on first use).
_NEW_TICKET_DEFAULTS = dict(
    fault_type=None, assignee_id=None, first_response_at=None, customer_verified_at=None,
    suspended_from=None, suspended_at=None, suspension_approved=False, closed_at=None,
    incident_ref=None, handling_note="", receipt_person="", customer_satisfaction=None,
    reopen_count=0, version=1)
_INSERT_HISTORY = TicketEvent.__table__.insert()
_NEW_TICKET_ROW: dict = {}


def _insert_ticket(values: dict, now, *, note: str, data: dict) -> Ticket:
    """Insert the ticket's row and its first history row ("open": `note`, `data`), then take
    the object into the session as that row (no ORM flush: it cost more than the rest of
    opening a ticket). One statement on PostgreSQL, where each round trip counts; two on
    SQLite.

    Numbers read like the seed's: GD + the day + the id in at least seven digits, unique
    because the id is. The database makes the number in the INSERT itself, where the id is
    known: no second statement, and a new ticket is version 1."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    stmt = _NEW_TICKET_ROW.get(dialect)
    if stmt is None:
        stmt = _NEW_TICKET_ROW[dialect] = _ticket_row_statement(dialect, tuple(values))
    first = dict(at=now, actor_id=values["created_by_id"], event="open", from_state=None,
                 to_state=values["state"], note=note, data=data)
    params = {**values, "day": f"{now:%Y%m%d}"}
    if dialect == "postgresql":
        params.update({f"first_{key}": value for key, value in first.items()})
    ticket_id, number = connection.execute(stmt, params).one()
    if dialect != "postgresql":
        connection.execute(_INSERT_HISTORY, {"ticket_id": ticket_id, **first})
    return as_loaded(Ticket, {"id": ticket_id, "number": number, **values})


def _ticket_row_statement(dialect: str, keys: tuple):
    table = Ticket.__table__
    day = bindparam("day", type_=String)
    if dialect == "postgresql":
        # The id drawn from the column's sequence once, in a subquery, and used twice.
        new = select(func.nextval("tickets_id_seq").label("id")).subquery("new_id")
        digits = cast(new.c.id, String)
        number = literal("GD", String) + day + func.lpad(
            digits, func.greatest(7, func.length(digits)), "0")
        columns = [cast(bindparam(key), table.c[key].type) for key in keys]
        ticket = insert(table).from_select(
            ["id", "number", *keys], select(new.c.id, number, *columns)).returning(
            table.c.id, table.c.number).cte("new_ticket")
        events = TicketEvent.__table__
        first = ("at", "actor_id", "event", "from_state", "to_state", "note", "data")
        history = insert(events).from_select(
            ["ticket_id", *first],
            select(ticket.c.id, *(cast(bindparam(f"first_{key}", type_=events.c[key].type),
                                       events.c[key].type) for key in first))).cte("first_event")
        return select(ticket.c.id, ticket.c.number).add_cte(history)
    # SQLite gives a new row the largest id plus one (an INTEGER PRIMARY KEY without
    # AUTOINCREMENT), read here under the write lock the INSERT holds.
    next_id = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
    number = literal("GD", String) + day + func.printf("%07d", next_id)
    return insert(table).values(
        {"number": number, **{key: bindparam(key, type_=table.c[key].type) for key in keys}}
    ).returning(table.c.id, table.c.number)


def event_text_limit(name: str) -> int:
    """How long an event's text field may be: its ticket column's length, else TEXT_LIMIT."""
    column = Ticket.__table__.columns.get(name)
    return getattr(getattr(column, "type", None), "length", None) or TEXT_LIMIT


def _clean_fields(event: str, raw: dict) -> dict:
    """Type-check the event's fields (the workflow's guards check presence and ranges)."""
    spec = EVENTS[event]["fields"]
    errors: dict[str, list[str]] = {}
    clean = {}
    unknown = sorted(set(raw) - set(spec))
    for name in unknown:
        errors[name] = [_("This action takes no field %(name)s.", name=name)]
    for name, meta in spec.items():
        value = raw.get(name)
        if value in (None, ""):
            continue
        kind = meta["type"]
        if kind == "text":
            value = str(value).strip()
            # fault_type, incident_ref, receipt_person land in shorter columns than notes.
            if len(value) > event_text_limit(name):
                errors[name] = [_("At most %(n)d characters.", n=event_text_limit(name))]
                continue
            # A list kept as data (fault categories): only what may be chosen now.
            codes = _choice_codes(meta["choices"]) if meta.get("choices") else None
            if codes is not None and value not in codes:
                errors[name] = [_("Choose one of the listed values (%(codes)s).",
                                  codes=", ".join(codes))]
                continue
        elif kind in ("int", "department", "user"):
            try:
                value = int(value)
            except (TypeError, ValueError):
                errors[name] = [_("Give a whole number.")]
                continue
            if kind == "department":
                dept = db.session.get(Department, value)
                if dept is None or not dept.active:
                    errors[name] = [_("No such department.")]
                    continue
                if meta.get("kinds") and dept.kind not in meta["kinds"]:
                    errors[name] = [_("%(department)s is not a field team.",
                                      department=dept.name)]
                    continue
            if kind == "user":
                user = db.session.get(User, value)
                if user is None or not user.active:
                    errors[name] = [_("No such user.")]
                    continue
                team = raw.get(meta.get("member_of") or "")
                if team not in (None, "") and str(user.department_id) != str(team).strip():
                    errors[name] = [_("%(user)s is not a member of the chosen team.",
                                      user=user.display_name)]
                    continue
        elif kind == "kind":
            value = str(value)
            if value not in KINDS:
                errors[name] = [_("Choose consult, repair or complaint.")]
                continue
        clean[name] = value
    if errors:
        raise InvalidInput(errors)
    return clean


def _choice_codes(choices: str) -> list[str]:
    return [code for code, _label in wiring().field_choices[choices]()]


def _department_for(rule: str, ticket: Ticket, fields: dict) -> int | None:
    """An effect's department: a field, "@<code>" or the first department of the kind."""
    if rule.startswith("field:"):
        return fields[rule[6:]]
    code = rule[1:] if rule.startswith("@") else FIRST_DEPARTMENT[ticket.kind]
    # No autoflush: a half-applied transition flushed here would bump the version twice.
    with db.session.no_autoflush:
        department_id = department_id_of(code)
    return department_id if department_id is not None else ticket.department_id


def _value_for(source: str, fields: dict, now, current):
    if source.startswith("field:"):
        return fields.get(source[6:], current)
    if source == "increment":  # only here: `current` may be a time ("now" sets it again)
        return (current or 0) + 1
    return {"now": now, "true": True}[source]


def _apply_effects(ticket: Ticket, effects: dict, fields: dict, actor, now) -> None:
    """What the event's data says it records on the ticket besides its state (see
    workflows.tickets._rule), then what every transition records about where it now is."""
    for column, source in effects.get("set", {}).items():
        setattr(ticket, column, _value_for(source, fields, now, getattr(ticket, column)))
    if "kind" in effects:
        ticket.kind = _value_for(effects["kind"], fields, now, ticket.kind)
    if "department" in effects:
        ticket.department_id = _department_for(effects["department"], ticket, fields)
    if "assignee" in effects:
        rule = effects["assignee"]
        ticket.assignee_id = (getattr(actor, "id", None) if rule == "actor"
                              else fields.get(rule[6:]) if rule else None)
    if ticket.state == "suspended":
        ticket.suspended_at = ticket.suspended_at or now
    else:
        ticket.suspended_from = None
        ticket.suspended_at = None
        ticket.suspension_approved = False
    ticket.closed_at = now if ticket.state == "closed" else None
    if ticket.state != "suspended" and kind_of_state(ticket.state):
        ticket.kind = kind_of_state(ticket.state)


def stale_ticket(ticket: Ticket) -> Conflict:
    """409 for a change based on an old read, with the fresh state to reload from."""
    return Conflict("stale_version",
                    _("Someone else changed this ticket after you opened it; it is shown as "
                      "it is now."),
                    current_version=ticket.version, state=ticket.state)


class Transition(NamedTuple):
    """One ticket's part in a batch of the same event (see signals.tickets_transitioned)."""
    ticket: Ticket
    from_state: str
    to_state: str
    history: TicketEvent


def fire_event(actor, ticket: Ticket, event: str, fields: dict | None = None,
               expected_version: int | None = None, system: bool = False,
               links: dict | None = None) -> TicketEvent:
    """Apply one workflow event: validate, change state, record history, notify receivers.

    `links`: what caused the event (e.g. {"callback_id": ...} for a reopening by a callback
    survey), kept in the history row's data (history rows are append-only: it is now or never).

    Raises InvalidInput (400), Conflict (409 stale version), EventNotAllowed / GuardRefused
    (409, from the machine); on any of them nothing has changed.
    """
    if expected_version is not None and expected_version != ticket.version:
        raise stale_ticket(ticket)
    return fire_events(actor, [ticket], event, fields, system=system, links=links)[0]


def fire_events(actor, tickets: list[Ticket], event: str, fields: dict | None = None,
                system: bool = False, links: dict | None = None) -> list[TicketEvent]:
    """The same event with the same fields on many tickets (an incident's release), in one
    flush and one signal: each ticket is checked by the machine first, and if any refuses,
    nothing has changed. Returns the history rows, in the order of `tickets`."""
    if event not in EVENTS:
        raise UnknownEvent(event)
    for ticket in tickets:
        allowed = ticket_workflow.allowed_events(ticket.state)
        if event not in allowed:
            # Before the fields: an event the state refuses is a 409 naming the state
            # (SPEC §2), whatever its fields say.
            raise EventNotAllowed(ticket.state, event, allowed)
    clean = _clean_fields(event, fields or {})
    if not tickets:
        return []
    now = utcnow()
    effects = EVENTS[event]["effects"]
    note = clean.get("note") or clean.get("reason") or ""
    data = ({k: v for k, v in clean.items() if k != "note"} | ({"system": True} if system else {})
            | (links or {}))
    # Every ticket's guards are asked before the first one changes.
    outcomes = ticket_workflow.outcomes(tickets, event, **clean)
    transitions = []
    for ticket, outcome in zip(tickets, outcomes):
        from_state = ticket.state
        ticket_workflow.apply(ticket, outcome)
        to_state = ticket.state
        _apply_effects(ticket, effects, clean, actor, now)
        if responded(from_state, to_state, event) and ticket.first_response_at is None:
            ticket.first_response_at = now
        ticket.updated_at = now
        history = TicketEvent(ticket_id=ticket.id, at=now, actor_id=getattr(actor, "id", None),
                              event=event, from_state=from_state, to_state=to_state, note=note,
                              data=dict(data))
        db.session.add(history)
        transitions.append(Transition(ticket, from_state, to_state, history))
    db.session.flush()  # the version check happens here: a concurrent change raises
    tickets_transitioned.send(event, actor=actor, at=now, fields=clean,
                              transitions=transitions)
    return [t.history for t in transitions]


def record_system_notes(notes, at) -> None:
    """History rows the system writes without a state change (SLA warnings, escalations):
    (ticket, event, data) each, where `ticket` has .id and .state. The row's text is not
    stored: its event and data are rendered in the reader's language (see
    tickets.labels.history_note). Does not bump the tickets' versions. One INSERT for all
    (COPY on PostgreSQL: the fast path of a sweep batch)."""
    insert_rows(TicketEvent.__table__, [
        {"ticket_id": ticket.id, "at": at, "actor_id": None, "event": event,
         "from_state": ticket.state, "to_state": ticket.state, "note": "", "data": data}
        for ticket, event, data in notes])
