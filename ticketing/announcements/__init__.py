"""Announcements (公告): drafts, scheduled and current announcements, withdrawal, archive.

Nothing here imports at package level: ticketing.models imports announcements.models early."""
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from ticketing.announcements import api as announcements_api, operations, views
    from ticketing.announcements.permissions import (ANNOUNCEMENT_GRANTS,
                                                     ANNOUNCEMENT_PERMISSIONS)
    from ticketing.extensions import api
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    api.register_blueprint(announcements_api.blp)
    areas = wiring(app)
    areas.add_permissions(ANNOUNCEMENT_PERMISSIONS, ANNOUNCEMENT_GRANTS)
    areas.timer_handlers[operations.PUBLISH_TIMER] = operations.fire_publish_timers
    areas.home_panels.append(views.announcements_panel)
    areas.header_notices.append(views.header_notice)
    areas.add_nav(45, "announcements.index", _l("Announcements"), "announcements.view")
