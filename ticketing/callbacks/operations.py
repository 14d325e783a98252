"""Callback operations (SPEC §5). They flush, never commit: the request, or the sweep, that
calls them commits once. The task of a closing is created by a tickets_transitioned receiver,
so it commits with the closing itself; an unsatisfied survey reopens the ticket with
fire_event, so the reopening, its history row (linking the survey) and the survey commit
together."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_datetime, gettext as _
from sqlalchemy import select, update

from ticketing.auth.models import User
from ticketing.callbacks.models import (DIMENSIONS, Callback, CallbackAttempt,
                                        CallbackSettings)
from ticketing.clock import utcnow
from ticketing.dbsetup import insert_rows
from ticketing.errors import Conflict, InvalidInput
from ticketing.extensions import db
from ticketing.kept import kept
from ticketing.settings_row import (check_calendar, current_row, ensure_row, keep_row,
                                    replace_row, row_to_replace)
from ticketing.signals import callback_surveyed
from ticketing.tickets.models import Ticket
from ticketing.timers.clocks import RowTimer, insert_with_timers, schedule_timers
from ticketing.timers.models import Notification
from ticketing.timers.policies import calendar_for
from workflows.business_time import add_business_minutes
from workflows.tickets import KINDS

OVERDUE = "callback_overdue"  # the timer kind, and the notification kind
# The scores of the survey that reopened a ticket, in its history row's data. (Rows written
# before 2026-12-01 carry them as "survey", with the text in the note.)
SURVEY_LINK = "callback_survey"
SETTINGS_ID = 1
DEFAULTS = {"kinds": ["repair", "complaint"], "due_minutes": {"repair": 480, "complaint": 480},
            "retry_minutes": 120, "max_attempts": 3, "threshold": 3}
MAX_MINUTES = 60 * 24 * 30  # a month of business minutes
ESCALATION_PERMISSION = "callbacks.escalations"


# -- settings ------------------------------------------------------------------------------

def ensure_callback_settings() -> list[str]:
    return ensure_row(CallbackSettings, SETTINGS_ID, DEFAULTS, "callback settings")


def current_settings() -> CallbackSettings:
    return current_row(CallbackSettings, SETTINGS_ID, DEFAULTS)


keep_row("callback_settings", CallbackSettings, SETTINGS_ID, DEFAULTS)


def settings_in_force():
    """The settings as plain values, kept per process: what closings and attempts read."""
    return kept("callback_settings")


def save_settings(data: dict, expected_version: int) -> CallbackSettings:
    """Replace the settings (kinds, due_minutes, retry_minutes, max_attempts, threshold,
    calendar_id). 400 on invalid values, 409 if someone saved since `expected_version`."""
    row = row_to_replace(CallbackSettings, SETTINGS_ID, expected_version,
                         _("Someone else changed the callback settings after you read them; "
                           "reload and try again."))
    errors: dict[str, list[str]] = {}
    kinds = list(dict.fromkeys(data["kinds"]))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        errors["kinds"] = [_("Unknown ticket kind: %(kind)s", kind=", ".join(unknown))]
    due = {}
    for kind in kinds:
        minutes = (data.get("due_minutes") or {}).get(kind)
        if not isinstance(minutes, int) or isinstance(minutes, bool) \
                or not 1 <= minutes <= MAX_MINUTES:
            errors.setdefault("due_minutes", []).append(
                _("Give the business minutes until a %(kind)s callback is due (1 to "
                  "%(max)s).", kind=kind, max=MAX_MINUTES))
        else:
            due[kind] = minutes
    check_calendar(data.get("calendar_id"), errors)
    if errors:
        raise InvalidInput(errors)
    return replace_row(CallbackSettings, SETTINGS_ID, row, {
        "kinds": kinds, "due_minutes": due, "retry_minutes": data["retry_minutes"],
        "max_attempts": data["max_attempts"], "threshold": data["threshold"]},
        data.get("calendar_id"))


def business_due(settings, start: datetime, minutes: int) -> datetime:
    """`minutes` after `start` on the calendar of `settings` (a settings or rules row, or
    its kept values)."""
    if settings.calendar_id is None:  # no calendar at all: wall-clock minutes
        return start + timedelta(minutes=minutes)
    return add_business_minutes(start, minutes, calendar_for(settings.calendar_id, start))


# -- tasks ---------------------------------------------------------------------------------

def _overdue_timer(callback: Callback) -> dict:
    return overdue_timer_row(callback.id, callback.ticket_id, callback.attempts,
                             callback.due_at, callback.created_at)


def overdue_timer(attempt: int) -> RowTimer:
    """The overdue timer of a callback's attempt n: `callback:<id>:<n>`."""
    return RowTimer(OVERDUE, "callback", "callback_id", (("attempt", attempt),))


