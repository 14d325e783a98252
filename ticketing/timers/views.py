"""Pages: SLA policies and business calendars (admin), the escalation queue, notifications,
and the deadlines card of the ticket page."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select, text
from wtforms import SelectChoice

from ticketing.security import safe_next
from ticketing.auth.permissions import permission_required
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.tickets.labels import KIND_LABELS, PRIORITY_LABELS, state_label
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import visibility_clause
from ticketing.timers import operations as ops
from ticketing.timers.calendars import format_hours
from ticketing.timers.clocks import live_minutes_used
from ticketing.timers.deadlines import deadlines_for
from ticketing.timers.forms import CalendarDayForm, CalendarForm, ConfirmForm, PolicyForm
from ticketing.timers.labels import (CLOCK_LABELS, CLOCK_STATUS_LABELS, DAY_KIND_LABELS,
                                     LEVEL_LABELS, TIER_LABELS, WEEKDAY_LABELS,
                                     notification_message)
from ticketing.timers.models import Calendar, CalendarDay, SlaClock, SlaPolicy
from ticketing.unit import unit_of_work

bp = Blueprint("timers", __name__)

ESCALATIONS_SHOWN = 200
NOTIFICATIONS_SHOWN = 100


@bp.app_context_processor
def _timer_labels():
    return {"clock_labels": CLOCK_LABELS, "clock_status_labels": CLOCK_STATUS_LABELS,
            "level_labels": LEVEL_LABELS, "timers_kind_labels": KIND_LABELS,
            "timers_priority_labels": PRIORITY_LABELS, "timers_state_label": state_label}


# The operation names the week's hours as one field; the form shows it from Monday's.
WEEK_FIELD = {"weekly_hours": "day0"}


# -- SLA policies --------------------------------------------------------------------------

@bp.route("/sla/policies")
@permission_required("sla.manage")
def policies():
    rows = db.session.scalars(select(SlaPolicy).order_by(
        SlaPolicy.kind.is_(None), SlaPolicy.kind, SlaPolicy.priority.is_(None),
        SlaPolicy.priority, SlaPolicy.customer_tier.is_(None), SlaPolicy.customer_tier,
        SlaPolicy.id)).unique().all()
    return render_template("timers/policies.html", policies=rows, tier_labels=TIER_LABELS)


def _policy_form(policy: SlaPolicy | None):
    form = PolicyForm(obj=policy)
    if request.method == "GET" and policy is not None:
        for name in ("kind", "priority", "customer_tier"):
            getattr(form, name).data = getattr(policy, name) or ""
    form.calendar_id.choices = [SelectChoice(c.id, c.name) for c in db.session.scalars(
        select(Calendar).order_by(Calendar.name))]
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            saved = ops.save_policy(policy, form.data_for_save())
        if work.ok:
            flash(_("SLA policy %(name)s saved.", name=saved.name), "success")
            return redirect(url_for("timers.policies"))
    return render_template("timers/policy_form.html", form=form, policy=policy), (
        400 if form.errors else 200)


@bp.route("/sla/policies/new", methods=["GET", "POST"])
@permission_required("sla.manage")
def new_policy():
    return _policy_form(None)


@bp.route("/sla/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@permission_required("sla.manage")
def edit_policy(policy_id: int):
    return _policy_form(db.get_or_404(SlaPolicy, policy_id))


# -- calendars -----------------------------------------------------------------------------

@bp.route("/sla/calendars")
@permission_required("sla.manage")
def calendars():
    rows = db.session.scalars(select(Calendar).order_by(Calendar.name)).all()
    return render_template("timers/calendars.html", calendars=rows, weekdays=WEEKDAY_LABELS,
                           format_hours=format_hours)


def _calendar_form(calendar: Calendar | None):
    form = CalendarForm(obj=calendar)
    if request.method == "GET" and calendar is not None:
        for i, field in enumerate(form.day_fields()):
            field.data = format_hours((calendar.weekly_hours or {}).get(str(i)))
    elif request.method == "GET":
        for i, field in enumerate(form.day_fields()):
            field.data = "09:00-18:00" if i < 5 else ""
    if form.validate_on_submit():
        with unit_of_work(form, WEEK_FIELD) as work:
            saved = ops.save_calendar(calendar, name=form.name.data,
                                      timezone=form.timezone.data.strip(),
                                      always_open=form.always_open.data,
                                      china_holidays=form.china_holidays.data,
                                      weekly_hours=form.weekly_hours())
        if work.ok:
            flash(_("Calendar %(name)s saved.", name=saved.name), "success")
            return redirect(url_for("timers.calendar", calendar_id=saved.id))
    return _render_calendar(calendar, form, CalendarDayForm(formdata=None))


def _render_calendar(calendar, form, day_form, status=None):
    days = calendar.days if calendar is not None else []
    failed = form.errors or day_form.errors
    return render_template("timers/calendar.html", calendar=calendar, form=form,
                           day_form=day_form, days=days, confirm=ConfirmForm(),
                           day_kind_labels=DAY_KIND_LABELS), status or (400 if failed else 200)


@bp.route("/sla/calendars/new", methods=["GET", "POST"])
@permission_required("sla.manage")
def new_calendar():
    return _calendar_form(None)


@bp.route("/sla/calendars/<int:calendar_id>", methods=["GET", "POST"])
@permission_required("sla.manage")
def calendar(calendar_id: int):
    return _calendar_form(db.get_or_404(Calendar, calendar_id))


@bp.route("/sla/calendars/<int:calendar_id>/days", methods=["POST"])
@permission_required("sla.manage")
def add_day(calendar_id: int):
    row = db.get_or_404(Calendar, calendar_id)
    day_form = CalendarDayForm()
    if day_form.validate_on_submit():
        with unit_of_work(day_form) as work:
            ops.add_calendar_day(row, day_form.day.data, day_form.kind.data,
                                 day_form.note.data or "")
        if work.ok:
            flash(_("%(day)s added.", day=day_form.day.data.isoformat()), "success")
            return redirect(url_for("timers.calendar", calendar_id=row.id))
    form = CalendarForm(formdata=None, obj=row)
    for i, field in enumerate(form.day_fields()):
        field.data = format_hours((row.weekly_hours or {}).get(str(i)))
    return _render_calendar(row, form, day_form, status=400)


@bp.route("/sla/calendars/<int:calendar_id>/days/<int:day_id>/delete", methods=["POST"])
@permission_required("sla.manage")
def remove_day(calendar_id: int, day_id: int):
    row = db.get_or_404(Calendar, calendar_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    day = db.session.get(CalendarDay, day_id)
    if day is None or day.calendar_id != row.id:
        abort(404)
    label = day.day.isoformat()
    with unit_of_work():
        ops.remove_calendar_day(row, day_id)
    flash(_("%(day)s removed.", day=label), "success")
    return redirect(url_for("timers.calendar", calendar_id=row.id))


# -- escalations ---------------------------------------------------------------------------

def escalated_clocks(user, limit: int = ESCALATIONS_SHOWN):
    """Running clocks at level >= 1, highest level first, then the most overdue."""
    query = (select(SlaClock, Ticket).join(Ticket, Ticket.id == SlaClock.ticket_id)
             # Literal predicates, so the partial index ix_sla_clocks_escalated applies.
             .where(text("sla_clocks.stopped_at IS NULL AND sla_clocks.escalation_level > 0"),
                    SlaClock.paused_at.is_(None))
             .where(visibility_clause(user))
             .order_by(SlaClock.escalation_level.desc(), SlaClock.due_at, SlaClock.id)
             .limit(limit))
    return db.session.execute(query).unique().all()


@bp.route("/escalations")
@permission_required("escalations.view")
def escalations():
    rows = escalated_clocks(current_user)
    return render_template("timers/escalations.html", rows=rows, now=utcnow())


# -- notifications -------------------------------------------------------------------------

@bp.route("/notifications")
@permission_required()
def notifications():
    unread_only = request.args.get("unread") == "1"
    rows = ops.notifications_for(current_user, unread_only=unread_only,
                                 limit=NOTIFICATIONS_SHOWN)
    return render_template("timers/notifications.html", notifications=rows,
                           unread_only=unread_only, unread=ops.unread_count(current_user),
                           message=notification_message, confirm=ConfirmForm())


@bp.route("/notifications/read", methods=["POST"])
@permission_required()
def mark_read():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("id") if v.isdigit()] or None
    with unit_of_work():
        marked = ops.mark_notifications_read(current_user, ids)
    flash(_("%(n)d notification(s) marked as read.", n=marked), "success")
    return redirect(safe_next(request.form.get("next"), url_for("timers.notifications")))


# -- hooks into other areas' pages --------------------------------------------------------

def ticket_deadlines(tickets) -> dict:
    """Ticket lists: {ticket id: its nearest running deadline}, one query per list."""
    return deadlines_for([t.id for t in tickets])


def ticket_deadlines_section(ticket):
    """The ticket page card: each clock's due time, status, breach and minutes used."""
    clocks = db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)
                                .order_by(SlaClock.id)).all()
    if not clocks:
        return None
    now = utcnow()
    rows = [{"clock": c, "used": live_minutes_used(c, now),
             "overdue": c.status == "running" and now > c.due_at} for c in clocks]
    return {"title": _l("Deadlines (SLA)"), "template": "timers/_ticket_clocks.html",
            "context": {"rows": rows}}


def notifications_panel(user):
    """Home page: the user's unread notifications, if any."""
    rows = ops.notifications_for(user, unread_only=True, limit=5)
    if not rows:
        return None
    return {"title": _l("Unread notifications"), "template": "timers/_notifications_panel.html",
            "order": 30,
            "context": {"notifications": rows, "message": notification_message,
                        "unread": ops.unread_count(user)}}


def escalations_panel(user):
    if not user.can("escalations.view"):
        return None
    rows = escalated_clocks(user, limit=10)
    return {"title": _l("Escalated tickets"), "template": "timers/_escalations_table.html",
            "order": 10, "context": {"rows": rows, "more_url": url_for("timers.escalations")}}
