"""Configuration kept per process: rows an admin changes a few times a year and every ticket
change reads (SLA policies and calendars, callback settings, audit rules).

Reading them as ORM rows cost a statement or more each per transaction: a closing read three
such tables. So each kind is loaded once into plain values and kept until it changes. A
change is seen in every process: the first use in a transaction asks the database for one
cheap stamp over every kind's tables (rows, newest id, sum of revisions or versions, which
every edit moves), and the process that made an edit forgets its copy when it commits. A
transaction that changed one of the tables reads its own copies and shares them with no one
until it commits; a rolled-back change is used by no one."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session

from ticketing.extensions import db


@dataclass(frozen=True)
class _Kind:
    aggregates: tuple  # scalar SQL expressions over the kind's tables
    load: Callable[[], object]


_kinds: dict[str, _Kind] = {}
_statement: list = [None, 0]  # the stamp's SELECT, and how many kinds it covers
_lock = threading.Lock()
_IN_TRANSACTION = "kept"  # Session.info keys: {"stamp", "values"} this transaction uses,
_CHANGED = "kept_changed"  # and "it changed a watched table"


def keep(name: str, *, aggregates, load: Callable[[], object], watch=(),
         count_edits=()) -> None:
    """Keep `load()` per process under `name`. `aggregates` must move on any change to what
    it reads; `watch`: the models whose flushed changes make this transaction read its own
    copies; `count_edits`: models whose `revision` column every update increments."""
    if name in _kinds:
        return
    _kinds[name] = _Kind(tuple(aggregates), load)
    for model in count_edits:
        event.listen(model, "before_update", _count_edit)
    for model in watch:
        for what in ("after_insert", "after_update", "after_delete"):
            event.listen(model, what, _changed)


def kept(name: str):
    """The kept value of `name`, loaded again only when the stamp moved. The stamp is asked
    once per transaction (a page may compute a hundred deadlines)."""
    entry = db.session.info.get(_IN_TRANSACTION)
    if entry is None:
        session = db.session()
        if session.autoflush:  # as an ORM query would: this transaction's edits count
            session.flush()
        entry = _enter(tuple(session.connection().execute(_stamp_statement()).one()))
    values = entry["values"]
    if name not in values:
        values[name] = _kinds[name].load()
    return values[name]


def stamp_columns() -> list:
    """The stamp as columns another query of a transaction's start can carry (a request's
    token lookup does): pass what they read to `take_stamp`, and the transaction's first
    use of kept configuration asks nothing more."""
    return list(_stamp_statement().selected_columns)


def take_stamp(values) -> None:
    """The stamp read by a query of this transaction (`stamp_columns`), before any change."""
    if db.session.info.get(_IN_TRANSACTION) is None and not db.session.info.get(_CHANGED):
        _enter(tuple(values))


def _enter(stamp: tuple) -> dict:
    """This transaction's copies under `stamp`: the shared ones if the stamp is theirs."""
    info = db.session.info
    if info.get(_CHANGED):
        entry = {"stamp": stamp, "values": {}}
    else:
        shared = _shared()
        with _lock:
            entry = shared.get("entry")
            if entry is None or entry["stamp"] != stamp:
                entry = shared["entry"] = {"stamp": stamp, "values": {}}
    info[_IN_TRANSACTION] = entry
    return entry


def forget_kept() -> None:
    """Drop this app's copies (the next use reads them again)."""
    with _lock:
        _shared().pop("entry", None)
    db.session.info.pop(_IN_TRANSACTION, None)


def _shared() -> dict:
    """This app's copies (an app is one database; tests make many apps in one process)."""
    return current_app.extensions.setdefault("kept_configuration", {})


def _stamp_statement():
    if _statement[1] != len(_kinds):
        _statement[0] = select(*(select(aggregate).scalar_subquery()
                                 for kind in _kinds.values() for aggregate in kind.aggregates))
        _statement[1] = len(_kinds)
    return _statement[0]


def _count_edit(_mapper, _connection, target) -> None:
    target.revision = (target.revision or 0) + 1


def _changed(_mapper, _connection, target) -> None:
    session = object_session(target)
    if session is not None:
        session.info[_CHANGED] = True
        session.info.pop(_IN_TRANSACTION, None)


def _after_commit(session) -> None:
    session.info.pop(_IN_TRANSACTION, None)
    if session.info.pop(_CHANGED, False) and has_app_context():
        with _lock:
            _shared().pop("entry", None)


def _after_rollback(session, _previous_transaction=None) -> None:
    session.info.pop(_IN_TRANSACTION, None)
    session.info.pop(_CHANGED, None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", _after_rollback)
