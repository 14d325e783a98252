"""Template helpers: navigation by permission, localised dates, labels."""
from datetime import datetime, timezone

from babel import dates as babel_dates
from flask import g, url_for
from flask_babel import format_datetime, get_locale, get_timezone
from flask_login import current_user

from ticketing.extensions import SHORT_DATETIME
from ticketing.wiring import wiring


def _nav_for_user():
    if not current_user.is_authenticated:
        return []
    items = []
    for item in wiring().nav:
        if (item.permission is None or current_user.can(item.permission)) \
                and (item.shown is None or item.shown(current_user)):
            items.append({"endpoint": item.endpoint, "url": url_for(item.endpoint),
                          "label": item.label,
                          "badge": item.badge(current_user) if item.badge else 0})
    return items


def _header_notices():
    if not current_user.is_authenticated:
        return []
    return [n for n in (fn(current_user) for fn in wiring().header_notices) if n]


def short_datetime_formatter():
    """The `dt` filter's text (SHORT_DATETIME in the user's locale and time zone) for many
    rows: the locale, time zone and pattern are looked up once, not once per value (as
    format_datetime does: a fifth of a hundred-row page; tests compare the two)."""
    locale, zone = get_locale(), get_timezone()
    if locale is None:
        return lambda value: format_datetime(value, "short") if value else "—"
    pattern = babel_dates.parse_pattern(SHORT_DATETIME)
    texts: dict = {}  # rows of a page mostly share their minute

    def short(value):
        if value is None:
            return "—"
        if value.tzinfo is None:  # as flask_babel.to_user_timezone
            value = value.replace(tzinfo=timezone.utc)
        local = zone.normalize(value.astimezone(zone)) if hasattr(zone, "normalize") \
            else value.astimezone(zone)
        minute = local.replace(second=0, microsecond=0)
        text = texts.get(minute)
        if text is None:
            text = texts[minute] = pattern.apply(local, locale)
        return text

    return short


def _format_dt(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return "—"
    if fmt != "short":
        return format_datetime(value, fmt)
    # One formatter per language in this app context (a request; tests may switch).
    kept = g.setdefault("short_datetime", {})
    locale = str(get_locale())
    short = kept.get(locale)
    if short is None:
        short = kept[locale] = short_datetime_formatter()
    return short(value)


def init_templating(app) -> None:
    app.jinja_env.filters["dt"] = _format_dt
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        locale = get_locale()
        return {"nav_items": _nav_for_user(), "current_locale": str(locale) if locale else "zh",
                "header_notices": _header_notices()}
