"""Incident operations (SPEC §4): open, edit, link tickets, review links, clear, release.

They flush and never commit: the request that calls one commits once, so an incident and its
announcement, or a release and every ticket it resolves, commit together or not at all.
Tickets change only through the workflow (fire_event): link_incident suspends and pauses the
clocks, reject_suspension returns a ticket, release_incident resolves it."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ticketing.announcements.operations import publish_system_announcement, withdraw
from ticketing.auth.models import Department
from ticketing.clock import utcnow
from ticketing.customers.models import Customer
from ticketing.errors import ApiError, Conflict, InvalidInput
from ticketing.extensions import db
from ticketing.faults.models import FaultCategory
from ticketing.incidents.models import SUSPENSION_TYPES, Incident, IncidentLink
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import fire_event, fire_events

# Who reviews links and reports the fault cleared unless the incident names another.
DEFAULT_DEPARTMENT = "repair"
# Repair sub-states a ticket can be linked from: unclassified ones are classified first.
LINKABLE_STATES = ("repair_new", "repair_verified", "repair_classified")
MAX_LINKS_PER_REQUEST = 5000
NAME_LIMIT, AREA_LIMIT, MAX_AREAS, TEXT_LIMIT = 200, 100, 50, 4000


def fault_categories(active_only: bool = True) -> list[FaultCategory]:
    query = select(FaultCategory).order_by(FaultCategory.sort_order, FaultCategory.id)
    if active_only:
        query = query.where(FaultCategory.active.is_(True))
    return list(db.session.scalars(query))


# -- opening and editing ------------------------------------------------------------------

def _clean(data: dict, partial: bool) -> dict:
    """Check an incident's fields; raise InvalidInput naming each bad one."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    if "name" in data or not partial:
        name = (data.get("name") or "").strip()
        if not name:
            errors["name"] = [_("Give the incident a name.")]
        elif len(name) > NAME_LIMIT:
            errors["name"] = [_("At most %(n)d characters.", n=NAME_LIMIT)]
        clean["name"] = name
    if "suspension_type" in data or not partial:
        kind = data.get("suspension_type") or "mass_fault"
        if kind not in SUSPENSION_TYPES:
            errors["suspension_type"] = [_("Unknown suspension type.")]
        clean["suspension_type"] = kind
    if "areas" in data or not partial:
        areas = [str(a).strip() for a in (data.get("areas") or []) if str(a).strip()]
        areas = list(dict.fromkeys(areas))
        if not areas:
            errors["areas"] = [_("Name at least one affected area.")]
        elif len(areas) > MAX_AREAS or any(len(a) > AREA_LIMIT for a in areas):
            errors["areas"] = [_("At most %(n)d areas of %(m)d characters each.",
                                 n=MAX_AREAS, m=AREA_LIMIT)]
        clean["areas"] = areas
    if "description" in data or not partial:
        text = (data.get("description") or "").strip()
        if len(text) > TEXT_LIMIT:
            errors["description"] = [_("At most %(n)d characters.", n=TEXT_LIMIT)]
        clean["description"] = text
    if "fault_category" in data or not partial:
        code = data.get("fault_category") or ""
        category = db.session.scalar(select(FaultCategory).where(
            FaultCategory.code == code, FaultCategory.active.is_(True)))
        if category is None:
            errors["fault_category"] = [_("Unknown fault category.")]
        else:
            clean["fault_category_id"] = category.id
    if "department_id" in data and data["department_id"] is not None:
        department = db.session.get(Department, data["department_id"])
        if department is None or not department.active:
            errors["department_id"] = [_("No such department.")]
        else:
            clean["department_id"] = department.id
    if errors:
        raise InvalidInput(errors)
    return clean


def _announcement_text(incident: Incident) -> tuple[str, str]:
    # Stored as the words agents read out to callers (the center speaks Chinese); the
    # incident's own fields are what the board shows in either language.
    category = incident.fault_category
    title = f"{category.name}故障：{incident.name}"
    body = (f"影响区域：{'、'.join(incident.areas)}。{incident.description}").strip()
    return title, body


def open_incident(actor, data: dict) -> Incident:
    """Open an incident and publish its announcement in the same transaction."""
    clean = _clean(data, partial=False)
    if "department_id" not in clean:
        clean["department_id"] = db.session.scalar(
            select(Department.id).where(Department.code == DEFAULT_DEPARTMENT))
        if clean["department_id"] is None:
            raise InvalidInput({"department_id": [_("Choose the authorised department.")]})
    incident = Incident(**clean, opened_by_id=getattr(actor, "id", None), opened_at=utcnow())
    incident.fault_category = db.session.get(FaultCategory, clean["fault_category_id"])
    title, body = _announcement_text(incident)
    incident.announcement = publish_system_announcement(actor, title, body)
    db.session.add(incident)
    db.session.flush()
    return incident


def _stale(incident: Incident) -> Conflict:
    return Conflict("stale_version",
                    _("Someone else changed this incident first; reload and try again."),
                    current_version=incident.version, state=incident.state)


