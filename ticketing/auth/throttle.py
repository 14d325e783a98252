"""Login throttling: one counter of failed logins per username and one per client address,
shared by the login form and POST /api/v1/tokens, cleared for the username by a success.

Where the counters live (LOGIN_THROTTLE_STORAGE):
- "database" (default): rows in login_failures, so every web worker and host sees them;
  written in the request's own transaction (the caller commits), so it is safe on SQLite;
- a `limits` storage URI: "memory://" (one process only), "redis://host:6379/0", ...
"""
import math
import time
from datetime import timedelta

from flask import current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, select

from ticketing.auth.models import LoginFailure
from ticketing.clock import utcnow
from ticketing.extensions import db


def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
    """(key, config name of its limit) for each counter of one attempt."""
    keys = [("user:" + (username or "").strip().lower()[:150], "LOGIN_RATE_LIMIT")]
    if address:
        keys.append(("addr:" + address[:150], "LOGIN_ADDRESS_RATE_LIMIT"))
    return keys


class _DatabaseCounters:
    def retry_after(self, key: str, limit) -> int | None:
        window = timedelta(seconds=limit.get_expiry())
        now = utcnow()
        count, oldest = db.session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.key == key, LoginFailure.at > now - window)).one()
        if count < limit.amount:
            return None
        return max(1, math.ceil((oldest + window - now).total_seconds()))

    def hit(self, key: str, limit) -> None:
        now = utcnow()
        # Keep the table small: nothing older than the longest window is ever read.
        longest = max(parse(current_app.config[name]).get_expiry()
                      for name in ("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT"))
        db.session.execute(delete(LoginFailure).where(
            LoginFailure.at < now - timedelta(seconds=longest)))
        db.session.add(LoginFailure(key=key, at=now))
        db.session.flush()

    def clear(self, key: str) -> None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))


class _LimitsCounters:
    def __init__(self, uri: str):
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))

    def retry_after(self, key: str, limit) -> int | None:
        if self.limiter.test(limit, "login", key):
            return None
        reset_at = self.limiter.get_window_stats(limit, "login", key).reset_time
        return max(1, math.ceil(reset_at - time.time()))  # limits keeps wall-clock time

    def hit(self, key: str, limit) -> None:
        self.limiter.hit(limit, "login", key)

    def clear(self, key: str) -> None:
        self.limiter.clear(parse(current_app.config["LOGIN_RATE_LIMIT"]), "login", key)


def _counters():
    uri = current_app.config.get("LOGIN_THROTTLE_STORAGE") or "database"
    if uri == "database":
        return _DatabaseCounters()
    cache = current_app.extensions.setdefault("login_throttle", {})
    if uri not in cache:
        cache[uri] = _LimitsCounters(uri)
    return cache[uri]


def retry_after(username: str, address: str | None) -> int | None:
    """Seconds until this username and address may try again, or None if they may now."""
    counters = _counters()
    waits = [counters.retry_after(key, parse(current_app.config[name]))
             for key, name in _keys(username, address)]
    waits = [w for w in waits if w]
    return max(waits) if waits else None


def record_failure(username: str, address: str | None) -> None:
    counters = _counters()
    for key, name in _keys(username, address):
        counters.hit(key, parse(current_app.config[name]))


def record_success(username: str) -> None:
    """Clear the username's counter. The address counter stays: logging into one's own
    account must not reset a spray of guesses at other accounts from the same address."""
    key, _name = _keys(username, None)[0]
    _counters().clear(key)
