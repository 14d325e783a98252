"""Dispatch (调度): field teams and the areas they serve, the dispatcher's board of open
repair work orders, and a field team's queue. Work orders move only through the ticket
workflow's events (dispatch, take, accept, report_repaired)."""
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables.
    from ticketing.dispatch import api as dispatch_api, operations, queries, views
    from ticketing.dispatch.permissions import DISPATCH_GRANTS, DISPATCH_PERMISSIONS
    from ticketing.extensions import api
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    api.register_blueprint(dispatch_api.blp)
    areas = wiring(app)
    areas.add_permissions(DISPATCH_PERMISSIONS, DISPATCH_GRANTS)
    areas.home_panels.append(views.team_queue_panel)
    areas.demo_data.append(operations.seed_demo_team_areas)
    areas.add_nav(30, "dispatch.board", _l("Dispatch board"), "dispatch.board")
    # Only for members of a field team: other staff hold the permission but have no queue.
    areas.add_nav(32, "dispatch.queue", _l("Team queue"), "dispatch.queue",
                  shown=lambda user: queries.team_of(user) is not None)
    areas.add_nav(96, "dispatch.teams", _l("Field teams"), "dispatch.teams")
