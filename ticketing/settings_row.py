"""An area's settings kept as one versioned row (callback settings, audit rules): made with
its defaults as reference data, read with the defaults before it exists, replaced whole by
an admin who read its current version. Operations flush, never commit."""
from __future__ import annotations

import copy
from collections import namedtuple

from flask_babel import gettext as _
from sqlalchemy import func, select

from ticketing.clock import utcnow
from ticketing.errors import Conflict
from ticketing.extensions import db
from ticketing.kept import keep
from ticketing.timers.models import Calendar


def default_calendar_id() -> int | None:
    return db.session.scalar(select(func.min(Calendar.id)))


def ensure_row(model, row_id: int, defaults: dict, label: str) -> list[str]:
    """Reference data: the row with the defaults, if there is none."""
    if db.session.get(model, row_id) is not None:
        return []
    db.session.add(model(id=row_id, **defaults, calendar_id=default_calendar_id()))
    db.session.flush()
    return [label]


def current_row(model, row_id: int, defaults: dict):
    """The row; the defaults (not saved, version 0) before `ticketing init` made it."""
    row = db.session.get(model, row_id)
    if row is None:
        row = model(id=row_id, version=0, calendar_id=default_calendar_id(), **defaults)
    return row


def keep_row(name: str, model, row_id: int, defaults: dict) -> None:
    """Keep the row's values per process (ticketing.kept) for the hot paths that only read
    it (a closing reads two such rows); `kept(name)` returns them. Its version moves on
    every edit (version_id_col), so rows and the sum of versions make its stamp."""
    columns = [attr.key for attr in model.__mapper__.column_attrs]
    values = namedtuple(f"{model.__name__}Values", columns)

    def load():
        row = current_row(model, row_id, defaults)
        return values(*(copy.deepcopy(getattr(row, name)) for name in columns))

    keep(name, load=load, aggregates=(func.count(model.id), func.sum(model.version)),
         watch=(model,))


def row_to_replace(model, row_id: int, expected_version: int, stale_message: str):
    """The saved row (None before the first save); 409 if someone saved since
    `expected_version` (0 for "never saved")."""
    row = db.session.get(model, row_id)
    current_version = row.version if row is not None else 0
    if expected_version != current_version:
        raise Conflict("stale_version", stale_message, current_version=current_version)
    return row


def check_calendar(calendar_id: int | None, errors: dict) -> None:
    if calendar_id is not None and db.session.get(Calendar, calendar_id) is None:
        errors["calendar_id"] = [_("No such calendar.")]


def replace_row(model, row_id: int, row, values: dict, calendar_id: int | None):
    """Write the checked values (the default calendar when none is given); the row's
    version moves on (version_id_col)."""
    if row is None:
        row = model(id=row_id)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.calendar_id = calendar_id if calendar_id is not None else default_calendar_id()
    row.updated_at = utcnow()
    db.session.flush()
    return row
