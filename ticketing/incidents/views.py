"""Pages: the incident board, one incident with its linked tickets and actions, the call
screen's offer to open a repair ticket linked to an incident, the ticket page's offer to link."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ticketing.auth.permissions import forbidden, permission_required
from ticketing.customers.models import Customer
from ticketing.extensions import db
from ticketing.incidents import operations as ops
from ticketing.incidents.forms import (ActionForm, CallTicketForm, IncidentForm, LinkForm,
                                       ReviewForm)
from ticketing.incidents.labels import REVIEW_LABELS, STATE_LABELS, SUSPENSION_TYPE_LABELS
from ticketing.incidents.models import SUSPENSION_TYPES, Incident, IncidentLink
from ticketing.incidents.permissions import can_clear, can_review
from ticketing.tickets.labels import state_label
from ticketing.tickets.operations import open_ticket
from ticketing.tickets.permissions import can_open_ticket
from ticketing.unit import unit_of_work

bp = Blueprint("incidents", __name__)
LINKS_SHOWN = 2000


@bp.app_context_processor
def _incident_labels():
    return {"incident_state_labels": STATE_LABELS, "review_labels": REVIEW_LABELS,
            "suspension_type_labels": SUSPENSION_TYPE_LABELS,
            "incident_ticket_state_label": state_label}


def _locale() -> str:
    locale = get_locale()
    return str(locale) if locale else "zh"


def _incident_form(incident: Incident | None = None) -> IncidentForm:
    form = IncidentForm()
    form.suspension_type.choices = [SelectChoice(t, SUSPENSION_TYPE_LABELS[t])
                                    for t in SUSPENSION_TYPES]
    form.fault_category.choices = [SelectChoice(c.code, c.display_name(_locale()))
                                   for c in ops.fault_categories()]
    if incident is not None and request.method == "GET":
        form.name.data = incident.name
        form.suspension_type.data = incident.suspension_type
        form.fault_category.data = incident.fault_category.code
        form.areas.data = ", ".join(incident.areas)
        form.description.data = incident.description
        form.version.data = str(incident.version)
    return form


def _incident(incident_id: int, lock: bool = False) -> Incident:
    # FOR UPDATE OF incidents: the eager joins' outer sides cannot be locked (PostgreSQL).
    incident = db.session.get(Incident, incident_id,
                              with_for_update={"of": Incident} if lock else None)
    if incident is None:
        abort(404)
    return incident


def _version(form) -> int | None:
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() else None


@bp.route("/incidents")
@permission_required("incidents.view")
def board():
    incidents = db.session.scalars(select(Incident).where(Incident.state != "released")
                                   .order_by(Incident.id.desc())).all()
    released = db.session.scalars(select(Incident).where(Incident.state == "released")
                                  .order_by(Incident.id.desc()).limit(20)).all()
    counts = ops.link_counts([i.id for i in incidents + released])
    form = _incident_form() if current_user.can("incidents.manage") else None
    return render_template("incidents/board.html", incidents=incidents, released=released,
                           counts=counts, form=form, locale=_locale())


@bp.route("/incidents/new", methods=["POST"])
@permission_required("incidents.manage")
def create():
    form = _incident_form()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            incident = ops.open_incident(current_user, form.incident_data())
        if work.ok:
            flash(_("Incident %(ref)s opened and announced.", ref=incident.ref), "success")
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    incidents = db.session.scalars(select(Incident).where(Incident.state != "released")
                                   .order_by(Incident.id.desc())).all()
    return render_template("incidents/board.html", incidents=incidents, released=[],
                           counts=ops.link_counts([i.id for i in incidents]), form=form,
                           locale=_locale()), 400


def _render_detail(incident: Incident, edit_form=None, link_form=None, status: int = 200):
    links = db.session.scalars(select(IncidentLink).where(
        IncidentLink.incident_id == incident.id).order_by(IncidentLink.ticket_id)
        .limit(LINKS_SHOWN)).all()
    editable = current_user.can("incidents.manage") and incident.state == "open"
    return render_template(
        "incidents/detail.html", incident=incident, links=links, locale=_locale(),
        edit_form=edit_form or (_incident_form(incident) if editable else None),
        link_form=link_form or (LinkForm(formdata=None) if current_user.can("incidents.link")
                                and incident.state == "open" else None),
        review_form=ReviewForm(formdata=None) if can_review(current_user, incident) else None,
        action_form=ActionForm(formdata=None, data={"version": str(incident.version)}),
        may_clear=can_clear(current_user, incident),
        may_release=current_user.can("incidents.release")), status


@bp.route("/incidents/<int:incident_id>")
@permission_required("incidents.view")
def detail(incident_id):
    return _render_detail(_incident(incident_id))


@bp.route("/incidents/<int:incident_id>/edit", methods=["POST"])
@permission_required("incidents.manage")
def edit(incident_id):
    incident = _incident(incident_id, lock=True)
    form = _incident_form(incident)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            ops.update_incident(current_user, incident, form.incident_data(), _version(form))
        if work.ok:
            flash(_("Incident %(ref)s saved.", ref=incident.ref), "success")
            return redirect(url_for("incidents.detail", incident_id=incident_id))
    return _render_detail(_incident(incident_id), edit_form=form, status=400)


def _refused(exc) -> None:
    fields = (exc.extra or {}).get("fields") or {}
    for messages in fields.values():
        for message in messages:
            flash(message, "error")
    if not fields:
        flash(exc.message, "error")


def _ids(text: str) -> list[int] | None:
    parts = [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]
    if not all(p.isdigit() and len(p) < 10 for p in parts):
        return None
    return [int(p) for p in parts]


@bp.route("/incidents/<int:incident_id>/links", methods=["POST"])
@permission_required("incidents.link")
def link(incident_id):
    from ticketing.errors import ApiError
    incident = _incident(incident_id, lock=True)
    form = LinkForm()
    if form.validate_on_submit():
        ids = _ids(form.ticket_ids.data)
        if ids is None:
            form.ticket_ids.errors = [_("Give ticket ids separated by commas.")]
        else:
            try:
                with unit_of_work():
                    links = ops.link_tickets(current_user, incident, ids,
                                             bool(form.all_open_in_area.data))
                    count = len(links)
                flash(_("%(n)d tickets linked.", n=count), "success")
                return redirect(request.form.get("next") or url_for("incidents.detail",
                                                                    incident_id=incident_id))
            except ApiError as exc:
                _refused(exc)
    return _render_detail(_incident(incident_id), link_form=form, status=400)


@bp.route("/incidents/<int:incident_id>/links/<int:ticket_id>/review", methods=["POST"])
@permission_required("incidents.review")
def review(incident_id, ticket_id):
    from ticketing.errors import ApiError
    incident = _incident(incident_id, lock=True)
    if not can_review(current_user, incident):
        raise forbidden(_("Only the incident's authorised department reviews its links."))
    form = ReviewForm()
    link_row = db.session.scalar(select(IncidentLink).where(
        IncidentLink.incident_id == incident_id, IncidentLink.ticket_id == ticket_id))
    if link_row is None:
        abort(404)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                ops.review_link(current_user, incident, link_row,
                                form.decision.data == "confirm", form.reason.data or "")
            flash(_("Review recorded."), "success")
            return redirect(url_for("incidents.detail", incident_id=incident_id))
        except ApiError as exc:
            _refused(exc)
    return _render_detail(_incident(incident_id), status=400)


def _state_action(incident_id: int, action: str):
    from ticketing.errors import ApiError
    incident = _incident(incident_id, lock=True)
    if action == "clear" and not can_clear(current_user, incident):
        raise forbidden(_("Only the incident's authorised department reports it cleared."))
    form = ActionForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                if action == "clear":
                    ops.clear_incident(current_user, incident, _version(form))
                    message = _("Fault reported cleared.")
                else:
                    n = ops.release_incident(current_user, incident, form.note.data or "",
                                             _version(form))
                    message = _("Incident released: %(n)d tickets resolved.", n=n)
            flash(message, "success")
            return redirect(url_for("incidents.detail", incident_id=incident_id))
        except ApiError as exc:
            _refused(exc)
    return _render_detail(_incident(incident_id), status=409)


@bp.route("/incidents/<int:incident_id>/clear", methods=["POST"])
@permission_required("incidents.clear")
def clear(incident_id):
    return _state_action(incident_id, "clear")


@bp.route("/incidents/<int:incident_id>/release", methods=["POST"])
@permission_required("incidents.release")
def release(incident_id):
    return _state_action(incident_id, "release")


@bp.route("/incidents/<int:incident_id>/call-ticket", methods=["POST"])
@permission_required("incidents.link")
def call_ticket(incident_id):
    """From the call screen: open the caller's repair ticket and link it, in one step."""
    from ticketing.errors import ApiError
    if not can_open_ticket(current_user):
        raise forbidden()
    incident = _incident(incident_id, lock=True)
    form = CallTicketForm()
    customer = None
    if (form.customer_id.data or "").isdigit() and len(form.customer_id.data) < 10:
        customer = db.session.get(Customer, int(form.customer_id.data))
    if form.validate_on_submit() and customer is not None:
        try:
            with unit_of_work():
                ticket = open_ticket(current_user, kind="repair", customer_id=customer.id,
                                     caller_phone=form.caller_phone.data or "",
                                     description=form.description.data)
                ops.link_tickets(current_user, incident, [ticket.id])
                ticket_id, number = ticket.id, ticket.number
            flash(_("Ticket %(number)s opened and linked to incident %(ref)s.",
                    number=number, ref=incident.ref), "success")
            return redirect(url_for("tickets.detail", ticket_id=ticket_id))
        except ApiError as exc:
            _refused(exc)
    else:
        flash(_("Describe what the caller reports."), "error")
    return redirect(url_for("tickets.call_screen", phone=form.caller_phone.data or ""))


