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
