"""Calls from the phone system: each screen pop is recorded with the ticket it led to, so
repeat callers are recognised and their call can be linked to the ticket already open.

init_app(app) registers the link page action and API."""


def init_app(app) -> None:
    # Imported here, not at the top: ticketing.models imports calls.models early, before
    # the tickets area these modules use is importable.
    from ticketing.calls import api, views
    from ticketing.extensions import api as rest_api

    app.register_blueprint(views.bp)
    rest_api.register_blueprint(api.blp)
