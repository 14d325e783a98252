"""One error shape: JSON `{"error", "message", ...}` under /api, an HTML page elsewhere."""
import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
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


RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    """Raised by operations and views for an expected refusal; rendered by the handlers below."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


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
        extra["fields"] = fields or messages
        status = 400
    code = ERROR_CODES.get(status, "error")
    if status == 400 and getattr(error, "description", "").startswith("The CSRF"):
        code = "csrf_failed"
    message = error.description if status != 500 else _("Internal error")
    if extra.get("fields"):
        message = _("Some fields are invalid.")
    response = error_response(status, code, message, **extra)
    headers = data.get("headers") or getattr(error, "headers", None)
    if headers and isinstance(response, tuple):
        body, st = response
        return body, st, headers
    return response


def _api_error(error: ApiError):
    db.session.rollback()  # a refusal after a flush must not leave the flushed rows behind
    return error_response(error.status, error.code, error.message, **error.extra)


def _stale(error: StaleDataError):
    db.session.rollback()
    return error_response(409, "stale_version",
                          _("Someone else changed this record first; reload and try again."))


def _database_busy(error: OperationalError):
    """A row another process holds past lock_timeout (PostgreSQL), or a database-wide write
    lock past busy_timeout (SQLite): nothing was written; try again shortly."""
    db.session.rollback()
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate != "55P03" and "database is locked" not in str(error.orig):
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
