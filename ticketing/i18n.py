"""Language per user (Chinese or English), else the browser's preference."""
from functools import lru_cache

from babel import Locale
from flask import current_app, has_request_context, request
from flask_login import current_user


def select_locale() -> Locale:
    """The request's locale, as a Locale made once per language (Flask-Babel parsed the
    code again for every request, a tenth of a millisecond)."""
    return _locale(_select_locale_code())


@lru_cache(maxsize=None)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def _select_locale_code() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # scheduler, sweeps, CLI: the configured default
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
