"""Shared form helpers for the pages of every area."""


def attach_errors(form, fields: dict, aliases: dict | None = None) -> list:
    """Show an operation's field errors on the form's fields (a refused operation reports
    them by field name); return the messages no field of this form can show."""
    aliases = aliases or {}
    unplaced = []
    for name, messages in (fields or {}).items():
        field = form._fields.get(aliases.get(name, name))
        if field is not None and name != "csrf_token":
            field.errors = list(field.errors) + list(messages)
        else:
            unplaced.extend(messages)
    return unplaced


def show_every_error(form, attempt, aliases: dict | None = None) -> None:
    """After a POST whose form failed its own checks (and not its CSRF token): run the
    operation's checks as well, then roll back, so the page shows every error in one round
    instead of one round at a time. `attempt()` calls the operation."""
    from ticketing.errors import InvalidInput
    from ticketing.extensions import db
    if not form.is_submitted() or "csrf_token" in form.errors:
        return
    try:
        attempt()
    except InvalidInput as exc:
        for name, messages in exc.extra.get("fields", {}).items():
            field = form._fields.get((aliases or {}).get(name, name))
            if field is not None and name != "csrf_token":
                field.errors = list(dict.fromkeys([*field.errors, *messages]))
    finally:
        db.session.rollback()
