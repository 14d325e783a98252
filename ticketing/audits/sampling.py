"""Which closed tickets the random share of the audit rules picks: a pure function of the
ticket id and the rule version, so a re-run decides identically and only a change of the
rules (a new version) draws again. No Flask, no database."""
import hashlib

BUCKETS = 10_000  # the share is resolved to a hundredth of a percent


def bucket(ticket_id: int, rule_version: int) -> int:
    """A stable number in [0, BUCKETS) for this ticket under this rule version."""
    digest = hashlib.sha256(f"audit-sample:{rule_version}:{ticket_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def sampled(ticket_id: int, rule_version: int, percent: float) -> bool:
    """True for about `percent` % of ticket ids, the same ones every time for one version."""
    return bucket(ticket_id, rule_version) < round(percent * BUCKETS / 100)
