"""Pages: the callback agent's queue and work screen, the callback query (回访信息查询),
the callback settings (admin), and the callbacks card of the ticket page."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ticketing.auth.permissions import permission_required
from ticketing.callbacks import operations as ops, queries
from ticketing.callbacks.forms import AttemptForm, SettingsForm
from ticketing.callbacks.models import Callback
from ticketing.callbacks.permissions import can_view_callbacks
from ticketing.callbacks.queries import STATUS_FILTERS
from ticketing.clock import utcnow
from ticketing.errors import ApiError, InvalidInput
from ticketing.extensions import db
from ticketing.tickets.labels import KIND_LABELS
from ticketing.tickets.models import TicketEvent
from ticketing.timers.models import Calendar
from ticketing.unit import unit_of_work

bp = Blueprint("callbacks", __name__)

STATUS_LABELS = {"due": _l("Due"), "overdue": _l("Overdue"), "waiting": _l("Waiting to retry"),
                 "pending": _l("Open"), "done": _l("Done"), "unreachable": _l("Unreachable"),
                 "superseded": _l("Superseded")}
RESULT_LABELS = {"satisfied": _l("Satisfied"), "unsatisfied": _l("Unsatisfied")}
QUERY_LIMIT = 100


@bp.app_context_processor
def _callback_labels():
    return {"callback_status_labels": STATUS_LABELS, "callback_result_labels": RESULT_LABELS}


def _callback_or_404(callback_id: int) -> Callback:
    callback = db.session.get(Callback, callback_id)
    if callback is None:
        abort(404)
    return callback


@bp.route("/callbacks")
@permission_required("callbacks.work")
def queue():
    return render_template("callbacks/queue.html", callbacks=queries.queue(), now=utcnow())


@bp.route("/callbacks/<int:callback_id>/take", methods=["POST"])
@permission_required("callbacks.work")
def take(callback_id: int):
    callback = _callback_or_404(callback_id)
    try:
        with unit_of_work():
            ops.take_callback(current_user, callback)
    except ApiError as refused:
        flash(refused.message, "error")
        return redirect(url_for("callbacks.queue"))
    return redirect(url_for("callbacks.work", callback_id=callback_id))


@bp.route("/callbacks/<int:callback_id>", methods=["GET", "POST"])
@permission_required("callbacks.work")
def work(callback_id: int):
    callback = _callback_or_404(callback_id)
    form = AttemptForm()
    status = 200
    if request.method == "GET":
        form.version.data = str(callback.version)
    elif form.validate_on_submit():
        try:
            with unit_of_work(form) as work_:
                version = int(form.version.data) if (form.version.data or "").isdigit() \
                    else None
                ops.record_attempt(current_user, callback, form.attempt_data(),
                                   expected_version=version)
        except ApiError as refused:
            db.session.rollback()
            flash(refused.message, "error")
            return redirect(url_for("callbacks.work", callback_id=callback_id)), 303
        if work_.ok:
            flash(_("Attempt recorded."), "success")
            return redirect(url_for("callbacks.queue"))
        status = 400
    else:
        status = 400
    callback = _callback_or_404(callback_id)
    history = db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == callback.ticket_id).order_by(TicketEvent.id)).all()
    return render_template("callbacks/work.html", callback=callback, ticket=callback.ticket,
                           history=history, form=form, now=utcnow()), status


def _query_args() -> dict:
    args = {}
    for name in ("status", "kind"):
        value = request.args.get(name) or None
        if value is not None:
            args[name] = value
    for name in ("ticket_id", "agent_id"):
        value = (request.args.get(name) or "").strip()
        if value:
            if not value.isdigit() or int(value) > 2 ** 31 - 1:
                raise InvalidInput({name: [_("Not a valid number.")]})
            args[name] = int(value)
    return args


@bp.route("/callbacks/search")
@permission_required("callbacks.view")
def search():
    try:
        args = _query_args()
        if args.get("kind") and args["kind"] not in KIND_LABELS:
            raise InvalidInput({"kind": [_("Not a valid choice.")]})
        rows, _next = queries.callback_page(limit=QUERY_LIMIT, **args)
        error = None
    except InvalidInput as refused:
        rows, error = [], "; ".join(m for ms in refused.extra["fields"].values() for m in ms)
    return render_template("callbacks/search.html", callbacks=rows, args=request.args,
                           statuses=STATUS_FILTERS, kinds=KIND_LABELS, error=error,
                           now=utcnow()), (400 if error else 200)


@bp.route("/callbacks/settings", methods=["GET", "POST"])
@permission_required("callbacks.settings")
def settings():
    current = ops.current_settings()
    form = SettingsForm()
    form.calendar_id.choices = [SelectChoice(c.id, c.name) for c in db.session.scalars(
        select(Calendar).order_by(Calendar.id))]
    if request.method == "GET":
        form.version.data = str(current.version)
        form.kinds.data = list(current.kinds or [])
        for kind, minutes in (current.due_minutes or {}).items():
            if hasattr(form, f"due_{kind}"):
                getattr(form, f"due_{kind}").data = minutes
        form.retry_minutes.data = current.retry_minutes
        form.max_attempts.data = current.max_attempts
        form.threshold.data = current.threshold
        form.calendar_id.data = current.calendar_id
    elif form.validate_on_submit():
        version = int(form.version.data) if (form.version.data or "").isdigit() else -1
        try:
            with unit_of_work(form, {"due_minutes": "due_repair"}) as work_:
                ops.save_settings(form.settings_data(), version)
        except ApiError as refused:
            flash(refused.message, "error")
            return redirect(url_for("callbacks.settings")), 303
        if work_.ok:
            flash(_("Callback settings saved."), "success")
            return redirect(url_for("callbacks.settings"))
    return render_template("callbacks/settings.html", form=form), (
        400 if form.errors else 200)


def ticket_callbacks_section(ticket):
    """The ticket page's card: its callbacks and their results, for who may query them."""
    if not can_view_callbacks(current_user):
        return None
    rows = queries.callbacks_of_ticket(ticket.id)
    if not rows:
        return None
    return {"title": _("Callbacks"), "template": "callbacks/_ticket_callbacks.html",
            "context": {"callbacks": rows}}


def queue_panel(user):
    """Home panel for callback agents: how many callbacks are waiting, how many overdue."""
    if not user.can("callbacks.work"):
        return None
    rows = queries.queue()
    if not rows:
        return None
    now = utcnow()
    return {"title": _("Callbacks to make"), "template": "callbacks/_panel.html",
            "context": {"waiting": len(rows), "overdue": sum(c.is_overdue(now) for c in rows),
                        "now": now}}
