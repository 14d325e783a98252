"""Complaint liability (责任定性, SPEC §6): a supervisor rules whether the complaint was
justified and who is responsible; the responsible department may appeal once; a second
supervisor, never the first reviewer, rules on the appeal. Operations flush, never commit."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ticketing.audits.models import ComplaintLiability
from ticketing.auth.models import Department, User
from ticketing.clock import utcnow
from ticketing.errors import ApiError, Conflict, InvalidInput
from ticketing.extensions import db
from ticketing.tickets.models import Ticket

TEXT_LIMIT = 4000
_PEOPLE = ["department", "person", "reviewer", "appealed_by", "ruled_by"]


def _saved(liability: ComplaintLiability) -> ComplaintLiability:
    """Flush, and let the people and department be read again from the ids just set."""
    db.session.flush()
    db.session.expire(liability, _PEOPLE)
    return liability


def liability_of(ticket_id: int) -> ComplaintLiability | None:
    return db.session.scalar(select(ComplaintLiability).where(
        ComplaintLiability.ticket_id == ticket_id))


def _stale(liability: ComplaintLiability) -> Conflict:
    return Conflict("stale_version", _("Someone else changed this liability ruling after you "
                                       "read it; reload and try again."),
                    current_version=liability.version)


def _check_version(liability: ComplaintLiability | None, expected_version: int | None) -> None:
    current = liability.version if liability is not None else 0
    if expected_version is not None and expected_version != current:
        if liability is None:
            raise Conflict("stale_version", _("Someone else changed this liability ruling "
                                              "after you read it; reload and try again."),
                           current_version=0)
        raise _stale(liability)


def _text(value, name: str, errors: dict, required: bool = False, message=None) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[name] = [message or _("This field is required.")]
    elif len(text) > TEXT_LIMIT:
        errors[name] = [_("At most %(n)d characters.", n=TEXT_LIMIT)]
    return text


def record_liability(actor: User, ticket: Ticket, data: dict,
                     expected_version: int | None = None) -> ComplaintLiability:
    """Record (or, before any appeal, correct) the liability of a complaint.

    409: not a complaint (not_a_complaint), appealed already (appealed), stale version;
    400: a justified complaint without its department, an unknown department or person, a
    person outside the department, a person or department on an unjustified one."""
    if ticket.kind != "complaint":
        raise Conflict("not_a_complaint", _("Liability is ruled on complaints only; this "
                                            "ticket is a %(kind)s.", kind=_kind(ticket.kind)))
    liability = liability_of(ticket.id)
    _check_version(liability, expected_version)
    if liability is not None and liability.appealed_at is not None:
        raise Conflict("appealed", _("The department has appealed this ruling; only the "
                                     "ruling on the appeal may follow."))
    errors: dict[str, list[str]] = {}
    justified = bool(data["justified"])
    department_id, person_id = data.get("department_id"), data.get("person_id")
    note = _text(data.get("note"), "note", errors)
    if justified and department_id is None:
        errors["department_id"] = [_("Name the responsible department of a justified "
                                     "complaint.")]
    if not justified and (department_id is not None or person_id is not None):
        errors["justified"] = [_("An unjustified complaint names no responsible department "
                                 "or person.")]
    if department_id is not None:
        department = db.session.get(Department, department_id)
        if department is None or not department.active:
            errors["department_id"] = [_("No such department.")]
    if person_id is not None:
        person = db.session.get(User, person_id)
        if person is None:
            errors["person_id"] = [_("No such user.")]
        elif department_id is not None and person.department_id != department_id:
            errors["person_id"] = [_("%(user)s is not a member of the responsible department.",
                                     user=person.display_name)]
    if errors:
        raise InvalidInput(errors)
    if liability is None:
        liability = ComplaintLiability(ticket_id=ticket.id)
        db.session.add(liability)
    liability.justified, liability.department_id, liability.person_id = (
        justified, department_id, person_id)
    liability.note, liability.reviewer_id, liability.recorded_at = note, actor.id, utcnow()
    return _saved(liability)


def _kind(kind: str) -> str:
    from ticketing.tickets.labels import KIND_LABELS
    return str(KIND_LABELS.get(kind, kind))


def _existing(ticket: Ticket) -> ComplaintLiability:
    liability = liability_of(ticket.id)
    if liability is None:
        raise Conflict("no_liability", _("No liability has been ruled on this ticket yet."))
    return liability


def appeal(actor: User, ticket: Ticket, reason: str,
           expected_version: int | None = None) -> ComplaintLiability:
    """The responsible department appeals, once. 403 for anyone outside it; 409: nothing to
    appeal (no_liability, not_justified), appealed already (appealed), stale version; 400: no
    reason."""
    liability = _existing(ticket)
    _check_version(liability, expected_version)
    if not liability.justified:
        raise Conflict("not_justified", _("The complaint was ruled unjustified: no department "
                                          "is held responsible, so there is nothing to "
                                          "appeal."))
    if liability.appealed_at is not None:
        raise Conflict("appealed", _("This ruling has been appealed already; a department "
                                     "may appeal once."))
    if actor.department_id is None or actor.department_id != liability.department_id:
        raise ApiError(403, "forbidden", _("Only the responsible department may appeal this "
                                           "ruling."))
    errors: dict[str, list[str]] = {}
    text = _text(reason, "reason", errors, required=True,
                 message=_("Give the reason for the appeal."))
    if errors:
        raise InvalidInput(errors)
    liability.appeal_reason, liability.appealed_by_id = text, actor.id
    liability.appealed_at = utcnow()
    return _saved(liability)


def rule_on_appeal(actor: User, ticket: Ticket, upheld: bool, note: str,
                   expected_version: int | None = None) -> ComplaintLiability:
    """A second supervisor rules on the appeal: upheld (the ruling stands) or overturned.
    409: no appeal pending (no_appeal), ruled already (ruled), the first reviewer
    (same_reviewer), stale version."""
    liability = _existing(ticket)
    _check_version(liability, expected_version)
    if liability.appealed_at is None:
        raise Conflict("no_appeal", _("There is no appeal to rule on."))
    if liability.ruled_at is not None:
        raise Conflict("ruled", _("The appeal has been ruled on already."))
    if liability.reviewer_id == actor.id:
        raise Conflict("same_reviewer", _("You made the ruling under appeal; a second "
                                          "supervisor rules on the appeal."))
    errors: dict[str, list[str]] = {}
    text = _text(note, "note", errors)
    if errors:
        raise InvalidInput(errors)
    liability.upheld, liability.ruling_note = bool(upheld), text
    liability.ruled_by_id, liability.ruled_at = actor.id, utcnow()
    return _saved(liability)
