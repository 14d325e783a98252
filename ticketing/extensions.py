"""Every extension is created here unbound and bound in create_app()."""
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from ticketing.apiutil import ApiErrorSchema, IdConverter, id_converter_schema
from ticketing.db import Base


class TicketingApi(Api):
    """flask-smorest, but errors are rendered by ticketing.errors for the whole app."""

    ERROR_SCHEMA = ApiErrorSchema

    def _register_error_handlers(self):
        pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = TicketingApi()

api.register_converter(IdConverter, id_converter_schema)


def remote_address_and_username() -> str:
    """Throttle key for logins: per client address and account name."""
    username = (request.form.get("username") or "")
    if not username and request.is_json:
        body = request.get_json(silent=True)
        # Any JSON value may arrive (a list, a number); only an object names a user.
        username = str(body.get("username", "")) if isinstance(body, dict) else ""
    return f"{get_remote_address()}|{username.strip().lower()}"