def overdue_timer_row(callback_id: int, ticket_id: int, attempt: int, due_at: datetime,
                      created_at: datetime) -> dict:
    return overdue_timer(attempt).row(callback_id, ticket_id, due_at, created_at)


def on_tickets_transitioned(event: str, *, transitions, at: datetime, **_kwargs) -> None:
    """Closing a ticket of a configured kind makes its callback task, in the same unit of
    work; a task still pending from an earlier closing is superseded by it. Plain rows, no
    ORM objects: a closing is one of the most frequent writes, and an incident's release
    closes a thousand tickets at once."""
    closed = [t.ticket for t in transitions if t.to_state == "closed"]
    if not closed:
        return
    settings = settings_in_force()
    closed = [ticket for ticket in closed if ticket.kind in (settings.kinds or [])]
    if not closed:
        return
    due_of = {}  # the same closing time and kind: the same due time
    for kind in {ticket.kind for ticket in closed}:
        minutes = int((settings.due_minutes or {}).get(kind)
                      or DEFAULTS["due_minutes"].get(kind, 480))
        due_of[kind] = business_due(settings, at, minutes)
    # Only a reopened ticket can have a task left from an earlier closing.
    reopened = [ticket.id for ticket in closed if ticket.reopen_count]
    for start in range(0, len(reopened), 500):
        db.session.execute(update(Callback).where(
            Callback.ticket_id.in_(reopened[start:start + 500]), Callback.status == "pending")
            .values(status="superseded", version=Callback.version + 1)
            .execution_options(synchronize_session="fetch"))
    rows = [{"ticket_id": ticket.id, "round": ticket.reopen_count, "kind": ticket.kind,
             "status": "pending", "created_at": at, "not_before": at,
             "due_at": due_of[ticket.kind]} for ticket in closed]
    insert_with_timers(Callback, rows, overdue_timer(0), at)


def open_callback(callback_id: int) -> Callback | None:
    return db.session.get(Callback, callback_id)


def take_callback(actor: User, callback: Callback) -> Callback:
    """The agent takes a pending callback (again, if it is already theirs)."""
    if callback.status != "pending":
        raise _not_open()
    if callback.agent_id is not None and callback.agent_id != actor.id:
        raise Conflict("taken", _("Another callback agent has taken this callback."),
                       agent_id=callback.agent_id)
    if callback.agent_id is None:
        callback.agent_id = actor.id
        callback.taken_at = utcnow()
        db.session.flush()
    return callback


def _not_open() -> Conflict:
    return Conflict("no_open_callback",
                    _("This callback is finished: there is no open callback to record a "
                      "survey on."))


def unsatisfied(scores: dict, threshold: int) -> bool:
    return any(scores[d] < threshold for d in DIMENSIONS)


def record_attempt(actor: User, callback: Callback, data: dict,
                   expected_version: int | None) -> CallbackAttempt:
    """One attempt: not reached (a retry after the delay, or unreachable after the last
    attempt) or reached with the survey (done; unsatisfied reopens the ticket).

    409 if the callback is not open, not yet due for its retry, taken by another agent, or
    changed since `expected_version`; 400 if a reached answer lacks a score."""
    if expected_version is not None and expected_version != callback.version:
        raise Conflict("stale_version", _("Someone else changed this callback after you "
                                          "opened it; reload and try again."),
                       current_version=callback.version)
    if callback.status != "pending":
        raise _not_open()
    now = utcnow()
    if callback.not_before > now:
        raise Conflict("not_yet_due", _("The next attempt on this callback is due at "
                                        "%(at)s.", at=format_datetime(callback.not_before,
                                                                       "short")),
                       not_before=callback.not_before.isoformat())
    if callback.agent_id is not None and callback.agent_id != actor.id:
        raise Conflict("taken", _("Another callback agent has taken this callback."),
                       agent_id=callback.agent_id)
    reached = data["reached"]
    scores = {d: data.get(d) for d in DIMENSIONS}
    if reached:
        missing = {d: [_("Give a score from 1 to 5.")] for d, v in scores.items() if v is None}
        if missing:
            raise InvalidInput(missing)
    settings = settings_in_force()
    callback.attempts += 1
    attempt = CallbackAttempt(callback_id=callback.id, number=callback.attempts, at=now,
                              actor_id=actor.id, reached=reached,
                              note=data.get("note") or "",
                              comment=(data.get("comment") or "") if reached else "")
    db.session.add(attempt)
    if callback.agent_id is None:
        callback.agent_id, callback.taken_at = actor.id, now
    if not reached:
        if callback.attempts >= settings.max_attempts:
            callback.status, callback.done_at = "unreachable", now
        else:
            callback.not_before = business_due(settings, now, settings.retry_minutes)
            minutes = int((settings.due_minutes or {}).get(callback.kind) or 480)
            callback.due_at = business_due(settings, callback.not_before, minutes)
    else:
        for name, value in scores.items():
            setattr(attempt, name, value)
            setattr(callback, name, value)
        attempt.satisfied = not unsatisfied(scores, settings.threshold)
        callback.result = "satisfied" if attempt.satisfied else "unsatisfied"
        callback.comment = attempt.comment
        callback.status, callback.done_at = "done", now
        ticket = db.session.get(Ticket, callback.ticket_id)
        callback.department_id = ticket.department_id if ticket is not None else None
    db.session.flush()
    db.session.expire(callback, ["attempt_rows"])
    if callback.status == "pending":
        schedule_timers([_overdue_timer(callback)])
    elif reached and not attempt.satisfied:
        attempt.reopen_event_id = _reopen(actor, callback, attempt)
        db.session.flush()
    if reached:
        callback_surveyed.send(callback, actor=actor, attempt=attempt, at=now,
                               threshold=settings.threshold)
    return attempt


