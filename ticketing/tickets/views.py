"""Pages: the agent's call screen, ticket page, queues, workflow drawing, home panels."""

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ticketing.auth.models import Department, User
from ticketing.auth.permissions import forbidden, permission_required
from ticketing.calls import operations as calls
from ticketing.calls.forms import LinkCallForm
from ticketing.customers.models import Customer
from ticketing.customers.operations import (customers_by_phone_or_account,
                                            looks_like_account_no, normalise_phone)
from ticketing.errors import ApiError, Conflict
from ticketing.extensions import db
from ticketing.security import safe_next
from ticketing.tickets import labels, queries
from ticketing.tickets.forms import NewTicketForm, choice, event_form
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import VIP_PRIORITY, fire_event, open_ticket
from ticketing.tickets.permissions import (allowed_events_for, can_fire_event, can_open_ticket,
                                           can_see_all_departments, can_view_ticket, event_choices,
                                           ordered_events)
from ticketing.tickets.refusals import describe_workflow_error
from ticketing.unit import unit_of_work
from ticketing.templating import short_datetime_formatter
from ticketing.wiring import wiring
from workflows.errors import EventNotAllowed, WorkflowError
from workflows.machine import ticket_workflow
from workflows.tickets import EVENTS, KINDS

bp = Blueprint("tickets", __name__)

OPEN_TICKETS_SHOWN = 20
LONG_TEXT = 600  # characters: longer text folds away behind "show all"
PANEL_SIZE = 10
PAGE_SIZE = 50
TABS = (("mine", _l("Mine")), ("department", _l("My department")),
        ("unassigned", _l("Unassigned in my department")), ("handled", _l("Handled by me")),
        ("open", _l("All open")))


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
    result = {"phone": phone, "number": None, "searched": False, "customers": [],
              "open_tickets": {}, "other_open": [], "repeat": False, "invalid": False,
              "previous_calls": [],
              "window_hours": current_app.config["REPEAT_CALLER_WINDOW_HOURS"]}
    if not phone:
        return result
    number = normalise_phone(phone)
    result["customers"] = customers = customers_by_phone_or_account(phone)
    if number is None and not looks_like_account_no(phone):
        result["invalid"] = True
        return result
    result["searched"] = True
    result["number"] = number
    for customer in customers:
        result["open_tickets"][customer.id] = _ticket_rows(
            current_user, customer_id=customer.id, queue="open", limit=OPEN_TICKETS_SHOWN)
    # Open tickets this number called about that no matching customer already lists.
    ids = {c.id for c in customers}
    if number is not None:
        result["other_open"] = [
            t for t in queries.open_tickets_for_caller(current_user, number, [],
                                                       limit=OPEN_TICKETS_SHOWN)
            if t.customer_id not in ids]
        result["previous_calls"] = calls.previous_calls(number, result["window_hours"])
        result["repeat"] = bool(result["previous_calls"]) or queries.is_repeat_caller(
            number, result["window_hours"])
    return result


def _call_id(raw) -> str:
    """The screen pop's call id carried by the page (digits), or ""."""
    raw = (raw or "").strip()
    return raw if raw.isdigit() and len(raw) <= 9 else ""


def _link_form(lookup: dict, ticket, call_id: str) -> LinkCallForm:
    form = LinkCallForm(formdata=None, phone=lookup["number"], ticket_id=str(ticket.id),
                        call_id=call_id)
    form.note.id = f"link-note-{ticket.id}"
    return form


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
    # A repeat caller's open tickets each offer "link this call" instead of a new ticket.
    links = {}
    if lookup["repeat"]:
        tickets = [t for rows in lookup["open_tickets"].values() for t in rows]
        tickets += lookup["other_open"]
        links = {t.id: _link_form(lookup, t, _call_id(form.call_id.data)) for t in tickets}
    return render_template("tickets/call.html", form=form, lookup=lookup,
                           link_forms=links), status


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
    form.call_id.data = _call_id(request.args.get("call"))
    form.caller_phone.data = lookup["number"] or ""
    if len(lookup["customers"]) == 1:
        chosen = lookup["customers"][0]
        form.customer_id.data = str(chosen.id)
        form.caller_name.data = chosen.name
        if not form.caller_phone.data and chosen.phone_numbers:
            form.caller_phone.data = chosen.phone_numbers[0]
    if any(c.is_vip for c in lookup["customers"]):
        form.priority.data = VIP_PRIORITY
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
        try:
            with unit_of_work(form) as work:
                call = (calls.pending_call(int(form.call_id.data))
                        if form.call_id.data else None)
                ticket = open_ticket(current_user, **form.ticket_data())
                if call is None and ticket.caller_phone:  # the call is recorded all the same
                    call = calls.record_call(current_user, ticket.caller_phone,
                                             ticket.customer_id)
                if call is not None:
                    calls.call_opened_ticket(call, ticket)
        except Conflict as exc:  # the screen pop's call already led to a ticket
            form.form_errors = list(form.form_errors) + [exc.message]
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


