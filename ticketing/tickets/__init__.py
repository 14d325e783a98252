"""Tickets (工单): the model, history, fire_event(), API and pages."""
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables
    # before the app exists, and the views need the models.
    from ticketing.extensions import api
    from ticketing.tickets import api as tickets_api, demo, views
    from ticketing.tickets.permissions import ticket_permissions
    from ticketing.tickets.refusals import register_refusal_handlers
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    api.register_blueprint(tickets_api.blp)
    register_refusal_handlers(app)
    areas = wiring(app)
    areas.add_permissions(*ticket_permissions())
    areas.add_nav(10, "tickets.call_screen", _l("Call screen"), "tickets.create")
    areas.add_nav(20, "tickets.queue", _l("Tickets"), "tickets.view")
    areas.add_nav(80, "tickets.workflow", _l("Workflow"), None)
    areas.home_panels += [views.my_tickets_panel, views.unassigned_panel, views.approvals_panel,
                          views.handled_panel]
    areas.customer_sections.append(views.customer_tickets_section)
    areas.demo_data.append(demo.seed_demo_tickets)
