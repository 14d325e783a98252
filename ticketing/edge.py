"""The request-parsing edge: text no database can store and bodies no parser should walk are
refused once, here, before any form, schema or query sees them (SPEC §9: a 400, never a 500).

- NUL characters: PostgreSQL text cannot hold them (a 500 from the driver) and SQLite stores
  them, so the data could not move to PostgreSQL later.
- Lone surrogates (JSON "\\ud800"): not encodable as UTF-8 on either database.
- JSON nested deeper than MAX_JSON_DEPTH: parsers and validators recurse.
- A chunked body (no Content-Length) larger than MAX_CONTENT_LENGTH: a 413, like a declared one.
"""
import io
import json

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from ticketing.errors import ApiError

MAX_JSON_DEPTH = 32
_TOO_LARGE = "ticketing.body_too_large"


class BoundedChunkedBody:
    """WSGI middleware: read a body sent without Content-Length (chunked) up to the limit,
    so that it is handled like a body that declared its length."""

    def __init__(self, wsgi_app, get_limit):
        self.wsgi_app, self.get_limit = wsgi_app, get_limit

    def __call__(self, environ, start_response):
        limit = self.get_limit()
        if limit and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                environ[_TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)


def _bad_text(where: str) -> ApiError:
    return ApiError(400, "invalid_text", str(_l(
        "%(where)s contains a NUL character or an unpaired surrogate, which cannot be stored. "
        "Remove it and try again.", where=where)), fields={where: [str(_l(
            "Contains a character that cannot be stored."))]})


def _text_ok(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _check_pairs(pairs, where: str) -> None:
    for key, value in pairs:
        if not _text_ok(key):
            raise _bad_text(where)
        if isinstance(value, str) and not _text_ok(value):
            raise _bad_text(key if _text_ok(key) else where)


def _check_json(value) -> None:
    """Walk the parsed body without recursion: depth, then every key and string."""
    stack = [(value, 1, "json")]
    while stack:
        node, depth, name = stack.pop()
        if isinstance(node, (dict, list)) and depth > MAX_JSON_DEPTH:
            raise ApiError(400, "too_deeply_nested", str(_l(
                "The JSON body is nested more than %(n)d levels deep.", n=MAX_JSON_DEPTH)))
        if isinstance(node, dict):
            for key, item in node.items():
                if not _text_ok(key):
                    raise _bad_text(name)
                stack.append((item, depth + 1, key if depth == 1 else name))
        elif isinstance(node, list):
            stack.extend((item, depth + 1, name) for item in node)
        elif isinstance(node, str) and not _text_ok(node):
            raise _bad_text(name)


def check_request_input() -> None:
    """before_request: the first hook of the app (see init_edge)."""
    if request.environ.get(_TOO_LARGE):
        raise RequestEntityTooLarge()
    _check_pairs(request.args.items(multi=True), "query")
    if request.path != request.path.replace("\x00", ""):
        raise _bad_text("path")
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.is_json:
        raw = request.get_data(cache=True)
        if not raw:
            return
        try:
            body = json.loads(raw)
        except RecursionError:
            raise ApiError(400, "too_deeply_nested", str(_l(
                "The JSON body is nested more than %(n)d levels deep.", n=MAX_JSON_DEPTH)))
        except ValueError:
            return  # malformed JSON: the schema parser answers it in the usual shape
        _check_json(body)
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs(request.form.items(multi=True), "form")
        for key, upload in request.files.items(multi=True):
            if not _text_ok(key) or not _text_ok(upload.filename or ""):
                raise _bad_text("form")


def init_edge(app) -> None:
    app.wsgi_app = BoundedChunkedBody(app.wsgi_app, lambda: app.config.get("MAX_CONTENT_LENGTH"))
    # First in line: before CSRF, throttling and every view.
    app.before_request_funcs.setdefault(None, []).insert(0, check_request_input)
