"""Pages: the agent's call screen, ticket page, queues, workflow drawing, home panels."""
from datetime import timezone

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from babel import dates as babel_dates
from flask_babel import format_datetime, get_locale, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ticketing.auth.models import Department, User
from ticketing.auth.permissions import forbidden, permission_required
from ticketing.customers.models import Customer
from ticketing.customers.operations import customers_by_phone, normalise_phone
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.tickets import labels, queries
from ticketing.tickets.forms import NewTicketForm, choice, event_form
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import fire_event, open_ticket
from ticketing.tickets.permissions import (allowed_events_for, can_fire_event, can_open_ticket,
                                           can_see_all_departments, can_view_ticket)
from ticketing.tickets.refusals import describe_workflow_error
from ticketing.unit import unit_of_work
from ticketing.wiring import wiring
from workflows.errors import EventNotAllowed, WorkflowError
from workflows.machine import ticket_workflow
from workflows.tickets import EVENTS, KINDS

bp = Blueprint("tickets", __name__)

OPEN_TICKETS_SHOWN = 20
PANEL_SIZE = 10
PAGE_SIZE = 50
TABS = (("mine", _l("Mine")), ("department", _l("My department")),
        ("unassigned", _l("Unassigned in my department")), ("open", _l("All open")))


@bp.app_template_filter("state_label")
def _state_label(name):
    return labels.state_label(name)


@bp.app_template_filter("history_note")
def _history_note(row):
    return labels.history_note(row)


@bp.app_template_filter("event_label")
def _event_label(name):
    return labels.event_label(name)


@bp.app_template_filter("kind_label")
def _kind_label(name):
    return labels.KIND_LABELS.get(name, name)


@bp.app_template_filter("status_label")
def _status_label(name):
    return labels.STATUS_LABELS.get(name, name)


@bp.app_template_filter("priority_label")
def _priority_label(name):
    return labels.PRIORITY_LABELS.get(name, name)


@bp.app_template_filter("channel_label")
def _channel_label(name):
    return labels.CHANNEL_LABELS.get(name, name)


# --- call screen and new tickets ---------------------------------------------------------

def _lookup(phone: str) -> dict:
    """Customers matching the caller's number, their open tickets, and repeat calls."""
    result = {"phone": phone, "number": None, "customers": [], "open_tickets": {},
              "other_open": [], "repeat": False, "invalid": False,
              "window_hours": current_app.config["REPEAT_CALLER_WINDOW_HOURS"]}
    if not phone:
        return result
    number = normalise_phone(phone)
    if number is None:
        result["invalid"] = True
        return result
    result["number"] = number
    result["customers"] = customers = customers_by_phone(number)
    for customer in customers:
        result["open_tickets"][customer.id] = _ticket_rows(
            current_user, customer_id=customer.id, queue="open", limit=OPEN_TICKETS_SHOWN)
    # Open tickets this number called about that no matching customer already lists.
    ids = {c.id for c in customers}
    result["other_open"] = [
        t for t in queries.open_tickets_for_caller(current_user, number, [],
                                                   limit=OPEN_TICKETS_SHOWN)
        if t.customer_id not in ids]
    result["repeat"] = queries.is_repeat_caller(number, result["window_hours"])
    return result


def _fill_customer_choices(form: NewTicketForm, customers) -> None:
    choices = [choice("", _("— none —"))]
    choices += [choice(str(c.id), f"{c.name} · {c.account_no}") for c in customers]
    chosen = form.customer_id.data or ""
    if chosen.isdigit() and chosen not in {str(c.id) for c in customers}:
        customer = db.session.get(Customer, int(chosen))
        if customer is not None:
            choices.append(choice(str(customer.id), f"{customer.name} · {customer.account_no}"))
    form.customer_id.choices = choices


def _render_call_screen(form: NewTicketForm, lookup: dict, status: int = 200):
    return render_template("tickets/call.html", form=form, lookup=lookup), status


def _require_can_open() -> None:
    if not can_open_ticket(current_user):
        raise forbidden()


