"""Template helpers: navigation by permission, localised dates, labels."""
from datetime import datetime

from flask import url_for
from flask_babel import format_datetime, get_locale
from flask_login import current_user

from ticketing.wiring import wiring


def _nav_for_user():
    if not current_user.is_authenticated:
        return []
    items = []
    for item in wiring().nav:
        if item.permission is None or current_user.can(item.permission):
            items.append({"endpoint": item.endpoint, "url": url_for(item.endpoint),
                          "label": item.label,
                          "badge": item.badge(current_user) if item.badge else 0})
    return items


def _header_notices():
    if not current_user.is_authenticated:
        return []
    return [n for n in (fn(current_user) for fn in wiring().header_notices) if n]


def _format_dt(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return "—"
    return format_datetime(value, fmt)


def init_templating(app) -> None:
    app.jinja_env.filters["dt"] = _format_dt
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        locale = get_locale()
        return {"nav_items": _nav_for_user(), "current_locale": str(locale) if locale else "zh",
                "header_notices": _header_notices()}
