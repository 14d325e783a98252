"""Contact-center ticketing and workflow engine: the Flask application factory."""
import os

from flask import Flask

from ticketing import (analysis, announcements, audits, auth, callbacks, calls, customers,
                       dispatch, faults, incidents, main, reports, search, tickets, timers)
from ticketing.apiutil import IdConverter
from ticketing.cli import register_commands
from ticketing.config import load_config, persistent_secret_key
from ticketing.dbsetup import configure_engine_events, sqlite_engine_options
from ticketing.errors import register_error_handlers
# The module, not its names: `db` would hide the submodule ticketing.db (migrations use it).
from ticketing import extensions as ext
from ticketing.i18n import select_locale, select_timezone
from ticketing.security import init_security
from ticketing.templating import init_templating
from ticketing.wiring import install as install_wiring

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The areas, in the order their pages, panels and reference data appear.
AREAS = (main, auth, customers, faults, tickets, timers, callbacks, audits, analysis,
         announcements, incidents, dispatch, calls, search, reports)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                template_folder=os.path.join(ROOT, "templates"),
                static_folder=os.path.join(ROOT, "static"))
    os.makedirs(app.instance_path, exist_ok=True)
    app.url_map.converters["int"] = IdConverter  # bounded: see ticketing.apiutil.MAX_ID

    app.config.from_mapping(load_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = persistent_secret_key(app.config["SECRET_KEY_FILE"])

    register_extensions(app)
    install_wiring(app)
    for area in AREAS:
        area.init_app(app)
    init_security(app)
    register_error_handlers(app)
    register_commands(app)
    init_templating(app)
    return app


def register_extensions(app: Flask) -> None:
    import ticketing.models  # noqa: F401  (every table on the metadata)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlite_engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=os.path.join(ROOT, "migrations"),
                     render_as_batch=True, compare_type=True)
    ext.login_manager.init_app(app)
    ext.csrf.init_app(app)
    ext.babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=os.path.join(ROOT, "ticketing",
                                                                "translations"))
    ext.limiter.init_app(app)
    ext.api.init_app(app)
    for name, default in (("DB_LOCK_TIMEOUT_MS", 3000),
                          ("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60000)):
        app.config.setdefault(name, int(os.environ.get(name) or default))
    with app.app_context():
        configure_engine_events(ext.db.engine, app.config["DB_LOCK_TIMEOUT_MS"],
                                app.config["DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"])