def _render_ticket(ticket: Ticket, failed: tuple | None = None, status: int = 200,
                   notice: str | None = None, unsent: list | None = None):
    """The ticket page. `failed`: (event, form) whose typed values are shown again;
    `notice`: why (a conflict, a refusal); `unsent`: typed text that no action on the
    page can take any more, shown read-only so it is not lost."""
    cache: dict = {}
    actions = []
    allowed, unavailable = event_choices(current_user._get_current_object(), ticket)
    for event in ordered_events(allowed):
        if failed and failed[0] == event:
            form = failed[1]
        else:
            form = event_form(event, ticket, choices_cache=cache)
        actions.append({"event": event, "form": form, "danger": EVENTS[event]["danger"],
                        "open": bool(failed and failed[0] == event)})
    sections = [s for s in (fn(ticket) for fn in wiring().ticket_sections) if s]
    history = ticket.history
    return render_template("tickets/detail.html", ticket=ticket, actions=actions,
                           unavailable=unavailable,
                           history=history, names=_timeline_names(history),
                           sections=sections, notice=notice, unsent=unsent or [],
                           long_text=LONG_TEXT), status


@bp.route("/tickets/<int:ticket_id>")
@permission_required("tickets.view")
def detail(ticket_id: int):
    return _render_ticket(_visible_ticket(ticket_id))


def _typed_text(form) -> list[tuple[str, str]]:
    """(label, text) of what the user typed into the form's text fields."""
    return [(str(f.label.text), f.data) for f in form.visible_fields
            if isinstance(f.data, str) and f.data.strip()]


def _stale_page(ticket_id: int, event: str, form, reason: str):
    """Someone changed the ticket while the user typed: show it as it is now, with the
    typed values kept in the same form (sent again, it carries the fresh version) or, if
    that action is no longer possible, read-only beside it."""
    db.session.rollback()
    ticket = _visible_ticket(ticket_id)
    if event in allowed_events_for(current_user, ticket):
        form.version.data = str(ticket.version)
        return _render_ticket(ticket, failed=(event, form), status=409, notice=reason)
    return _render_ticket(ticket, status=409, notice=reason, unsent=_typed_text(form))


def _moved_message(ticket: Ticket, before: tuple) -> str | None:
    """After an action that sends the ticket elsewhere: name the ticket and where it went."""
    if (ticket.department_id, ticket.assignee_id) == before:
        return None
    locale = _current_locale()
    where = ticket.department.display_name(locale) if ticket.department else "—"
    if ticket.assignee is not None:
        where += " · " + ticket.assignee.display_name
    return _("Ticket %(number)s is now with %(where)s.", number=ticket.number, where=where)


@bp.route("/tickets/<int:ticket_id>/events/<event>", methods=["POST"])
@permission_required("tickets.view")
def fire(ticket_id: int, event: str):
    ticket = _visible_ticket(ticket_id)
    if event not in EVENTS:
        abort(404)
    if not can_fire_event(current_user, ticket, event):
        raise forbidden()
    form = event_form(event, ticket, submitted=True)
    if event not in ticket_workflow.allowed_events(ticket.state):
        # Checked before the fields, so an out-of-date page gets the reason, not field errors.
        return _stale_page(ticket_id, event, form, _not_possible_now(event, ticket))
    if not form.validate_on_submit():
        if form.version.errors:
            return _stale_page(ticket_id, event, form, STALE_MESSAGE)
        return _render_ticket(ticket, failed=(event, form), status=400)
    before = (ticket.department_id, ticket.assignee_id)
    try:
        with unit_of_work(form) as work:
            fire_event(current_user, ticket, event, form.workflow_fields(),
                       expected_version=form.expected_version)
    except (Conflict, StaleDataError):
        return _stale_page(ticket_id, event, form, STALE_MESSAGE)
    except (WorkflowError, ApiError) as exc:
        # Not allowed in this state, refused by a rule: the fresh state, the text kept.
        message = _not_possible_now(event, ticket) if isinstance(exc, EventNotAllowed) \
            else describe_workflow_error(exc)[2] if isinstance(exc, WorkflowError) \
            else exc.message
        return _stale_page(ticket_id, event, form, message)
    if not work.ok:
        return _render_ticket(_visible_ticket(ticket_id), failed=(event, form), status=400)
    moved = _moved_message(ticket, before)
    flash(moved or _("%(action)s: done.", action=labels.event_label(event)), "success")
    if request.form.get("next"):  # a list that offers the action (the dispatch board)
        return redirect(safe_next(request.form.get("next"), url_for("main.home")))
    if not can_view_ticket(current_user, ticket):
        return redirect(url_for("main.home"))  # it went where this user cannot follow
    return redirect(url_for("tickets.detail", ticket_id=ticket.id))


