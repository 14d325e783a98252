"""Every extension is created here unbound and bound in create_app()."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from ticketing.apiutil import ApiErrorSchema, IdConverter, id_converter_schema, no_nul_pattern
from ticketing.db import Base


class TicketingApi(Api):
    """flask-smorest, but errors are rendered by ticketing.errors for the whole app."""

    ERROR_SCHEMA = ApiErrorSchema

    def _register_error_handlers(self):
        pass

    def _init_spec(self, *args, **kwargs):
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(no_nul_pattern)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = TicketingApi()

api.register_converter(IdConverter, id_converter_schema)

