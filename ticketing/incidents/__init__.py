"""Incidents (事件): mass faults, the repair tickets linked to them, review and release."""
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables
    # before the app exists, and the views need the models.
    from ticketing.extensions import api
    from ticketing.incidents import api as incidents_api, labels, views
    from ticketing.incidents.permissions import INCIDENT_GRANTS, INCIDENT_PERMISSIONS
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    api.register_blueprint(incidents_api.blp)
    # The call screen (tickets area) shows open incidents in the caller's area.
    app.jinja_env.globals["call_screen_incidents"] = views.call_screen_incidents
    areas = wiring(app)
    areas.add_permissions(INCIDENT_PERMISSIONS, INCIDENT_GRANTS)
    areas.history_notes["release_incident"] = labels.released_note
    areas.home_panels.append(views.incidents_panel)
    areas.ticket_sections.append(views.ticket_incident_section)
    areas.add_nav(40, "incidents.board", _l("Incidents"), "incidents.view")
