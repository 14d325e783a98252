"""The home page per role and small shared pages."""


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables
    # before the app exists, and the views need the models.
    from ticketing.main import views
    app.register_blueprint(views.bp)
