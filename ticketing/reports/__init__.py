"""Reports (统计报表, SPEC §8): daily rollups kept with every ticket change, the report
queries, pages with charts and CSV export, and `GET /api/v1/reports/<name>`.

Nothing here imports at package level: ticketing.models imports reports.models early."""
from flask_babel import lazy_gettext as _l

REPORT_PERMISSIONS = {"reports.view": _l("See reports")}
REPORT_GRANTS = {role: ["reports.view"] for role in ("supervisor", "department_head")}


def init_app(app) -> None:
    from ticketing.extensions import api
    from ticketing.reports import api as reports_api, views
    from ticketing.reports.cli import reports_command
    from ticketing.reports.operations import connect_rollups
    from ticketing.wiring import wiring

    app.config.setdefault("REPORTS_TIMEZONE", "Asia/Shanghai")
    connect_rollups()
    app.register_blueprint(views.bp)
    api.register_blueprint(reports_api.blp)
    app.cli.add_command(reports_command)
    areas = wiring(app)
    areas.add_permissions(REPORT_PERMISSIONS, REPORT_GRANTS)
    areas.add_nav(60, "reports.index", _l("Reports"), "reports.view")
