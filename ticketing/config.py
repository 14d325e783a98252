"""Settings from the environment; a test passes overrides to create_app()."""
import os
import secrets


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str) -> dict:
    default_db = "sqlite:///" + os.path.join(instance_path, "ticketing.sqlite3")
    return {
        # None: read (or create once) SECRET_KEY_FILE; see persistent_secret_key().
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SECRET_KEY_FILE": os.environ.get("SECRET_KEY_FILE")
        or os.path.join(instance_path, "secret_key"),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(os.environ.get("DATABASE_URL", default_db)),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Sessions: HttpOnly always, SameSite=Lax against cross-site posts, Secure behind HTTPS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 1024 * 1024)),
        # CSRF is checked by our own before_request (see ticketing/security.py) so that
        # token-authenticated API calls are exempt but session-authenticated ones are not.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed logins (form and API together) per username, and per client address.
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "5 per minute"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT",
                                                   "30 per 10 minutes"),
        # "database" (shared by every worker) or a `limits` URI: memory://, redis://host/0
        "LOGIN_THROTTLE_STORAGE": os.environ.get("LOGIN_THROTTLE_STORAGE", "database"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("BABEL_DEFAULT_LOCALE", "zh"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ["zh", "en"],
        "API_TITLE": "Contact-center ticketing API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_TOKEN_DAYS": int(os.environ.get("API_TOKEN_DAYS", 90)),
        "SCHEDULER_INTERVAL_SECONDS": float(os.environ.get("SCHEDULER_INTERVAL_SECONDS", 15)),
        "SCHEDULER_BATCH_SIZE": int(os.environ.get("SCHEDULER_BATCH_SIZE", 500)),
        "REPEAT_CALLER_WINDOW_HOURS": int(os.environ.get("REPEAT_CALLER_WINDOW_HOURS", 72)),
    }


def persistent_secret_key(path: str) -> str:
    """The key in `path`, created (mode 600) by whichever process starts first: every web
    worker and every restart then signs sessions and CSRF tokens with the same key.

    Written to a temporary file and linked into place, so a reader never sees half a key and
    two workers starting at once agree on one (the second link fails and it reads the first)."""
    for _attempt in range(50):
        try:
            with open(path, encoding="ascii") as existing:
                key = existing.read().strip()
            if key:
                return key
        except FileNotFoundError:
            pass
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as new:
                new.write(secrets.token_hex(32) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process won: read its key on the next turn
        finally:
            os.unlink(temporary)
    raise RuntimeError(f"cannot read or create the secret key file {path}")


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs and bare postgresql:// mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
