"""The unit of work: one commit at the entry point (a request, a CLI command, a timer).

Operations flush and never commit; the view, endpoint or command that called them wraps the
calls in `unit_of_work()`, which commits once if the block succeeds and rolls everything back
if anything raises, so a transition, its history row and its timers commit together or not
at all. Given a form, refused input (InvalidInput) is shown on the form's fields instead of
raised, and `work.ok` tells the page whether to redirect or to render the form again."""
from __future__ import annotations

from flask import flash

from ticketing.errors import InvalidInput
from ticketing.extensions import db
from ticketing.forms import attach_errors, show_every_error


class unit_of_work:  # noqa: N801  (used like a function: `with unit_of_work(form) as work`)
    def __init__(self, form=None, aliases: dict | None = None, keep_loaded: bool = False):
        self.form = form
        self.aliases = aliases
        # Keep the objects as written after the commit (not expired): an answer shaped from
        # them after the commit costs no reload, and nothing is shaped while SQLite's one
        # write lock is held.
        self.keep_loaded = keep_loaded
        self.ok = False
        self.refused: InvalidInput | None = None

    def __enter__(self) -> "unit_of_work":
        return self

    def __exit__(self, exc_type, exc, _traceback) -> bool:
        if exc_type is None:
            session = db.session()
            expire, session.expire_on_commit = session.expire_on_commit, \
                session.expire_on_commit and not self.keep_loaded
            try:
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.expire_on_commit = expire
            self.ok = True
            return False
        db.session.rollback()
        if self.form is not None and isinstance(exc, InvalidInput):
            self.refused = exc
            for message in attach_errors(self.form, exc.extra.get("fields", {}), self.aliases):
                flash(message, "error")
            return True
        return False



def save_form(form, save, aliases: dict | None = None):
    """An admin form's POST: when the form passes its own checks, `save()` (the operation)
    runs in one unit of work and its result is returned (True if it returns nothing);
    otherwise, or when the operation refuses the input, None, with every error on the
    form in one round (see forms.show_every_error)."""
    if form.validate_on_submit():
        with unit_of_work(form, aliases) as work:
            result = save()
        if work.ok:
            return True if result is None else result
        return None
    show_every_error(form, save, aliases)
    return None
