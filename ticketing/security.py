"""Who is calling (a login session or a bearer token), CSRF for session requests, the one
safe-redirect rule, security headers."""
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from flask import g, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from ticketing.apiutil import MAX_ID
from ticketing.auth.models import ApiToken, LoginSession, User
from ticketing.auth.tokens import find_valid_token
from ticketing.clock import utcnow
from ticketing.edge import init_edge
from ticketing.errors import ApiError
from ticketing.extensions import csrf, db, login_manager

# Endpoints a client reaches before it has a session or token.
CSRF_EXEMPT_ENDPOINTS = {"auth_api.Tokens"}

# last_used_at / last_seen_at are written at most this often per token or login session, so
# that a busy integration does not turn every read into a write.
TOUCH_INTERVAL = timedelta(minutes=5)

log = logging.getLogger("ticketing")


def unauthenticated() -> ApiError:
    """A request with neither a valid session nor a valid token (RFC 6750 names the scheme)."""
    return ApiError(401, "unauthenticated", _("Log in or send a token."),
                    headers={"WWW-Authenticate": "Bearer"})


def safe_next(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback`. Every redirect to a
    client-supplied place goes through here. Browsers drop tabs and newlines anywhere in a
    URL and read a backslash as a slash, so "/\\t/evil" and "/\\\\evil" mean "//evil":
    control characters, whitespace and backslashes are refused outright."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return fallback
    if not target.isprintable() or any(c.isspace() or c == "\\" for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def init_security(app) -> None:
    init_edge(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        # A request that names a bearer token is judged by that token alone, never by a
        # session or remember cookie riding along (a wrong token is a 401; CSRF may be skipped).
        if _bearer_token(request) is not None:
            return _user_from_token(request)
        return _user_from_session(user_id)

    @login_manager.request_loader
    def load_user_from_token(req):
        return _user_from_token(req)

    @app.before_request
    def check_csrf():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.endpoint in CSRF_EXEMPT_ENDPOINTS:
            return
        # An API write with neither session nor token: say so (401), rather than "CSRF".
        if request.path.startswith("/api/") and request.endpoint is not None \
                and not current_user.is_authenticated:
            raise unauthenticated()
        # Integrations authenticate with a bearer token, which a browser never sends by itself;
        # such a request ignores the session cookie (see load_user), so it cannot be forged.
        if _bearer_token(request) is not None or not app.config.get("WTF_CSRF_ENABLED", True):
            return
        csrf.protect()

    @app.before_request
    def require_json_bodies():
        # The API reads JSON only: a body of another type would be parsed as an empty object
        # (so POST /notifications/read with a form body marked everything read). Refuse it.
        if not request.path.startswith("/api/") or request.method not in ("POST", "PUT",
                                                                          "PATCH"):
            return
        if request.content_length and not request.is_json:
            from werkzeug.exceptions import UnsupportedMediaType
            raise UnsupportedMediaType()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'")
        user = g.get("_login_user")
        # Pages of a logged-in user show customers' personal data: no cache keeps them.
        if request.path.startswith("/api/") or getattr(g, "no_store", False) \
                or (user is not None and user.is_authenticated):
            response.headers.setdefault("Cache-Control", "no-store")
        if response.status_code < 400:
            _touch(g.pop("touch", None))
        return response


def _bearer_token(req) -> str | None:
    """The token of an `Authorization: Bearer` header on an API path, else None."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip()


def _user_from_session(user_id: str | None):
    """The user of a live login session: the cookie holds "<user id>:<session key>"."""
    uid, _sep, key = (user_id or "").partition(":")
    if not key or not uid.isdigit() or int(uid) > MAX_ID:
        return None
    row = db.session.execute(
        select(User, LoginSession.id, LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == int(uid), User.active.is_(True),
               LoginSession.key_hash == LoginSession.hash(key),
               LoginSession.ended_at.is_(None))).first()
    if row is None:
        return None
    user, session_id, last_seen = row
    user.login_key = key
    _touch_later(LoginSession, LoginSession.last_seen_at, session_id, last_seen)
    return user


def _user_from_token(req):
    token_text = _bearer_token(req)
    if not token_text:
        return None
    token = find_valid_token(token_text)
    if token is None or not token.user.active:
        return None
    g.authenticated_by_token = True
    g.api_token_id = token.id
    _touch_later(ApiToken, ApiToken.last_used_at, token.id, token.last_used_at)
    return token.user


def _touch_later(model, column, row_id: int, last: object) -> None:
    if last is None or last <= utcnow() - TOUCH_INTERVAL:
        g.touch = (model, column, row_id)


def _touch(touch) -> None:
    """Record use after a successful request, in a transaction of its own (best effort)."""
    if touch is None:
        return
    model, column, row_id = touch
    now = utcnow()
    try:
        db.session.execute(update(model).where(
            model.id == row_id, (column.is_(None)) | (column <= now - TOUCH_INTERVAL))
            .values({column.key: now}))
        db.session.commit()
    except SQLAlchemyError:  # never fail an answered request for a usage timestamp
        db.session.rollback()
        log.warning("could not record the use of %s %s", model.__tablename__, row_id,
                    exc_info=True)
