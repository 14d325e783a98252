"""Durable timers: SLA clocks and escalation, the sweep, the scheduler process.

Nothing here imports at package level: ticketing.models imports timers.models early."""
from flask_babel import lazy_gettext as _l

# Default roles and the permissions of this area they start with.
TIMER_PERMISSIONS = {"escalations.view": _l("See the escalation queue"),
                     "sla.manage": _l("Manage SLA policies and calendars")}
TIMER_GRANTS = {role: ["escalations.view"]
                for role in ("dispatcher", "supervisor", "department_head")}


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables
    # before the app exists, and the views need the models.
    from ticketing.extensions import api
    from ticketing.timers import api as timers_api, clocks, handlers, labels, views
    from ticketing.timers.deadlines import deadline_of
    from ticketing.signals import tickets_transitioned
    from ticketing.timers.operations import (ensure_default_sla, notify_new_assignee,
                                             unread_count)
    from ticketing.timers.scheduler import scheduler_command, start_embedded_scheduler
    from ticketing.wiring import wiring

    app.config.setdefault("SWEEP_TIME_BUDGET_SECONDS", 30.0)
    app.config.setdefault("TIMER_MAX_ATTEMPTS", 5)
    app.register_blueprint(views.bp)
    app.jinja_env.globals["ticket_deadlines"] = views.ticket_deadlines
    app.jinja_env.globals["clock_deadline"] = deadline_of
    api.register_blueprint(timers_api.blp)
    app.cli.add_command(scheduler_command)
    clocks.connect_receivers()
    tickets_transitioned.connect(notify_new_assignee, weak=False)
    areas = wiring(app)
    areas.add_permissions(TIMER_PERMISSIONS, TIMER_GRANTS)
    areas.add_permissions(handlers.LADDER_PERMISSIONS, handlers.LADDER_GRANTS)
    handlers.register(areas.timer_handlers)
    areas.history_notes.update({"sla_warning": labels.sla_warning_note,
                                "escalated": labels.sla_escalation_note})
    areas.reference_data.append(ensure_default_sla)
    areas.run_services.append(start_embedded_scheduler)
    areas.home_panels += [views.escalations_panel, views.notifications_panel]
    areas.ticket_sections.append(views.ticket_deadlines_section)
    areas.add_nav(50, "timers.escalations", _l("Escalations"), "escalations.view")
    areas.add_nav(85, "timers.notifications", _l("Notifications"), None, badge=unread_count)
    areas.add_nav(92, "timers.policies", _l("SLA policies"), "sla.manage")
