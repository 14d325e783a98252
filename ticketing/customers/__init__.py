"""Customer records (客户档案), their change history and caller lookup."""
from flask_babel import lazy_gettext as _l

CUSTOMER_PERMISSIONS = {"customers.view": _l("View customers"),
                        "customers.edit": _l("Create and edit customers")}
CUSTOMER_GRANTS = {
    **{role: ["customers.view"] for role in ("dispatcher", "staff", "callback_agent",
                                             "supervisor", "department_head")},
    "agent": ["customers.view", "customers.edit"],
}


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables
    # before the app exists, and the views need the models.
    from ticketing.customers import api, views
    from ticketing.extensions import api as rest
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    rest.register_blueprint(api.blp)
    areas = wiring(app)
    areas.add_permissions(CUSTOMER_PERMISSIONS, CUSTOMER_GRANTS)
    areas.add_nav(30, "customers.search", _l("Customers"), "customers.view")
