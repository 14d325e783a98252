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
    """flask-smorest, but errors are rendered by ticketing.errors for the whole app, and the
    OpenAPI document of the blueprints is written when it is first read, not in create_app:
    writing it took most of create_app's time (0.3 s), which every worker start and every
    test paid."""

    ERROR_SCHEMA = ApiErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        self._pending_docs = []
        super().init_app(app, spec_kwargs=spec_kwargs)

    def register_blueprint(self, blp, *, parameters=None, **options):
        # Api.register_blueprint without its documentation step, which _document does later.
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._pending_docs.append((blp, name, parameters))

    def _document(self, spec) -> None:
        pending, self._pending_docs = self._pending_docs, []
        for blp, name, parameters in pending:
            blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
            spec.tag({"name": name, "description": blp.description})

    @property
    def spec(self):
        spec = self.__dict__.get("_spec")
        if spec is not None and self.__dict__.get("_pending_docs"):
            self._document(spec)
        return spec

    @spec.setter
    def spec(self, value) -> None:
        self.__dict__["_spec"] = value

    def _register_error_handlers(self):
        pass

    def _init_spec(self, *args, **kwargs):
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(no_nul_pattern)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# One unambiguous date-time form in both languages ("2026-12-01 09:30"): the English locale's
# short form, "12/1/26", reads as January 12th to half the world.
SHORT_DATETIME = "yyyy-MM-dd HH:mm"
babel = Babel(date_formats={**Babel.default_date_formats, "datetime.short": SHORT_DATETIME})
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = TicketingApi()

api.register_converter(IdConverter, id_converter_schema)