# -- what other pages show --------------------------------------------------------------

def call_screen_incidents(customer) -> dict:
    """Open incidents in the caller's area with the form that opens a linked ticket."""
    incidents = ops.open_incidents_in_area(getattr(customer, "area", None))
    may_link = current_user.can("incidents.link") and can_open_ticket(current_user)
    return {"incidents": incidents,
            "form": CallTicketForm(formdata=None) if may_link and incidents else None}


def ticket_incident_section(ticket):
    """The ticket page card: the incident it is linked to, or open ones in its area to link."""
    if not current_user.can("incidents.view"):
        return None
    link_row = db.session.scalar(select(IncidentLink).where(
        IncidentLink.ticket_id == ticket.id).order_by(IncidentLink.id.desc()).limit(1))
    if link_row is not None:
        incident = db.session.get(Incident, link_row.incident_id)
        return {"title": _l("Incident"), "template": "incidents/_ticket_section.html",
                "context": {"link": link_row, "incident": incident, "offers": [],
                            "form": None}}
    if ticket.kind != "repair" or ticket.state not in ops.LINKABLE_STATES:
        return None
    area = ticket.customer.area if ticket.customer_id and ticket.customer else None
    offers = ops.open_incidents_in_area(area)
    if not offers:
        return None
    form = LinkForm(formdata=None) if current_user.can("incidents.link") else None
    return {"title": _l("Incident"), "template": "incidents/_ticket_section.html",
            "context": {"link": None, "incident": None, "offers": offers, "form": form}}


def incidents_panel(user):
    """Home page: open incidents, for everyone who may see them."""
    if not user.can("incidents.view"):
        return None
    rows = db.session.scalars(select(Incident).where(Incident.state != "released")
                              .order_by(Incident.id.desc()).limit(10)).all()
    if not rows:
        return None
    return {"title": _l("Open incidents"), "template": "incidents/_panel.html",
            "context": {"incidents": rows}}
