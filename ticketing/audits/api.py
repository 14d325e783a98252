"""API: the audit rules, the audit queue, one audit with its steps, the decision; the
liability of a complaint, its appeal and the ruling on it."""
from functools import partial

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ticketing.apiutil import ApiBlueprint
from ticketing.audits import liability as liability_ops, operations as ops, queries
from ticketing.audits.models import Audit
from ticketing.audits.permissions import can_reach_liability
from ticketing.audits.schemas import (AppealSchema, AuditConflictSchema, AuditDetailSchema,
                                      AuditPageSchema, AuditQuerySchema, DecisionSchema,
                                      LiabilityCreateSchema, LiabilitySchema, RulesSchema,
                                      RulingSchema)
from ticketing.auth.permissions import permission_required
from ticketing.callbacks.queries import callbacks_of_ticket
from ticketing.errors import ApiError, Conflict
from ticketing.extensions import db
from ticketing.tickets.models import Ticket
from ticketing.tickets.permissions import can_view_ticket
from ticketing.unit import unit_of_work

blp = ApiBlueprint("audits_api", __name__, url_prefix="/api/v1",
                   description="Supervision: audits (监管) and complaint liability (责任定性)")


# 409s name what they conflict on.
_errors = partial(blp.errors, conflict_schema=AuditConflictSchema)


def _audit_or_404(audit_id: int) -> Audit:
    """The audit, if the user may see its ticket."""
    audit = db.session.get(Audit, audit_id)
    if audit is None or not can_view_ticket(current_user, audit.ticket):
        raise ApiError(404, "not_found", _("No such audit."))
    return audit


def _ticket_or_404(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_reach_liability(current_user, ticket,
                                                 liability_ops.liability_of(ticket_id)):
        raise ApiError(404, "not_found", _("No such ticket."))
    return ticket


class AuditDetail:
    """An audit with what its page shows beside it (steps, deadlines, callbacks, liability)."""

    def __init__(self, audit: Audit):
        self._audit = audit
        self.steps = queries.steps(audit.ticket_id)
        self.deadlines = queries.deadlines(audit.ticket_id)
        self.callbacks = callbacks_of_ticket(audit.ticket_id)
        self.liability = liability_ops.liability_of(audit.ticket_id)

    def __getattr__(self, name):
        return getattr(self._audit, name)


def _stale_data(message):
    return Conflict("stale_version", message)


@blp.route("/audit-rules", methods=["GET"])
@blp.response(200, RulesSchema)
@_errors(401, 403)
@permission_required("audits.rules")
def get_rules():
    """The audit rules (send `version` back with a change)."""
    return ops.current_rules()


@blp.route("/audit-rules", methods=["PUT"])
@blp.arguments(RulesSchema)
@blp.response(200, RulesSchema)
@_errors(400, 401, 403, 409)
@permission_required("audits.rules")
def put_rules(data):
    """Replace the audit rules; the new version draws a new sample. 409 if someone saved
    since the version you read."""
    try:
        with unit_of_work():
            row = ops.save_rules(data, data["version"])
            body = RulesSchema().dump(row)
    except StaleDataError:
        raise _stale_data(_("Someone else changed the audit rules after you read them; "
                            "reload and try again.")) from None
    return body


@blp.route("/audits", methods=["GET"])
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditPageSchema)
@_errors(400, 401, 403)
@permission_required("audits.view")
def list_audits(args):
    """Audits, soonest due first; pass next_cursor back as cursor for the next page."""
    rows, next_cursor = queries.audit_page(current_user, **args)
    return {"items": rows, "next_cursor": next_cursor}


@blp.route("/audits/<int:audit_id>", methods=["GET"])
@blp.response(200, AuditDetailSchema)
@_errors(401, 403, 404)
@permission_required("audits.view")
def get_audit(audit_id):
    """One audit: every handling step of its ticket (time, person, department, event, note),
    every SLA deadline met or missed, its callbacks and the complaint's liability."""
    return AuditDetail(_audit_or_404(audit_id))


@blp.route("/audits/<int:audit_id>/decision", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, AuditDetailSchema)
@_errors(400, 401, 403, 404, 409)
@permission_required("audits.decide")
def decide(data, audit_id):
    """Pass or reject an open audit. A reject needs a reason and reopens the ticket with the
    reason in its history. 409: the audit is done (audit_done), or changed since the version
    you sent (stale_version)."""
    audit = _audit_or_404(audit_id)
    try:
        with unit_of_work():
            ops.decide(current_user, audit, data["decision"], data["reason"],
                       expected_version=data["version"])
    except StaleDataError:
        raise _stale_data(_("Someone else changed this audit after you opened it; reload "
                            "and try again.")) from None
    return AuditDetail(_audit_or_404(audit_id))


def _liability_write(action):
    try:
        with unit_of_work():
            row = action()
            body = jsonify(LiabilitySchema().dump(row))
    except StaleDataError:
        raise _stale_data(_("Someone else changed this liability ruling after you read it; "
                            "reload and try again.")) from None
    return body


@blp.route("/tickets/<int:ticket_id>/liability", methods=["POST"])
@blp.arguments(LiabilityCreateSchema)
@blp.response(200, LiabilitySchema)
@_errors(400, 401, 403, 404, 409)
@permission_required("audits.liability")
def record_liability(data, ticket_id):
    """Record whether the complaint was justified and who is responsible (again, to correct
    it, until the department appeals). 409: not a complaint (not_a_complaint), appealed
    (appealed), stale_version."""
    ticket = _ticket_or_404(ticket_id)
    return _liability_write(lambda: liability_ops.record_liability(
        current_user, ticket, data, expected_version=data["version"]))


@blp.route("/tickets/<int:ticket_id>/liability/appeal", methods=["POST"])
@blp.arguments(AppealSchema)
@blp.response(200, LiabilitySchema)
@_errors(400, 401, 403, 404, 409)
@permission_required("audits.appeal")
def appeal(data, ticket_id):
    """The responsible department appeals the ruling, once (403 for anyone outside it).
    409: no_liability, not_justified, appealed (a second appeal), stale_version."""
    ticket = _ticket_or_404(ticket_id)
    return _liability_write(lambda: liability_ops.appeal(
        current_user, ticket, data["reason"], expected_version=data["version"]))


@blp.route("/tickets/<int:ticket_id>/liability/ruling", methods=["POST"])
@blp.arguments(RulingSchema)
@blp.response(200, LiabilitySchema)
@_errors(400, 401, 403, 404, 409)
@permission_required("audits.liability")
def rule_on_appeal(data, ticket_id):
    """A second supervisor rules on the appeal: upheld (the ruling stands) or not.
    409: no_liability, no_appeal, ruled, same_reviewer (the first reviewer), stale_version."""
    ticket = _ticket_or_404(ticket_id)
    return _liability_write(lambda: liability_ops.rule_on_appeal(
        current_user, ticket, data["upheld"], data["note"], expected_version=data["version"]))
