"""Fault categories (故障类别) as data: what classify_fault offers, and what incidents (issue
17) will reuse. An admin edits them; the defaults are reference data."""
from flask_babel import lazy_gettext as _l

FAULT_PERMISSIONS = {"faults.manage": _l("Manage fault categories")}


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables.
    from ticketing.faults import views
    from ticketing.faults.labels import fault_label
    from ticketing.faults.operations import ensure_default_categories
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    app.jinja_env.globals["fault_label"] = fault_label
    areas = wiring(app)
    areas.add_permissions(FAULT_PERMISSIONS)
    areas.reference_data.append(ensure_default_categories)
    areas.field_choices["fault_categories"] = views.fault_choices
    areas.add_nav(94, "faults.categories", _l("Fault categories"), "faults.manage")
