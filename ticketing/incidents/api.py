"""API: incidents (事件), their linked tickets, reviews, clearing and release."""
from flask import jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ticketing.apiutil import ApiBlueprint
from ticketing.auth.permissions import forbidden, permission_required
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.incidents import operations as ops
from ticketing.incidents.models import Incident, IncidentLink
from ticketing.incidents.permissions import can_clear, can_review
from ticketing.incidents.schemas import (FaultCategorySchema, IncidentCreateSchema,
                                         IncidentQuerySchema, IncidentSchema,
                                         IncidentUpdateSchema, LinkRequestSchema,
                                         IncidentLinkResultSchema, IncidentLinkSchema, ReleaseResultSchema,
                                         ReleaseSchema, ReviewSchema, VersionSchema)
from ticketing.unit import unit_of_work

blp = ApiBlueprint("incidents_api", __name__, url_prefix="/api/v1",
                   description="Incidents (事件): mass faults")




def _incident_or_404(incident_id: int, lock: bool = False) -> Incident:
    # FOR UPDATE OF incidents: the eager joins' outer sides cannot be locked (PostgreSQL).
    incident = db.session.get(Incident, incident_id,
                              with_for_update={"of": Incident} if lock else None)
    if incident is None:
        raise ApiError(404, "not_found", _("No such incident."))
    return incident


@blp.route("/fault-categories", methods=["GET"])
@blp.response(200, FaultCategorySchema(many=True))
@blp.errors(401)
@permission_required()
def list_fault_categories():
    """Fault categories incidents and repairs are classified under (reference data)."""
    return ops.fault_categories()


@blp.route("/incidents", methods=["GET"])
@blp.arguments(IncidentQuerySchema, location="query")
@blp.response(200, IncidentSchema(many=True))
@blp.errors(400, 401, 403)
@permission_required("incidents.view")
def list_incidents(args):
    """Incidents, newest first (filter by state)."""
    query = select(Incident).order_by(Incident.id.desc()).limit(500)
    if args.get("state"):
        query = query.where(Incident.state == args["state"])
    return db.session.scalars(query).all()


@blp.route("/incidents", methods=["POST"])
@blp.arguments(IncidentCreateSchema)
@blp.response(201, IncidentSchema)
@blp.errors(400, 401, 403)
@permission_required("incidents.manage")
def create_incident(data):
    """Open an incident; its announcement is published in the same transaction."""
    with unit_of_work():
        incident = ops.open_incident(current_user, data)
        body = jsonify(IncidentSchema().dump(incident))
        location = url_for("incidents_api.get_incident", incident_id=incident.id)
    return body, 201, {"Location": location}


@blp.route("/incidents/<int:incident_id>", methods=["GET"])
@blp.response(200, IncidentSchema)
@blp.errors(401, 403, 404)
@permission_required("incidents.view")
def get_incident(incident_id):
    return _incident_or_404(incident_id)


@blp.route("/incidents/<int:incident_id>", methods=["PATCH"])
@blp.arguments(IncidentUpdateSchema)
@blp.response(200, IncidentSchema)
@blp.errors(400, 401, 403, 404, 409)
@permission_required("incidents.manage")
def update_incident(data, incident_id):
    """Edit an open incident with the version you read (409 once cleared, or stale)."""
    incident = _incident_or_404(incident_id, lock=True)
    version = data.pop("version")
    with unit_of_work():
        ops.update_incident(current_user, incident, data, expected_version=version)
    return incident


@blp.route("/incidents/<int:incident_id>/links", methods=["GET"])
@blp.response(200, IncidentLinkSchema(many=True))
@blp.errors(401, 403, 404)
@permission_required("incidents.view")
def list_links(incident_id):
    """The tickets linked to the incident and each one's review."""
    _incident_or_404(incident_id)
    return db.session.scalars(select(IncidentLink).where(
        IncidentLink.incident_id == incident_id).order_by(IncidentLink.ticket_id)).all()


@blp.route("/incidents/<int:incident_id>/links", methods=["POST"])
@blp.arguments(LinkRequestSchema)
@blp.response(201, IncidentLinkResultSchema)
@blp.errors(400, 401, 403, 404, 409)
@permission_required("incidents.link")
def link_tickets(data, incident_id):
    """Link repair tickets (or every linkable one in the incident's areas): each is suspended
    with its SLA clocks paused. All or nothing: 400 for a ticket that is not a repair, 409
    for a closed, suspended or already linked one."""
    incident = _incident_or_404(incident_id, lock=True)
    with unit_of_work():
        links = ops.link_tickets(current_user, incident, data.get("ticket_ids"),
                                 data["all_open_in_area"])
        ids = [link.ticket_id for link in links]
    return {"linked": len(ids), "ticket_ids": ids}


@blp.route("/incidents/<int:incident_id>/links/<int:ticket_id>/review", methods=["POST"])
@blp.arguments(ReviewSchema)
@blp.response(200, IncidentLinkSchema)
@blp.errors(400, 401, 403, 404, 409)
@permission_required("incidents.review")
def review_link(data, incident_id, ticket_id):
    """The authorised department confirms the suspension, or rejects it with a reason (the
    ticket goes back to its department and its clocks resume)."""
    incident = _incident_or_404(incident_id, lock=True)
    if not can_review(current_user, incident):
        raise forbidden(_("Only the incident's authorised department reviews its links."))
    link = ops.link_for(incident, ticket_id)
    with unit_of_work():
        ops.review_link(current_user, incident, link, data["confirm"], data["reason"])
    return link


@blp.route("/incidents/<int:incident_id>/clear", methods=["POST"])
@blp.arguments(VersionSchema)
@blp.response(200, IncidentSchema)
@blp.errors(400, 401, 403, 404, 409)
@permission_required("incidents.clear")
def clear_incident(data, incident_id):
    """The authorised department reports the fault cleared."""
    incident = _incident_or_404(incident_id, lock=True)
    if not can_clear(current_user, incident):
        raise forbidden(_("Only the incident's authorised department reports it cleared."))
    with unit_of_work():
        ops.clear_incident(current_user, incident, data.get("version"))
    return incident


@blp.route("/incidents/<int:incident_id>/release", methods=["POST"])
@blp.arguments(ReleaseSchema)
@blp.response(200, ReleaseResultSchema)
@blp.errors(400, 401, 403, 404, 409)
@permission_required("incidents.release")
def release_incident(data, incident_id):
    """The service is back: every linked ticket resumes and is resolved and the announcement
    is withdrawn, in one transaction (409 before the fault is cleared or a second time)."""
    incident = _incident_or_404(incident_id, lock=True)
    with unit_of_work():
        resolved = ops.release_incident(current_user, incident, data["note"],
                                        data.get("version"))
    return {"incident": incident, "resolved": resolved}
