"""Fault categories as people read them: a stored code by its category's name in the
reader's language (older free-text values as they were typed). The categories are read once
per request: lists, boards and reports show one per row."""
from flask import g
from flask_babel import get_locale

from ticketing.faults.operations import category_names


def fault_labels() -> dict[str, str]:
    """code -> every category's name (inactive ones still name old tickets' faults)."""
    names = g.get("fault_names")
    if names is None:
        locale = str(get_locale() or "")
        names = g.fault_names = {code: category.display_name(locale)
                                 for code, category in category_names().items()}
    return names


def fault_label(value: str | None) -> str:
    return fault_labels().get(value, value) if value else "—"
