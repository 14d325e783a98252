"""Contact-center ticketing and workflow engine: the Flask application factory."""
import os

from flask import Flask

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                template_folder=os.path.join(ROOT, "templates"),
                static_folder=os.path.join(ROOT, "static"))
    os.makedirs(app.instance_path, exist_ok=True)
    from ticketing.apiutil import IdConverter
    app.url_map.converters["int"] = IdConverter  # bounded: see ticketing.apiutil.MAX_ID

    from ticketing.config import load_config
    app.config.from_mapping(load_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)

    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_errors(app)
    register_cli(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    from ticketing.extensions import api, babel, csrf, db, limiter, login_manager, migrate
    from ticketing.i18n import select_locale, select_timezone

    import ticketing.models  # noqa: F401  (every table on the metadata)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=os.path.join(ROOT, "ticketing",
                                                                "translations"))
    limiter.init_app(app)
    api.init_app(app)

    from ticketing.dbsetup import configure_engine_events
    with app.app_context():
        configure_engine_events(db.engine)


def register_blueprints(app: Flask) -> None:
    from ticketing.extensions import api
    from ticketing.auth import api as auth_api, views as auth_views
    from ticketing.customers import api as customers_api, views as customers_views
    from ticketing.main import views as main_views

    app.register_blueprint(main_views.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(customers_views.bp)
    api.register_blueprint(auth_api.blp)
    api.register_blueprint(customers_api.blp)
    for optional in ("tickets", "timers"):
        _register_area(app, optional)
    from ticketing import reports
    reports.init_app(app)


def _register_area(app: Flask, area: str) -> None:
    """Areas register themselves through a `register(app)` hook in their package."""
    import importlib
    module = importlib.import_module(f"ticketing.{area}")
    hook = getattr(module, "register", None)
    if hook:
        hook(app)


def register_security(app: Flask) -> None:
    from ticketing.security import init_security
    init_security(app)


def register_errors(app: Flask) -> None:
    from ticketing.errors import register_error_handlers
    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    from ticketing.cli import register_commands
    register_commands(app)


def register_template_helpers(app: Flask) -> None:
    from ticketing.templating import init_templating
    init_templating(app)
