"""Full-text search over tickets, their notes and their customers (Chinese and English).

init_app(app) connects the index receivers (idempotent: blinker keeps one connection per
receiver) and registers the search page and API."""


def init_app(app) -> None:
    # Imported here, not at the top: tickets.queries imports ticketing.search.index, and
    # this package's pages and API import tickets.queries.
    from flask_babel import lazy_gettext as _l

    from ticketing.extensions import api
    from ticketing.search import api as search_api, receivers, views
    from ticketing.wiring import wiring

    receivers.connect_receivers()
    app.register_blueprint(views.bp)
    api.register_blueprint(search_api.blp)
    wiring(app).add_nav(25, "search.search", _l("Search"), "tickets.view")
    _leave_out_of_model_comparison(app)


def _leave_out_of_model_comparison(app) -> None:
    """Alembic's autogenerate compares the database with the models: the index table (and
    SQLite's FTS5 shadow tables) are built by migrations and have no model."""
    args = app.extensions["migrate"].configure_args
    previous = args.get("include_object")
    if getattr(previous, "leaves_out_search", False):
        return

    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "table" and (name or "").startswith("ticket_search"):
            return False
        return previous(obj, name, type_, reflected, compare_to) if previous else True

    include_object.leaves_out_search = True
    args["include_object"] = include_object
