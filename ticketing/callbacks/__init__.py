"""Callback surveys (回访, SPEC §5): a task when a ticket of a configured kind closes, the
agent's queue and survey, unsatisfied answers reopening the ticket, overdue escalation
through the durable timer sweep, and settings as data."""
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables.
    from ticketing.callbacks import api as callbacks_api, labels, operations, views
    from ticketing.callbacks.permissions import CALLBACK_GRANTS, CALLBACK_PERMISSIONS
    from ticketing.extensions import api
    from ticketing.signals import tickets_transitioned
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    api.register_blueprint(callbacks_api.blp)
    tickets_transitioned.connect(operations.on_tickets_transitioned, weak=False)
    areas = wiring(app)
    areas.timer_handlers[operations.OVERDUE] = operations.fire_overdue_callbacks
    areas.add_permissions(CALLBACK_PERMISSIONS, CALLBACK_GRANTS)
    areas.reference_data.append(operations.ensure_callback_settings)
    areas.history_prefixes[operations.SURVEY_LINK] = labels.survey_reopened
    areas.home_panels.append(views.queue_panel)
    areas.ticket_sections.append(views.ticket_callbacks_section)
    areas.add_nav(60, "callbacks.queue", _l("Callbacks"), "callbacks.work")
    areas.add_nav(62, "callbacks.search", _l("Callback records"), "callbacks.view")
    areas.add_nav(94, "callbacks.settings", _l("Callback settings"), "callbacks.settings")
