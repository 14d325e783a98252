"""Audit operations (SPEC §6). They flush, never commit: the request, or the sweep, that calls
them commits once. An audit is made by a tickets_transitioned receiver when a closing is
selected, and by a callback_surveyed receiver when a survey is unsatisfied, so it commits
with the closing or the survey that selected it; a reject reopens the ticket through the
workflow's `reopen` event, so the decision, the reopening and its history row (linking the
audit) commit together."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from ticketing.audits.models import Audit, AuditRules
from ticketing.audits.sampling import sampled
from ticketing.auth.models import User
from ticketing.callbacks.models import Callback
from ticketing.callbacks.operations import business_due, notify_overdue
from ticketing.clock import utcnow
from ticketing.errors import Conflict, InvalidInput
from ticketing.extensions import db
from ticketing.kept import kept
from ticketing.settings_row import (check_calendar, current_row, ensure_row, keep_row,
                                    replace_row, row_to_replace)
from ticketing.signals import ticket_noted
from ticketing.tickets.models import Ticket, TicketEvent
from ticketing.timers.clocks import RowTimer, breached_in_round, insert_with_timers

OVERDUE = "audit_overdue"  # the timer kind, and the notification kind
# In the data of the reopening a rejected audit made. (Rows written before 2026-12-01 carry
# only audit_id, with "Audit rejected: …" stored in the note.)
REJECTED_LINK = "rejected_by_audit"
ESCALATION_PERMISSION = "audits.escalations"
RULES_ID = 1
DEFAULTS = {"complaints": True, "unsatisfied_callbacks": True, "sla_breaches": True,
            "sample_percent": 10, "due_minutes": 960}
MAX_MINUTES = 60 * 24 * 30  # a month of business minutes
REASON_LIMIT = 4000


# -- rules ---------------------------------------------------------------------------------

def ensure_audit_rules() -> list[str]:
    return ensure_row(AuditRules, RULES_ID, DEFAULTS, "audit rules")


def current_rules() -> AuditRules:
    return current_row(AuditRules, RULES_ID, DEFAULTS)


keep_row("audit_rules", AuditRules, RULES_ID, DEFAULTS)


def rules_in_force():
    """The rules as plain values (the row's columns), kept per process: what closings and
    surveys read. The functions below that take `rules` take these or the row."""
    return kept("audit_rules")


def save_rules(data: dict, expected_version: int) -> AuditRules:
    """Replace the rules; a new version draws a new sample. 400 on invalid values, 409 if
    someone saved since `expected_version`."""
    row = row_to_replace(AuditRules, RULES_ID, expected_version,
                         _("Someone else changed the audit rules after you read them; reload "
                           "and try again."))
    errors: dict[str, list[str]] = {}
    if not 0 <= data["sample_percent"] <= 100:
        errors["sample_percent"] = [_("Give a share from 0 to 100 per cent.")]
    if not 1 <= data["due_minutes"] <= MAX_MINUTES:
        errors["due_minutes"] = [_("Give the business minutes an audit may take (1 to "
                                   "%(max)s).", max=MAX_MINUTES)]
    check_calendar(data.get("calendar_id"), errors)
    if errors:
        raise InvalidInput(errors)
    return replace_row(AuditRules, RULES_ID, row, {
        name: data[name] for name in ("complaints", "unsatisfied_callbacks", "sla_breaches",
                                      "sample_percent", "due_minutes")},
        data.get("calendar_id"))


# -- selection -----------------------------------------------------------------------------

def _chunks(ids: list[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _had_unsatisfied_callback(tickets: list[Ticket]) -> set[int]:
    # A callback is made at a closing: before the first reopening there is none to look for.
    ids = [t.id for t in tickets if t.reopen_count]
    found = set()
    for chunk in _chunks(ids):
        found.update(db.session.scalars(select(Callback.ticket_id).where(
            Callback.ticket_id.in_(chunk), Callback.result == "unsatisfied")))
    return found


def closing_reasons(tickets: list[Ticket], rules,
                    at: datetime) -> dict[int, list[str]]:
    """{ticket id: the rules that select its closing, in REASONS order}; the sample only
    draws from the tickets no other rule selected."""
    unsatisfied = _had_unsatisfied_callback(tickets) if rules.unsatisfied_callbacks else set()
    breached = breached_in_round(tickets, at) if rules.sla_breaches else set()
    selected = {}
    for ticket in tickets:
        reasons = []
        if rules.complaints and ticket.kind == "complaint":
            reasons.append("complaint")
        if ticket.id in unsatisfied:
            reasons.append("unsatisfied_callback")
        if ticket.id in breached:
            reasons.append("sla_breach")
        if not reasons and sampled(ticket.id, rules.version, rules.sample_percent):
            reasons.append("sample")
        selected[ticket.id] = reasons
    return selected


OVERDUE_TIMER = RowTimer(OVERDUE, "audit", "audit_id")  # `audit:<id>`


def overdue_timer_row(audit_id: int, ticket_id: int, due_at: datetime,
                      created_at: datetime) -> dict:
    return OVERDUE_TIMER.row(audit_id, ticket_id, due_at, created_at)


def _create(ticket: Ticket, *, round_: int, trigger: str, reasons: list[str],
            rules, at: datetime, callback_id: int | None = None) -> int:
    return _create_many([(ticket, round_, reasons, callback_id)], trigger=trigger,
                        rules=rules, at=at)[0]


def _create_many(items, *, trigger: str, rules, at: datetime) -> list[int]:
    """Audits of (ticket, round, reasons, callback id) items, with their overdue timers
    (timers.clocks.insert_with_timers: plain rows, no ORM objects). Returns their ids."""
    due_at = business_due(rules, at, rules.due_minutes)
    rows = [{"ticket_id": ticket.id, "round": round_, "trigger": trigger,
             "reasons": ",".join(reasons), "rule_version": rules.version,
             "callback_id": callback_id, "status": "open", "created_at": at, "due_at": due_at}
            for ticket, round_, reasons, callback_id in items]
    if not rows:
        return []
    return insert_with_timers(Audit, rows, OVERDUE_TIMER, at)


def _audit_of(ticket_id: int, round_: int, trigger: str) -> Audit | None:
    return db.session.scalar(select(Audit).where(
        Audit.ticket_id == ticket_id, Audit.round == round_, Audit.trigger == trigger))


def on_tickets_transitioned(event: str, *, transitions, at: datetime, **_kwargs) -> None:
    """A closing the rules select gets its audit in the closing's own unit of work (a batch
    of closings, an incident's release: a few queries for all of them)."""
    closed = [t.ticket for t in transitions if t.to_state == "closed"]
    if not closed:
        return
    rules = rules_in_force()
    reasons = closing_reasons(closed, rules, at)
    selected = [ticket for ticket in closed if reasons[ticket.id]]
    if not selected:
        return
    audited = set()
    # A round is closed once, unless the ticket was reopened: only those can have one already.
    for ids in _chunks([t.id for t in selected if t.reopen_count]):
        audited.update((ticket_id, round_) for ticket_id, round_ in db.session.execute(
            select(Audit.ticket_id, Audit.round).where(Audit.ticket_id.in_(ids),
                                                       Audit.trigger == "closing")))
    _create_many([(ticket, ticket.reopen_count, reasons[ticket.id], None)
                  for ticket in selected if (ticket.id, ticket.reopen_count) not in audited],
                 trigger="closing", rules=rules, at=at)


def on_callback_surveyed(callback: Callback, *, at: datetime, **_kwargs) -> None:
    """An unsatisfied survey puts its round under audit in the survey's unit of work: the
    open audit of that closing gains the reason, else a new audit is made."""
    rules = rules_in_force()
    if callback.result != "unsatisfied" or not rules.unsatisfied_callbacks:
        return
    open_audit = db.session.scalar(select(Audit).where(
        Audit.ticket_id == callback.ticket_id, Audit.round == callback.round,
        Audit.status == "open").order_by(Audit.id).limit(1))
    if open_audit is not None:
        if "unsatisfied_callback" not in open_audit.reason_list:
            open_audit.reasons = ",".join(r for r in ("complaint", "unsatisfied_callback",
                                                      "sla_breach", "sample")
                                          if r in open_audit.reason_list
                                          or r == "unsatisfied_callback")
            open_audit.callback_id = callback.id
            db.session.flush()
        return
    if _audit_of(callback.ticket_id, callback.round, "callback") is not None:
        return
    ticket = db.session.get(Ticket, callback.ticket_id)
    _create(ticket, round_=callback.round, trigger="callback",
            reasons=["unsatisfied_callback"], rules=rules, at=at, callback_id=callback.id)


# -- the decision --------------------------------------------------------------------------

def stale_audit(audit: Audit) -> Conflict:
    return Conflict("stale_version", _("Someone else changed this audit after you opened it; "
                                       "reload and try again."),
                    current_version=audit.version)


def decide(actor: User, audit: Audit, decision: str, reason: str,
           expected_version: int | None = None) -> Audit:
    """Pass or reject an open audit. A reject needs a reason and reopens the ticket (the
    workflow's `reopen`, its history row linking the audit); a ticket reopened already (by
    its callback) gets the rejection as a note in its history instead.

    409: the audit is done (audit_done) or changed since `expected_version`; 400: an unknown
    decision, a reject without a reason."""
    if expected_version is not None and expected_version != audit.version:
        raise stale_audit(audit)
    if audit.status != "open":
        raise Conflict("audit_done", _("This audit is finished (%(decision)s); a decision "
                                       "cannot be changed.",
                                       decision=decision_label(audit.decision)))
    reason = (reason or "").strip()
    errors = {}
    if decision not in ("pass", "reject"):
        errors["decision"] = [_("Choose pass or reject.")]
    if decision == "reject" and not reason:
        errors["reason"] = [_("Give the reason for the rejection: the handling department "
                              "reads it.")]
    if len(reason) > REASON_LIMIT:
        errors["reason"] = [_("At most %(n)d characters.", n=REASON_LIMIT)]
    if errors:
        raise InvalidInput(errors)
    now = utcnow()
    ticket = db.session.get(Ticket, audit.ticket_id)
    if decision == "reject" and ticket.state == "closed":
        from ticketing.tickets.operations import fire_event
        # The note is the supervisor's reason; "Audit rejected" is rendered from the link in
        # the reader's language (labels.rejected_by_audit).
        history = fire_event(actor, ticket, "reopen", {"reason": reason},
                             links={"audit_id": audit.id, REJECTED_LINK: audit.id})
    else:
        event = "audit_rejected" if decision == "reject" else "audit_passed"
        history = TicketEvent(ticket_id=ticket.id, at=now, actor_id=actor.id, event=event,
                              from_state=ticket.state, to_state=ticket.state, note=reason,
                              data={"audit_id": audit.id})
        db.session.add(history)
        db.session.flush()
        ticket_noted.send(ticket, actor=actor, at=now, history=history)
    # One change of the audit (one version step), after the history row it links.
    audit.status, audit.decision, audit.reason = "done", decision, reason
    audit.decided_by_id, audit.decided_at, audit.event_id = actor.id, now, history.id
    db.session.flush()
    db.session.expire(audit, ["decided_by"])
    return audit


def decision_label(decision: str | None) -> str:
    from ticketing.audits.labels import DECISION_LABELS
    return str(DECISION_LABELS.get(decision or "", decision or "—"))


# -- overdue escalation (the sweep) --------------------------------------------------------

def fire_overdue_audits(timers: list, now: datetime) -> None:
    """Batch handler of audit_overdue timers: each audit still open and past due is escalated
    once (a notification to each holder of audits.escalations). Idempotent: the audits are
    locked and re-read; a decided or already escalated one is left alone. A few statements
    per batch, whatever its size."""
    wanted = sorted({(t.data or {}).get("audit_id") for t in timers} - {None})
    if not wanted:
        return
    rows = db.session.execute(
        select(Audit.id, Audit.ticket_id, Audit.status, Audit.escalated_at, Audit.due_at,
               Ticket.number)
        .join(Ticket, Ticket.id == Audit.ticket_id)
        .where(Audit.id.in_(wanted)).order_by(Audit.id)
        .with_for_update(of=Audit.__table__)).all()
    due = [r for r in rows if r.status == "open" and r.escalated_at is None
           and r.due_at <= now]
    if not due:
        return
    db.session.execute(update(Audit).where(Audit.id.in_([r.id for r in due]))
                       .values(escalated_at=now).execution_options(synchronize_session=False))
    notify_overdue(OVERDUE, ESCALATION_PERMISSION, [
        (r.ticket_id, {"audit_id": r.id, "ticket_number": r.number,
                       "due_at": r.due_at.isoformat()}) for r in due], now)
