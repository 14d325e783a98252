"""Tickets (工单): the model, history, fire_event(), API and pages."""


def register(app) -> None:
    from ticketing.extensions import api
    from ticketing.tickets import api as tickets_api, views as tickets_views
    app.register_blueprint(tickets_views.bp)
    api.register_blueprint(tickets_api.blp)