def _require_state(incident: Incident, *states: str) -> None:
    if incident.state not in states:
        messages = {
            "open": _("The incident is no longer open."),
            "cleared": _("The fault has not been reported cleared yet."),
        }
        raise Conflict("incident_state", messages.get(states[0], _("Not possible now.")),
                       state=incident.state)


def update_incident(actor, incident: Incident, data: dict,
                    expected_version: int | None = None) -> Incident:
    """Edit an open incident; its announcement follows the new text."""
    if expected_version is not None and expected_version != incident.version:
        raise _stale(incident)
    _require_state(incident, "open")
    clean = _clean(data, partial=True)
    for name, value in clean.items():
        setattr(incident, name, value)
    db.session.flush()
    if incident.announcement is not None and incident.announcement.state == "current":
        incident.announcement.title, incident.announcement.body = _announcement_text(incident)
    db.session.flush()
    return incident


# -- linking ------------------------------------------------------------------------------

def _already_linked(ticket_ids) -> set[int]:
    """Tickets with a link still in force (pending or confirmed, not released)."""
    return set(db.session.scalars(select(IncidentLink.ticket_id).where(
        IncidentLink.ticket_id.in_(ticket_ids), IncidentLink.review != "rejected",
        IncidentLink.released_at.is_(None))))


def open_tickets_in_areas(areas, limit: int = MAX_LINKS_PER_REQUEST) -> list[int]:
    """Repair tickets not yet linked, of customers in the areas, that can be linked."""
    linked = select(IncidentLink.ticket_id).where(IncidentLink.review != "rejected",
                                                  IncidentLink.released_at.is_(None))
    return list(db.session.scalars(
        select(Ticket.id).join(Customer, Customer.id == Ticket.customer_id)
        .where(Customer.area.in_(list(areas)), Ticket.state.in_(LINKABLE_STATES),
               Ticket.id.not_in(linked))
        .order_by(Ticket.id).limit(limit)))


def link_tickets(actor, incident: Incident, ticket_ids: list[int] | None = None,
                 all_open_in_area: bool = False) -> list[IncidentLink]:
    """Link repair tickets to an open incident: each is classified under the incident's
    fault if it was not yet, then suspended by the workflow's link_incident event (clocks
    paused). All or nothing: one ticket that cannot be linked refuses the whole request."""
    _require_state(incident, "open")
    if all_open_in_area:
        ids = open_tickets_in_areas(incident.areas)
    else:
        ids = list(dict.fromkeys(ticket_ids or []))
        if not ids:
            raise InvalidInput({"ticket_ids": [_("Give the tickets to link, or "
                                                 "all_open_in_area.")]})
        if len(ids) > MAX_LINKS_PER_REQUEST:
            raise InvalidInput({"ticket_ids": [_("At most %(n)d tickets at once.",
                                                 n=MAX_LINKS_PER_REQUEST)]})
    tickets = {t.id: t for t in db.session.scalars(
        select(Ticket).where(Ticket.id.in_(ids)).with_for_update(of=Ticket))} if ids else {}
    missing = [i for i in ids if i not in tickets]
    if missing:
        raise ApiError(404, "not_found", _("No such ticket: %(ids)s",
                                           ids=", ".join(map(str, missing[:20]))),
                       ticket_ids=missing)
    not_repair = [i for i in ids if tickets[i].kind != "repair"]
    if not_repair:
        raise InvalidInput({"ticket_ids": [_("Only repair tickets can be linked to an "
                                             "incident: %(ids)s",
                                             ids=", ".join(map(str, not_repair[:20])))]})
    linked = sorted(_already_linked(ids))
    if linked:
        raise Conflict("already_linked", _("Already linked to an incident: %(ids)s",
                                           ids=", ".join(map(str, linked[:20]))),
                       ticket_ids=linked)
    wrong_state = [i for i in ids if tickets[i].state not in LINKABLE_STATES]
    if wrong_state:
        raise Conflict("ticket_not_linkable",
                       _("Only an open repair ticket not yet ordered can be linked "
                         "(closed, suspended or dispatched ones cannot): %(ids)s",
                         ids=", ".join(map(str, wrong_state[:20]))),
                       ticket_ids=wrong_state)
    now = utcnow()
    category = incident.fault_category
    # A ticket whose earlier link to this incident was rejected gets that row back.
    rejected = {link.ticket_id: link for link in db.session.scalars(select(IncidentLink).where(
        IncidentLink.incident_id == incident.id, IncidentLink.ticket_id.in_(ids)))}
    # Two batches of one event each (a thousand tickets in a few statements).
    fire_events(actor, [tickets[i] for i in ids if tickets[i].state != "repair_classified"],
                "classify_fault", {"fault_type": category.code})
    fire_events(actor, [tickets[i] for i in ids], "link_incident", {"incident_ref": incident.ref})
    links = []
    for ticket_id in ids:
        link = rejected.get(ticket_id) or IncidentLink(incident_id=incident.id,
                                                       ticket_id=ticket_id)
        link.linked_by_id, link.linked_at = getattr(actor, "id", None), now
        link.review, link.reviewed_by_id, link.reviewed_at, link.reason = "pending", None, None, ""
        links.append(link)
    db.session.add_all(links)
    db.session.flush()
    return links


