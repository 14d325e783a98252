"""One error shape: JSON `{"error", "message", ...}` under /api, an HTML page elsewhere."""
import logging
import re

from flask import jsonify, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from ticketing.extensions import db

ERROR_CODES = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "busy",
    500: "internal_error",
}


# Flask-WTF and marshmallow speak English only: their messages are looked up here.
_FIXED_MESSAGES = {
    "The CSRF token is missing.": _l("The form's security token (CSRF) is missing. Reload "
                                     "the page and try again."),
    "The CSRF session token is missing.": _l("Your session has no security token (CSRF); "
                                             "reload the page and try again."),
    "The CSRF token has expired.": _l("The form's security token (CSRF) has expired. Reload "
                                      "the page and try again."),
    "The CSRF token is invalid.": _l("The form's security token (CSRF) is invalid. Reload "
                                     "the page and try again."),
    "The CSRF tokens do not match.": _l("The form's security token (CSRF) does not match "
                                        "your session. Reload the page and try again."),
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field may not be empty (null)."),
    "Unknown field.": _l("Unknown field."),
    "Invalid input type.": _l("Wrong type of value."),
    "Invalid value.": _l("Invalid value."),
    "Invalid JSON body.": _l("The body is not valid JSON."),
    "Not a valid string.": _l("Must be text."),
    "Not a valid integer.": _l("Must be a whole number."),
    "Not a valid number.": _l("Must be a number."),
    "Not a valid boolean.": _l("Must be true or false."),
    "Not a valid datetime.": _l("Must be a date and time (ISO 8601)."),
    "Not a valid date.": _l("Must be a date (YYYY-MM-DD)."),
    "Not a valid list.": _l("Must be a list."),
    "Not a valid mapping type.": _l("Must be an object."),
    "String does not match expected pattern.": _l("Does not have the expected form."),
}
_PATTERN_MESSAGES = [
    (re.compile(r"Longer than maximum length (\d+)\.$"),
     lambda m: _("At most %(n)s characters.", n=m[1])),
    (re.compile(r"Shorter than minimum length (\d+)\.$"),
     lambda m: _("At least %(n)s characters.", n=m[1])),
    (re.compile(r"Length must be between (\d+) and (\d+)\.$"),
     lambda m: _("Between %(min)s and %(max)s long.", min=m[1], max=m[2])),
    (re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     lambda m: _("Must be from %(min)s to %(max)s.", min=m[1], max=m[2])),
    (re.compile(r"Must be greater than or equal to (\S+)\.$"),
     lambda m: _("Must be at least %(min)s.", min=m[1])),
    (re.compile(r"Must be less than or equal to (\S+)\.$"),
     lambda m: _("Must be at most %(max)s.", max=m[1])),
    (re.compile(r"Must be one of: (.*)\.$"),
     lambda m: _("Must be one of: %(choices)s.", choices=m[1])),
]


def translate_message(message):
    """A library's English message in the reader's language (unknown ones unchanged);
    applied through lists and dicts of field errors."""
    if isinstance(message, dict):
        return {key: translate_message(value) for key, value in message.items()}
    if isinstance(message, list):
        return [translate_message(value) for value in message]
    if not isinstance(message, str):
        return message
    if message in _FIXED_MESSAGES:
        return str(_FIXED_MESSAGES[message])
    for pattern, render in _PATTERN_MESSAGES:
        match = pattern.match(message)
        if match:
            return render(match)
    return message

RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    """Raised by operations and views for an expected refusal; rendered by the handlers below."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None,
                 **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.headers = headers or {}


class Conflict(ApiError):
    def __init__(self, code: str, message: str, **extra):
        super().__init__(409, code, message, **extra)


class InvalidInput(ApiError):
    """400 with the messages of each field: `fields` maps a field name to its messages."""

    def __init__(self, fields: dict[str, list[str]], message: str | None = None):
        super().__init__(400, "invalid_input", message or _("Some fields are invalid."),
                         fields=fields)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, **extra):
    if wants_json():
        body = {"error": code, "message": message, **extra}
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, message=message,
                           extra=extra), status


def _http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    extra = {}
    messages = data.get("messages")
    if messages:
        # webargs nests field errors by location ("json", "query"); clients want the fields.
        fields = {}
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                fields.update(location_errors)
        extra["fields"] = translate_message(fields or messages)
        status = 400
    code = ERROR_CODES.get(status, "error")
    if status == 400 and getattr(error, "description", "").startswith("The CSRF"):
        code = "csrf_failed"
    message = translate_message(error.description) if status != 500 else _("Internal error")
    if extra.get("fields"):
        message = _("Some fields are invalid.")
    elif not wants_json():
        # Werkzeug's and Flask-WTF's descriptions are English: pages speak the user's language.
        message = _page_message(status, code) or message
        if code == "csrf_failed" and request.method == "POST":
            extra["typed"] = _typed_fields()
    response = error_response(status, code, message, **extra)
    headers = data.get("headers") or getattr(error, "headers", None)
    if headers and isinstance(response, tuple):
        body, st = response
        return body, st, headers
    return response


def _page_message(status: int, code: str) -> str | None:
    if code == "csrf_failed":
        return _("This form was open too long or the service restarted, so it could not be "
                 "sent. Nothing was changed. What you typed is below: copy it, open the page "
                 "again and send it once more.")
    return {400: _("The request could not be understood."),
            403: _("You do not have permission to do this."),
            404: _("There is no such page, or it is not yours to see."),
            405: _("This page cannot be used that way."),
            413: _("What was sent is too large."),
            }.get(status)


def _typed_fields() -> list[tuple[str, str]]:
    """(field name, text) of what a refused form carried, so the user can copy it back."""
    skip = {"csrf_token", "version", "password", "next"}
    return [(name, value) for name, value in request.form.items(multi=True)
            if name not in skip and value.strip()][:20]


def _api_error(error: ApiError):
    db.session.rollback()  # a refusal after a flush must not leave the flushed rows behind
    body, status = error_response(error.status, error.code, error.message, **error.extra)
    return body, status, error.headers


def _stale(error: StaleDataError):
    db.session.rollback()
    return error_response(409, "stale_version",
                          _("Someone else changed this record first; reload and try again."))


# lock_not_available, deadlock_detected, serialization_failure
_TRANSIENT_SQLSTATES = frozenset({"55P03", "40P01", "40001"})


def _database_busy(error: OperationalError):
    """A row another process holds past lock_timeout, a deadlock or a serialization failure
    (PostgreSQL), or a database-wide write lock past busy_timeout (SQLite): nothing was
    written; try again shortly."""
    db.session.rollback()
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate not in _TRANSIENT_SQLSTATES and "database is locked" not in str(error.orig):
        raise error
    response = error_response(503, "busy", _("Someone else is changing this right now; "
                                              "try again in a few seconds."))
    body, status = response
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _unexpected(error: Exception):
    db.session.rollback()
    if isinstance(error, HTTPException):
        return _http_exception(error)
    logging.getLogger("ticketing").exception("unhandled error", exc_info=error)
    return _http_exception(InternalServerError())


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(OperationalError, _database_busy)
    if not app.testing:
        app.register_error_handler(Exception, _unexpected)
