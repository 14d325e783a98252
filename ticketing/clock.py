"""The one source of "now", so tests and the scheduler can drive time without sleeping."""
from datetime import datetime, timedelta, timezone

_frozen: datetime | None = None


def utcnow() -> datetime:
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests and bench only); None returns to real time."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at


def advance(**delta) -> datetime:
    global _frozen
    _frozen = utcnow() + timedelta(**delta)
    return _frozen
