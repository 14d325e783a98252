"""Durable timers: SLA clocks and escalation, the sweep, the scheduler process.

register(app) binds pages, API and CLI, imports the clock receivers (connected once, at
their module's import) and adds this area's hooks to the shared lists, each at most once.
Nothing here imports at package level: ticketing.models imports timers.models early."""


def _add_once(hooks: list, fn) -> None:
    if fn not in hooks:
        hooks.append(fn)


def register(app) -> None:
    from flask_babel import lazy_gettext as _l

    from ticketing.cli import INIT_HOOKS, RUN_HOOKS
    from ticketing.extensions import api
    from ticketing.main.views import HOME_PANELS
    from ticketing.templating import add_nav
    from ticketing.timers import api as timers_api
    from ticketing.timers import assignments, clocks, handlers, views  # noqa: F401  (receivers)
    from ticketing.timers.operations import ensure_default_sla, unread_count
    from ticketing.timers.scheduler import scheduler_command, start_embedded_scheduler

    app.config.setdefault("SWEEP_TIME_BUDGET_SECONDS", 30.0)
    app.config.setdefault("TIMER_MAX_ATTEMPTS", 5)
    app.register_blueprint(views.bp)
    app.jinja_env.globals["ticket_deadlines"] = views.ticket_deadlines
    app.jinja_env.globals["clock_deadline"] = views.deadline_of
    api.register_blueprint(timers_api.blp)
    app.cli.add_command(scheduler_command)

    _add_once(INIT_HOOKS, ensure_default_sla)
    _add_once(RUN_HOOKS, start_embedded_scheduler)
    _add_once(HOME_PANELS, views.escalations_panel)
    _add_once(HOME_PANELS, views.notifications_panel)
    try:
        from ticketing.tickets import views as ticket_views
    except ImportError:  # pragma: no cover - the tickets area ships with the app
        ticket_views = None
    sections = getattr(ticket_views, "TICKET_PAGE_SECTIONS", None)
    if sections is not None:  # the ticket page shows each clock's deadline
        _add_once(sections, views.ticket_deadlines_section)
    add_nav(50, "timers.escalations", _l("Escalations"), "escalations.view")
    add_nav(85, "timers.notifications", _l("Notifications"), None, badge=unread_count)
    add_nav(92, "timers.policies", _l("SLA policies"), "sla.manage")
