"""Who is calling (session or bearer token), CSRF for session requests, security headers."""
from flask import g, request
from flask_babel import lazy_gettext as _l

from ticketing.extensions import csrf, db, login_manager

# Endpoints a client reaches before it has a session or token.
CSRF_EXEMPT_ENDPOINTS = {"auth_api.Tokens"}


def init_security(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        # A request that names a bearer token is judged by that token alone, never by a
        # session or remember cookie riding along (a wrong token is a 401; CSRF may be skipped).
        if _bearer_token(request) is not None:
            return _user_from_token(request)
        from ticketing.auth.models import User
        try:
            user = db.session.get(User, int(user_id))
        except (TypeError, ValueError):
            return None
        # Flask-Login checks `active` only at login; a deactivated account loses its sessions.
        return user if user is not None and user.active else None

    @login_manager.request_loader
    def load_user_from_token(req):
        return _user_from_token(req)

    @app.before_request
    def check_csrf():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or not app.config.get(
                "WTF_CSRF_ENABLED", True):
            return
        if request.endpoint in CSRF_EXEMPT_ENDPOINTS:
            return
        # Integrations authenticate with a bearer token, which a browser never sends by itself;
        # such a request ignores the session cookie (see load_user), so it cannot be forged.
        if _bearer_token(request) is not None:
            return
        csrf.protect()

    @app.before_request
    def require_json_bodies():
        # The API reads JSON only: a body of another type would be parsed as an empty object
        # (so POST /notifications/read with a form body marked everything read). Refuse it.
        if not request.path.startswith("/api/") or request.method not in ("POST", "PUT",
                                                                          "PATCH"):
            return
        if (request.content_length or request.headers.get("Transfer-Encoding")) \
                and not request.is_json:
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
        if request.path.startswith("/api/") or getattr(g, "no_store", False):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _bearer_token(req) -> str | None:
    """The token of an `Authorization: Bearer` header on an API path, else None."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip()


def _user_from_token(req):
    token_text = _bearer_token(req)
    if not token_text:
        return None
    from ticketing.auth.models import ApiToken
    token = ApiToken.find_valid(token_text)
    if token is None or not token.user.active:
        return None
    g.authenticated_by_token = True
    return token.user
