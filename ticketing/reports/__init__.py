"""Reports (统计报表, SPEC §8): daily rollups kept with every ticket change, the report
queries, pages with charts and CSV export, and `GET /api/v1/reports/<name>`.

Nothing here imports at package level: ticketing.models imports reports.models early."""


def init_app(app) -> None:
    """Wire the area into the app (called explicitly by create_app)."""
    from flask_babel import lazy_gettext as _l

    from ticketing.extensions import api
    from ticketing.reports import api as reports_api, views
    from ticketing.reports.cli import reports_command
    from ticketing.reports.operations import connect_rollups
    from ticketing.templating import add_nav

    app.config.setdefault("REPORTS_TIMEZONE", "Asia/Shanghai")
    connect_rollups()
    app.register_blueprint(views.bp)
    api.register_blueprint(reports_api.blp)
    app.cli.add_command(reports_command)
    add_nav(60, "reports.index", _l("Reports"), "reports.view")