def _reopen(actor: User, callback: Callback, attempt: CallbackAttempt) -> int | None:
    """Reopen the ticket into its handling sub-state with the survey linked in its history."""
    from ticketing.tickets.operations import fire_event
    ticket = db.session.get(Ticket, callback.ticket_id)
    if ticket is None or ticket.state != "closed":
        return None  # already reopened by someone else: the survey is recorded all the same
    # The note is the customer's words; the survey's scores are data, and the history shows
    # them in the reader's language (callbacks.labels.survey_reopened).
    history = fire_event(actor, ticket, "reopen", {"reason": (attempt.comment or "—")[:4000]},
                         links={"callback_id": callback.id, "callback_attempt_id": attempt.id,
                                SURVEY_LINK: {d: getattr(attempt, d) for d in DIMENSIONS}})
    return history.id


# -- overdue escalation (the sweep) --------------------------------------------------------

def escalation_recipients(permission: str = ESCALATION_PERMISSION) -> list[int]:
    """Active users whose roles hold `permission` (callbacks.escalations: the callback team's
    leads), by the timers area's recipient rule `anyone_with:<permission>`."""
    from ticketing.timers.handlers import Recipients
    rule = f"anyone_with:{permission}"
    recipients = Recipients()
    recipients.want(rule, None, None)
    recipients.load()
    return recipients.of([rule], None, None)


def notify_overdue(kind: str, permission: str, overdue: list[tuple[int, dict]],
                   now: datetime) -> None:
    """One notification to each holder of `permission` per overdue (ticket id, data), all
    in one INSERT (a sweep batch escalates hundreds)."""
    recipients = escalation_recipients(permission)
    insert_rows(Notification.__table__, [
        {"user_id": user_id, "ticket_id": ticket_id, "kind": kind, "data": data,
         "created_at": now} for ticket_id, data in overdue for user_id in recipients])


def fire_overdue_callbacks(timers: list, now: datetime) -> None:
    """Batch handler of callback_overdue timers: each callback still pending at the attempt
    the timer was set for is escalated once (a notification to each lead). Idempotent: the
    callbacks are locked and re-read; a done, superseded or re-attempted one is left alone.
    A few statements per batch, whatever its size: plain columns, one UPDATE, one INSERT."""
    wanted = {}
    for timer in timers:
        data = timer.data or {}
        if "callback_id" in data:
            wanted[data["callback_id"]] = data.get("attempt", 0)
    if not wanted:
        return
    rows = db.session.execute(
        select(Callback.id, Callback.ticket_id, Callback.status, Callback.attempts,
               Callback.escalations, Callback.due_at, Ticket.number)
        .join(Ticket, Ticket.id == Callback.ticket_id)
        .where(Callback.id.in_(sorted(wanted))).order_by(Callback.id)
        .with_for_update(of=Callback.__table__)).all()
    due = [r for r in rows if r.status == "pending" and r.attempts == wanted[r.id]
           and r.escalations <= r.attempts and r.due_at <= now]
    if not due:
        return
    db.session.execute(update(Callback).where(Callback.id.in_([r.id for r in due]))
                       .values(escalations=Callback.attempts + 1)
                       .execution_options(synchronize_session=False))
    notify_overdue(OVERDUE, ESCALATION_PERMISSION, [
        (r.ticket_id, {"callback_id": r.id, "ticket_number": r.number,
                       "due_at": r.due_at.isoformat()}) for r in due], now)
