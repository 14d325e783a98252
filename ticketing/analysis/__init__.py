"""Analysis (SPEC §6): the most frequent consult types and topics over a period (to find
recurring problems) and repair quality per field team from callbacks by the three
dimensions; aggregated in SQL, a page and a JSON API."""
from flask_babel import lazy_gettext as _l

ANALYSIS_PERMISSIONS = {"analysis.view": _l("See the consult and repair quality analysis")}
ANALYSIS_GRANTS = {"supervisor": ["analysis.view"], "department_head": ["analysis.view"]}


def init_app(app) -> None:
    from ticketing.analysis import api as analysis_api, views
    from ticketing.extensions import api
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    api.register_blueprint(analysis_api.blp)
    areas = wiring(app)
    areas.add_permissions(ANALYSIS_PERMISSIONS, ANALYSIS_GRANTS)
    areas.add_nav(66, "analysis.index", _l("Analysis"), "analysis.view")
