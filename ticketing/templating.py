"""Template helpers: navigation by permission, localised dates, labels."""
from datetime import datetime

from flask import url_for
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# (order, endpoint, label, permission or None, badge or None); areas append with add_nav().
# A badge is fn(user) -> int: a count shown beside the label (0: none).
NAV_ITEMS: list[tuple] = [
    (0, "main.home", _l("Home"), None, None),
    (30, "customers.search", _l("Customers"), "customers.view", None),
    (90, "auth.users", _l("Users"), "users.manage", None),
    (91, "auth.roles", _l("Roles"), "roles.manage", None),
]


def add_nav(order: int, endpoint: str, label, permission: str | None, badge=None) -> None:
    if not any(item[1] == endpoint for item in NAV_ITEMS):
        NAV_ITEMS.append((order, endpoint, label, permission, badge))
        NAV_ITEMS.sort(key=lambda item: item[0])


def _nav_for_user():
    if not current_user.is_authenticated:
        return []
    items = []
    for _order, endpoint, label, permission, badge in NAV_ITEMS:
        if permission is None or current_user.can(permission):
            items.append({"endpoint": endpoint, "url": url_for(endpoint), "label": label,
                          "badge": badge(current_user) if badge else 0})
    return items


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
        return {"nav_items": _nav_for_user(), "current_locale": str(locale) if locale else "zh"}