def link_for(incident: Incident, ticket_id: int) -> IncidentLink:
    link = db.session.scalar(select(IncidentLink).where(
        IncidentLink.incident_id == incident.id, IncidentLink.ticket_id == ticket_id))
    if link is None:
        raise ApiError(404, "not_found", _("This ticket is not linked to the incident."))
    return link


def review_link(actor, incident: Incident, link: IncidentLink, confirm: bool,
                reason: str = "") -> IncidentLink:
    """The authorised department confirms the suspension holds or rejects it (the ticket
    returns to the sub-state it left, in its department, and its clocks resume)."""
    reason = (reason or "").strip()
    if link.review != "pending":
        raise Conflict("already_reviewed", _("This link has already been reviewed."),
                       review=link.review)
    if link.released_at is not None or incident.state == "released":
        raise Conflict("incident_state", _("The incident is no longer open."),
                       state=incident.state)
    if not confirm and not reason:
        raise InvalidInput({"reason": [_("Say why the suspension does not hold.")]})
    if len(reason) > TEXT_LIMIT:
        raise InvalidInput({"reason": [_("At most %(n)d characters.", n=TEXT_LIMIT)]})
    ticket = db.session.get(Ticket, link.ticket_id, with_for_update={"of": Ticket})
    if confirm:
        fire_event(actor, ticket, "approve_suspension", {"note": reason})
    else:
        fire_event(actor, ticket, "reject_suspension", {"note": reason})
    link.review = "confirmed" if confirm else "rejected"
    link.reviewed_by_id = getattr(actor, "id", None)
    link.reviewed_at = utcnow()
    link.reason = reason
    db.session.flush()
    return link


def clear_incident(actor, incident: Incident, expected_version: int | None = None) -> Incident:
    """The authorised department reports the fault cleared."""
    if expected_version is not None and expected_version != incident.version:
        raise _stale(incident)
    _require_state(incident, "open")
    incident.state = "cleared"
    incident.cleared_at = utcnow()
    incident.cleared_by_id = getattr(actor, "id", None)
    db.session.flush()
    return incident


def release_incident(actor, incident: Incident, note: str = "",
                     expected_version: int | None = None) -> int:
    """The call center confirms the service is back: every ticket still linked resumes and is
    resolved, and the announcement is withdrawn, all in the caller's one transaction.
    Returns how many tickets were resolved."""
    if expected_version is not None and expected_version != incident.version:
        raise _stale(incident)
    if incident.state == "released":
        raise Conflict("incident_state", _("This incident has already been released."),
                       state=incident.state)
    _require_state(incident, "cleared")
    # No note typed: the history row carries the incident, and says "service restored" in
    # each reader's language (labels.released_note), not in the releaser's.
    note = (note or "").strip()[:TEXT_LIMIT]
    now = utcnow()
    links = list(db.session.scalars(select(IncidentLink).where(
        IncidentLink.incident_id == incident.id, IncidentLink.review != "rejected",
        IncidentLink.released_at.is_(None)).order_by(IncidentLink.ticket_id)))
    ids = [link.ticket_id for link in links]
    tickets = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        tickets.update({t.id: t for t in db.session.scalars(
            select(Ticket).where(Ticket.id.in_(chunk)).with_for_update(of=Ticket))})
    resolving = [tickets[link.ticket_id] for link in links
                 if link.ticket_id in tickets and tickets[link.ticket_id].state == "suspended"]
    fire_events(actor, resolving, "release_incident", {"note": note},  # one batch
                links={"incident_id": incident.id, "incident_ref": incident.ref})
    resolved = len(resolving)
    for link in links:
        link.released_at = now
    incident.state = "released"
    incident.released_at = now
    incident.released_by_id = getattr(actor, "id", None)
    if incident.announcement is not None and incident.announcement.state == "current":
        withdraw(incident.announcement)
    db.session.flush()
    return resolved


def link_counts(incident_ids) -> dict[int, dict[str, int]]:
    """{incident id: {review: count}} for the board."""
    counts: dict[int, dict[str, int]] = {}
    if not incident_ids:
        return counts
    for incident_id, review, n in db.session.execute(
            select(IncidentLink.incident_id, IncidentLink.review, func.count())
            .where(IncidentLink.incident_id.in_(list(incident_ids)))
            .group_by(IncidentLink.incident_id, IncidentLink.review)):
        counts.setdefault(incident_id, {})[review] = n
    return counts


def open_incidents_in_area(area: str | None) -> list[Incident]:
    """Open incidents whose affected areas include the caller's (for the screen pop)."""
    if not area:
        return []
    return [i for i in db.session.scalars(select(Incident).where(Incident.state == "open")
                                          .order_by(Incident.id.desc()))
            if area in (i.areas or [])]


def open_incidents_for(user, areas) -> list[Incident]:
    """Open incidents in any of the areas, for a user who may see incidents (screen pop)."""
    if not user.can("incidents.view"):
        return []
    found: dict[int, Incident] = {}
    for area in dict.fromkeys(a for a in areas if a):
        for incident in open_incidents_in_area(area):
            found.setdefault(incident.id, incident)
    return list(found.values())