@bp.route("/call")
@permission_required()
def call_screen():
    _require_can_open()
    phone = (request.args.get("phone") or "").strip()[:30]
    lookup = _lookup(phone)
    form = NewTicketForm(formdata=None)
    form.caller_phone.data = lookup["number"] or phone
    if len(lookup["customers"]) == 1:
        form.customer_id.data = str(lookup["customers"][0].id)
        form.caller_name.data = lookup["customers"][0].name
    _fill_customer_choices(form, lookup["customers"])
    return _render_call_screen(form, lookup)


@bp.route("/tickets/new", methods=["POST"])
@permission_required()
def create():
    _require_can_open()
    form = NewTicketForm()
    lookup = _lookup((form.caller_phone.data or "").strip()[:30])
    _fill_customer_choices(form, lookup["customers"])
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            ticket = open_ticket(current_user, **form.ticket_data())
        if work.ok:
            flash(_("Ticket %(number)s opened.", number=ticket.number), "success")
            return redirect(url_for("tickets.detail", ticket_id=ticket.id))
    return _render_call_screen(form, lookup, 400)


# --- the ticket page and its actions -----------------------------------------------------

def _visible_ticket(ticket_id: int) -> Ticket:
    """404 both for a missing ticket and one the user may not see: never reveal which."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_view_ticket(current_user, ticket):
        abort(404)
    return ticket


def _timeline_names(history) -> dict:
    """Names of departments and users that history rows refer to by id, in two queries."""
    dept_ids = {row.data.get("department_id") for row in history if row.data}
    user_ids = {row.data.get("assignee_id") for row in history if row.data}
    dept_ids = {i for i in dept_ids if isinstance(i, int)}
    user_ids = {i for i in user_ids if isinstance(i, int)}
    locale = _current_locale()
    departments = {d.id: d.display_name(locale) for d in db.session.scalars(
        select(Department).where(Department.id.in_(dept_ids)))} if dept_ids else {}
    users = {u.id: u.display_name for u in db.session.scalars(
        select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    return {"departments": departments, "users": users}


def _current_locale() -> str:
    locale = get_locale()
    return str(locale) if locale else "zh"


def _render_ticket(ticket: Ticket, failed: tuple | None = None, status: int = 200):
    cache: dict = {}
    actions = []
    for event in allowed_events_for(current_user, ticket):
        if failed and failed[0] == event:
            form = failed[1]
        else:
            form = event_form(event, ticket, choices_cache=cache)
        actions.append({"event": event, "form": form, "danger": EVENTS[event]["danger"],
                        "open": bool(failed and failed[0] == event)})
    sections = [s for s in (fn(ticket) for fn in wiring().ticket_sections) if s]
    history = ticket.history
    return render_template("tickets/detail.html", ticket=ticket, actions=actions,
                           history=history, names=_timeline_names(history),
                           sections=sections), status


@bp.route("/tickets/<int:ticket_id>")
@permission_required("tickets.view")
def detail(ticket_id: int):
    return _render_ticket(_visible_ticket(ticket_id))


@bp.route("/tickets/<int:ticket_id>/events/<event>", methods=["POST"])
@permission_required("tickets.view")
def fire(ticket_id: int, event: str):
    ticket = _visible_ticket(ticket_id)
    if event not in EVENTS:
        abort(404)
    if not can_fire_event(current_user, ticket, event):
        raise forbidden()
    page = url_for("tickets.detail", ticket_id=ticket.id)
    allowed = ticket_workflow.allowed_events(ticket.state)
    if event not in allowed:
        # Checked before the fields, so an out-of-date page gets the reason, not field errors.
        flash(describe_workflow_error(EventNotAllowed(ticket.state, event, allowed))[2], "error")
        return redirect(page)
    form = event_form(event, ticket, submitted=True)
    if not form.validate_on_submit():
        if form.version.errors:
            flash(_("The page was out of date; here is the ticket as it is now."), "error")
            return redirect(page)
        return _render_ticket(ticket, failed=(event, form), status=400)
    try:
        with unit_of_work(form) as work:
            fire_event(current_user, ticket, event, form.workflow_fields(),
                       expected_version=form.expected_version)
    except (WorkflowError, ApiError) as exc:
        # Stale version, not allowed in this state, refused by a rule: show the fresh state.
        message = describe_workflow_error(exc)[2] if isinstance(exc, WorkflowError) \
            else exc.message
        flash(message, "error")
        return redirect(page)
    except StaleDataError:
        flash(_("Someone else changed this ticket first; here it is as it is now."), "error")
        return redirect(page)
    if not work.ok:
        return _render_ticket(_visible_ticket(ticket_id), failed=(event, form), status=400)
    flash(_("%(action)s: done.", action=labels.event_label(event)), "success")
    return redirect(page)


# --- queues ------------------------------------------------------------------------------

def _tabs_for(user) -> list[tuple[str, object]]:
    tabs = []
    for key, label in TABS:
        if key in ("department", "unassigned") and user.department_id is None:
            continue
        if key == "open" and not can_see_all_departments(user):
            continue
        tabs.append((key, label))
    return tabs


@bp.route("/tickets")
@permission_required("tickets.view")
def queue():
    tabs = _tabs_for(current_user)
    keys = [key for key, _label in tabs]
    # ?queue= as in the API (GET /api/v1/tickets?queue=department) names the tab too.
    tab = request.args.get("tab") or request.args.get("queue") or keys[0]
    if tab not in keys:
        abort(404)
    filters = {"kind": request.args.get("kind") or None,
               "status": request.args.get("status") or None,
               "text": (request.args.get("text") or "").strip()[:100] or None}
    if filters["kind"] not in (None, *KINDS):
        filters["kind"] = None
    if filters["status"] not in (None, *queries.STATUSES):
        filters["status"] = None
    customer_id = request.args.get("customer", type=int)
    cursor = request.args.get("cursor") or None
    error = None
    try:
        rows, next_cursor = queries.ticket_rows(current_user, queue=tab, customer_id=customer_id,
                                                cursor=cursor, limit=PAGE_SIZE, **filters)
    except ApiError as exc:
        db.session.rollback()
        rows, next_cursor, error = [], None, exc.message
    args = {"tab": tab, **{k: v for k, v in filters.items() if v}}
    if customer_id:
        args["customer"] = customer_id
    next_url = url_for("tickets.queue", cursor=next_cursor, **args) if next_cursor else None
    return render_template("tickets/queue.html", tabs=tabs, tab=tab, rows=rows,
                           filters=filters, customer_id=customer_id, next_url=next_url,
                           first_url=url_for("tickets.queue", **args) if cursor else None,
                           error=error, kinds=KINDS, statuses=queries.STATUSES,
                           row_labels=_RowLabels(), opened=_opened_formatter(),
                           ticket_url=_ticket_url_builder()), (
        400 if error else 200)


class _Labels(dict):
    """name -> translated label, each translated once per page (not once per row)."""

    def __init__(self, translate):
        super().__init__()
        self._translate = translate

    def __missing__(self, name):
        label = self[name] = str(self._translate(name))
        return label


class _RowLabels:
    def __init__(self):
        self.state = _Labels(labels.state_label)
        self.kind = _Labels(lambda n: labels.KIND_LABELS.get(n, n))
        self.status = _Labels(lambda n: labels.STATUS_LABELS.get(n, n))
        self.priority = _Labels(lambda n: labels.PRIORITY_LABELS.get(n, n))


def _ticket_url_builder():
    """url_for("tickets.detail", ticket_id=…) for many rows: routed once per page."""
    sample = url_for("tickets.detail", ticket_id=0)
    if not sample.endswith("/0"):
        return lambda ticket_id: url_for("tickets.detail", ticket_id=ticket_id)
    prefix = sample[:-1]
    return lambda ticket_id: prefix + str(int(ticket_id))


def _opened_formatter():
    """The `dt` filter's text ("short", the user's locale and time zone) for many rows: the
    locale, time zone and CLDR patterns are looked up once per page, not once per row (as
    babel.dates.format_datetime does for "short"; tests compare the two)."""
    locale, zone = get_locale(), get_timezone()
    if locale is None:
        return lambda value: format_datetime(value, "short") if value else "—"
    joined = babel_dates.get_datetime_format("short", locale=locale).replace("'", "")
    date_pattern = babel_dates.get_date_format("short", locale=locale)
    time_pattern = babel_dates.get_time_format("short", locale=locale)

    # Rows of a page mostly share their day: each date's text is made once, and each time's.
    dates: dict = {}
    times: dict = {}
    with_seconds = "s" in time_pattern.pattern

    def opened(value):
        if value is None:
            return "—"
        if value.tzinfo is None:  # as flask_babel.to_user_timezone
            value = value.replace(tzinfo=timezone.utc)
        local = zone.normalize(value.astimezone(zone)) if hasattr(zone, "normalize") \
            else value.astimezone(zone)
        day = local.date()
        date_text = dates.get(day)
        if date_text is None:
            date_text = dates[day] = date_pattern.apply(local, locale)
        moment = (local.hour, local.minute, local.second if with_seconds else 0,
                  local.utcoffset())
        time_text = times.get(moment)
        if time_text is None:
            time_text = times[moment] = time_pattern.apply(local, locale)
        return joined.replace("{0}", time_text).replace("{1}", date_text)

    return opened


# --- the workflow, drawn ------------------------------------------------------------------

def _workflow_table(description: dict) -> list[dict]:
    """One group per top-level state: its leaves, each with (event, destination) rows."""
    outgoing: dict[str, list[tuple[str, str]]] = {}
    for event in description["events"]:
        for edge in event["transitions"]:
            outgoing.setdefault(edge["source"], []).append((event["name"], edge["dest"]))
    groups = []
    for state in description["states"]:
        children = [c["name"] for c in state["children"]]
        leaves = [f"{state['name']}_{c}" for c in children] or [state["name"]]
        groups.append({"name": state["name"], "leaves": [
            {"name": leaf, "status": description["display_status"].get(leaf),
             "events": _merge_destinations(outgoing.get(leaf, []))} for leaf in leaves]})
    return groups


def _merge_destinations(edges: list[tuple[str, str]]) -> list[dict]:
    """resume from `suspended` has one edge per leaf: show one row with every destination."""
    merged: dict[str, list[str]] = {}
    for event, dest in edges:
        merged.setdefault(event, [])
        if dest not in merged[event]:
            merged[event].append(dest)
    return [{"event": e, "dests": d} for e, d in merged.items()]


@bp.route("/workflow")
@permission_required()
def workflow():
    description = ticket_workflow.describe()
    names = {leaf: str(labels.state_label(leaf)) for leaf in description["leaves"]}
    names.update({kind: str(labels.state_label(kind)) for kind in KINDS})
    event_names = {e: str(labels.event_label(e)) for e in EVENTS}
    return render_template("tickets/workflow.html", groups=_workflow_table(description),
                           state_names=names, event_names=event_names)


# --- home panels and the customer page ---------------------------------------------------

def _ticket_rows(user, **kwargs) -> list:
    try:
        rows, _cursor = queries.ticket_rows(user, **kwargs)
    except ApiError:
        db.session.rollback()
        return []
    return rows


def my_tickets_panel(user):
    if not user.can("tickets.view"):
        return None
    return {"title": _l("My tickets"), "template": "tickets/_ticket_list.html",
            "context": {"tickets": _ticket_rows(user, queue="mine", limit=PANEL_SIZE),
                        "more_url": url_for("tickets.queue", tab="mine")}}


def unassigned_panel(user):
    if not user.can("tickets.view") or user.department_id is None:
        return None
    return {"title": _l("My department's unassigned tickets"),
            "template": "tickets/_ticket_list.html",
            "context": {"tickets": _ticket_rows(user, queue="unassigned", limit=PANEL_SIZE),
                        "more_url": url_for("tickets.queue", tab="unassigned")}}


def customer_tickets_section(customer):
    if not current_user.can("tickets.view"):
        return None
    tab = "open" if can_see_all_departments(current_user) else None
    rows = _ticket_rows(current_user, customer_id=customer.id, limit=PANEL_SIZE * 2)
    more = url_for("tickets.queue", tab=tab, customer=customer.id) if tab else None
    call = (url_for("tickets.call_screen", phone=customer.phone_numbers[0])
            if customer.phone_numbers and can_open_ticket(current_user) else None)
    return {"title": _l("Tickets"), "template": "tickets/_ticket_list.html",
            "context": {"tickets": rows, "more_url": more, "call_url": call,
                        "more_label": _l("Open tickets in the queue")}}

