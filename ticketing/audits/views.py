"""Pages: the supervisor's audit queue, one audit with all its steps on one screen and its
decision, the audit rules, the liability forms and the ticket page's supervision card."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ticketing.audits import liability as liability_ops, operations as ops, queries
from ticketing.audits.forms import (AppealForm, DecisionForm, LiabilityForm, RulesForm,
                                    RulingForm, version_of)
from ticketing.audits.labels import (DECISION_LABELS, LIABILITY_STATUS_LABELS, REASON_LABELS,
                                     STATUS_LABELS)
from ticketing.audits.models import REASONS, Audit
from ticketing.audits.permissions import (can_appeal, can_decide_audits, can_record_liability,
                                          can_reach_liability, can_rule_on_appeal,
                                          can_see_liability,
                                          can_view_audits)
from ticketing.audits.queries import STATUS_FILTERS
from ticketing.auth.models import Department, User
from ticketing.auth.permissions import permission_required
from ticketing.callbacks.queries import callbacks_of_ticket
from ticketing.clock import utcnow
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.tickets.labels import KIND_LABELS
from ticketing.tickets.models import Ticket
from ticketing.timers.labels import CLOCK_LABELS
from ticketing.timers.models import Calendar
from ticketing.tickets.permissions import can_view_ticket
from ticketing.unit import unit_of_work

bp = Blueprint("audits", __name__)
QUEUE_LIMIT = 100


@bp.app_context_processor
def _audit_labels():
    return {"audit_reason_labels": REASON_LABELS, "audit_status_labels": STATUS_LABELS,
            "audit_decision_labels": DECISION_LABELS,
            "liability_status_labels": LIABILITY_STATUS_LABELS}


def _audit_or_404(audit_id: int) -> Audit:
    """The audit, if the user may see its ticket."""
    audit = db.session.get(Audit, audit_id)
    if audit is None or not can_view_ticket(current_user, audit.ticket):
        abort(404)
    return audit


def _ticket_or_404(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_reach_liability(current_user, ticket,
                                                 liability_ops.liability_of(ticket_id)):
        abort(404)
    return ticket


@bp.route("/audits")
@permission_required("audits.view")
def queue():
    args, error = {}, None
    status = request.args.get("status") or "open"
    for name, allowed in (("status", STATUS_FILTERS), ("reason", REASONS),
                          ("kind", tuple(KIND_LABELS))):
        value = status if name == "status" else (request.args.get(name) or None)
        if value is not None:
            if value not in allowed:
                error = _("Not a valid choice: %(value)s", value=value)
            else:
                args[name] = value
    rows = [] if error else queries.audit_page(current_user, limit=QUEUE_LIMIT, **args)[0]
    return render_template("audits/queue.html", audits=rows, status=status, args=request.args,
                           statuses=STATUS_FILTERS, reasons=REASONS, kinds=KIND_LABELS,
                           error=error, now=utcnow()), (400 if error else 200)


def _render_audit(audit: Audit, form: DecisionForm, status: int = 200):
    return render_template(
        "audits/detail.html", audit=audit, ticket=audit.ticket, form=form,
        steps=queries.steps(audit.ticket_id), deadlines=queries.deadlines(audit.ticket_id),
        clock_labels=CLOCK_LABELS, callbacks=callbacks_of_ticket(audit.ticket_id),
        liability=liability_ops.liability_of(audit.ticket_id),
        can_decide=can_decide_audits(current_user), now=utcnow()), status


@bp.route("/audits/<int:audit_id>")
@permission_required("audits.view")
def detail(audit_id: int):
    audit = _audit_or_404(audit_id)
    form = DecisionForm()
    form.version.data = str(audit.version)
    return _render_audit(audit, form)


@bp.route("/audits/<int:audit_id>/decision", methods=["POST"])
@permission_required("audits.decide")
def decide(audit_id: int):
    audit = _audit_or_404(audit_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(form) as work:
                ops.decide(current_user, audit, form.decision.data, form.reason.data or "",
                           expected_version=version_of(form))
        except ApiError as refused:
            db.session.rollback()
            flash(refused.message, "error")
            return redirect(url_for("audits.detail", audit_id=audit_id)), 303
        if work.ok:
            flash(_("Audit passed.") if form.decision.data == "pass"
                  else _("Audit rejected: the ticket is re-dispatched."), "success")
            return redirect(url_for("audits.queue"))
    return _render_audit(_audit_or_404(audit_id), form, 400)


@bp.route("/audits/rules", methods=["GET", "POST"])
@permission_required("audits.rules")
def rules():
    current = ops.current_rules()
    form = RulesForm()
    form.calendar_id.choices = [SelectChoice(c.id, c.name) for c in db.session.scalars(
        select(Calendar).order_by(Calendar.id))]
    if request.method == "GET":
        form.version.data = str(current.version)
        for name in ("complaints", "unsatisfied_callbacks", "sla_breaches", "sample_percent",
                     "due_minutes", "calendar_id"):
            getattr(form, name).data = getattr(current, name)
    elif form.validate_on_submit():
        version = version_of(form)
        try:
            with unit_of_work(form) as work:
                ops.save_rules(form.rules_data(), -1 if version is None else version)
        except ApiError as refused:
            flash(refused.message, "error")
            return redirect(url_for("audits.rules")), 303
        if work.ok:
            flash(_("Audit rules saved."), "success")
            return redirect(url_for("audits.rules"))
    return render_template("audits/rules.html", form=form, rules=current), (
        400 if form.errors else 200)


# -- liability (forms on the ticket page's supervision card) -------------------------------

def _liability_forms(ticket: Ticket, liability) -> dict:
    forms = {}
    version = str(liability.version if liability is not None else 0)
    if ticket.kind == "complaint" and can_record_liability(current_user, liability):
        form = LiabilityForm(prefix="liability")
        _liability_choices(form)
        form.version.data = version
        if liability is not None:
            form.justified.data = "yes" if liability.justified else "no"
            form.department_id.data = liability.department_id
            form.person_id.data = liability.person_id
            form.note.data = liability.note
        forms["record"] = form
    if can_appeal(current_user, liability):
        forms["appeal"] = AppealForm(prefix="appeal", version=version)
    if can_rule_on_appeal(current_user, liability):
        forms["ruling"] = RulingForm(prefix="ruling", version=version)
    return forms


def _liability_choices(form: LiabilityForm) -> None:
    locale = str(getattr(request, "locale", "") or "")
    departments = db.session.scalars(select(Department).where(Department.active.is_(True))
                                     .order_by(Department.id)).all()
    form.department_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(d.id, d.display_name(locale)) for d in departments]
    users = db.session.scalars(select(User).where(User.active.is_(True))
                               .order_by(User.department_id, User.id)).unique().all()
    names = {d.id: d.display_name(locale) for d in departments}
    form.person_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(u.id, f"{u.display_name} ({names.get(u.department_id, '—')})")
        for u in users]


def _liability_action(ticket_id: int, form, action, done_message: str):
    ticket = _ticket_or_404(ticket_id)
    if form.validate_on_submit():
        try:
            with unit_of_work(form) as work:
                action(ticket, form)
        except ApiError as refused:
            db.session.rollback()
            flash(refused.message, "error")
            return redirect(url_for("tickets.detail", ticket_id=ticket_id)), 303
        if work.ok:
            flash(done_message, "success")
            return redirect(url_for("tickets.detail", ticket_id=ticket_id))
    for name, messages in form.errors.items():
        label = getattr(getattr(form, name, None), "label", None)
        for message in messages:
            flash(f"{label.text if label else name}: {message}", "error")
    return redirect(url_for("tickets.detail", ticket_id=ticket_id)), 303


@bp.route("/tickets/<int:ticket_id>/liability", methods=["POST"])
@permission_required("audits.liability")
def record_liability(ticket_id: int):
    form = LiabilityForm(prefix="liability")
    _liability_choices(form)
    return _liability_action(
        ticket_id, form, lambda ticket, f: liability_ops.record_liability(
            current_user, ticket, f.liability_data(), expected_version=version_of(f)),
        _("Liability recorded."))


@bp.route("/tickets/<int:ticket_id>/liability/appeal", methods=["POST"])
@permission_required("audits.appeal")
def appeal(ticket_id: int):
    return _liability_action(
        ticket_id, AppealForm(prefix="appeal"), lambda ticket, f: liability_ops.appeal(
            current_user, ticket, f.reason.data, expected_version=version_of(f)),
        _("Appeal sent: a second supervisor will rule on it."))


@bp.route("/tickets/<int:ticket_id>/liability/ruling", methods=["POST"])
@permission_required("audits.liability")
def ruling(ticket_id: int):
    return _liability_action(
        ticket_id, RulingForm(prefix="ruling"), lambda ticket, f: liability_ops.rule_on_appeal(
            current_user, ticket, f.upheld.data == "yes", f.note.data or "",
            expected_version=version_of(f)),
        _("Ruling on the appeal recorded."))


def ticket_supervision_section(ticket):
    """The ticket page's card: its audits, and a complaint's liability with the forms the
    reader may use."""
    if not can_see_liability(current_user):
        return None
    audits = queries.audits_of_ticket(ticket.id) if can_view_audits(current_user) else []
    liability = liability_ops.liability_of(ticket.id)
    if ticket.kind != "complaint" and liability is None and not audits:
        return None
    return {"title": _("Supervision"), "template": "audits/_ticket_section.html",
            "context": {"audits": audits, "liability": liability, "ticket": ticket,
                        "forms": _liability_forms(ticket, liability), "now": utcnow()}}


def queue_panel(user):
    """Home panel for supervisors: audits open, and how many overdue."""
    if not user.can("audits.view"):
        return None
    rows, _next = queries.audit_page(user, status="open", limit=QUEUE_LIMIT)
    if not rows:
        return None
    now = utcnow()
    return {"title": _("Audits to review"), "template": "audits/_panel.html",
            "context": {"open": len(rows), "overdue": sum(a.is_overdue(now) for a in rows)}}