STALE_MESSAGE = _l("Someone changed this ticket while you were typing. Here it is as it is "
                   "now; what you typed is kept: check it and send it again.")


def _not_possible_now(event: str, ticket: Ticket) -> str:
    return _("%(action)s is no longer possible: the ticket is now “%(state)s”. What you typed "
             "is kept below.", action=labels.event_label(event),
             state=labels.state_label(ticket.state))


# --- queues ------------------------------------------------------------------------------

def _tabs_for(user) -> list[tuple[str, object]]:
    tabs = []
    # A department that never holds tickets (the call center: it hands every call on) gets
    # no department tabs: they would always be empty.
    holds_tickets = user.department_id is not None and \
        queries.department_holds_tickets(user.department_id)
    for key, label in TABS:
        if key in ("department", "unassigned") and not holds_tickets:
            continue
        if key == "open" and not can_see_all_departments(user):
            label = _l("Open tickets I can see")  # as GET /api/v1/tickets?queue=open answers
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
    sort = "deadline" if request.args.get("sort") == "deadline" else ""
    error = None
    try:
        rows, next_cursor = queries.ticket_rows(current_user, queue=tab, customer_id=customer_id,
                                                cursor=cursor, limit=PAGE_SIZE,
                                                order=sort or "newest", **filters)
    except ApiError as exc:
        db.session.rollback()
        rows, next_cursor, error = [], None, exc.message
    args = {"tab": tab, **{k: v for k, v in filters.items() if v}}
    if customer_id:
        args["customer"] = customer_id
    sort_url = url_for("tickets.queue", **args, **({} if sort else {"sort": "deadline"}))
    if sort:
        args["sort"] = sort
    next_url = url_for("tickets.queue", cursor=next_cursor, **args) if next_cursor else None
    return render_template("tickets/queue.html", tabs=tabs, tab=tab, rows=rows,
                           filters=filters, customer_id=customer_id, next_url=next_url,
                           first_url=url_for("tickets.queue", **args) if cursor else None,
                           error=error, kinds=KINDS, statuses=queries.STATUSES,
                           sort=sort, sort_url=sort_url,
                           deadlines=_deadlines(rows),
                           row_labels=_RowLabels(), opened=short_datetime_formatter(),
                           ticket_url=_ticket_url_builder()), (
        400 if error else 200)


def _deadlines(rows) -> dict:
    """{ticket id: nearest running SLA deadline} of the listed tickets (timers area)."""
    lookup = current_app.jinja_env.globals.get("ticket_deadlines")
    return lookup(rows) if lookup else {}


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
    if not user.can("tickets.view") or user.department_id is None \
            or not queries.department_holds_tickets(user.department_id):
        return None
    return {"title": _l("My department's unassigned tickets"),
            "template": "tickets/_ticket_list.html",
            "context": {"tickets": _ticket_rows(user, queue="unassigned", limit=PANEL_SIZE),
                        "more_url": url_for("tickets.queue", tab="unassigned")}}


def handled_panel(user):
    """Tickets the user acted on that have moved on: they keep sight of what they handed off."""
    if not user.can("tickets.view"):
        return None
    rows = [t for t in _ticket_rows(user, queue="handled", limit=PANEL_SIZE * 2)
            if t.assignee_id != user.id][:PANEL_SIZE]  # "my tickets" lists those already
    if not rows:
        return None
    return {"title": _l("Handled by me"), "template": "tickets/_ticket_list.html", "order": 60,
            "context": {"tickets": rows, "more_url": url_for("tickets.queue", tab="handled")}}


def approvals_panel(user):
    """Department heads and supervisors: suspensions waiting for their approval, first."""
    if not user.can("tickets.view") or not user.can(EVENTS["approve_suspension"]["permission"]):
        return None
    queue = "open" if can_see_all_departments(user) else "department"
    return {"title": _l("Suspensions waiting for approval"), "order": 20,
            "template": "tickets/_ticket_list.html",
            "context": {"tickets": _ticket_rows(user, queue=queue, awaiting_approval=True,
                                                limit=PANEL_SIZE)}}


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

