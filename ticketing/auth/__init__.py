"""Accounts: departments, users, roles with permissions as data, API tokens, login."""
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables
    # before the app exists, and the views need the models.
    from ticketing.auth import api, views
    from ticketing.auth.operations import ensure_reference_data
    from ticketing.auth.permissions import ACCOUNT_PERMISSIONS
    from ticketing.extensions import api as rest
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    rest.register_blueprint(api.blp)
    areas = wiring(app)
    areas.add_permissions(ACCOUNT_PERMISSIONS)
    # Departments and roles first: every other area's reference data may refer to them.
    areas.reference_data.insert(0, ensure_reference_data)
    areas.add_nav(0, "main.home", _l("Home"), None)
    areas.add_nav(90, "auth.users", _l("Users"), "users.manage")
    areas.add_nav(91, "auth.roles", _l("Roles"), "roles.manage")
    areas.add_nav(93, "auth.departments", _l("Departments"), "departments.manage")
