"""The random share of the audit rules is a pure function of ticket id and rule version:
the share over 10,000 tickets is within tolerance, a re-run decides identically, and a new
rule version draws a different sample."""
from ticketing.audits.sampling import bucket, sampled

TICKETS = range(1, 10_001)


def test_the_share_over_ten_thousand_tickets_is_within_tolerance():
    for percent in (1, 10, 25, 50, 90):
        chosen = sum(sampled(t, 7, percent) for t in TICKETS)
        # Binomial: 4 standard deviations of 10,000 draws is at most 200.
        assert abs(chosen - percent * 100) <= 200, (percent, chosen)


def test_none_and_all_are_exact():
    assert not any(sampled(t, 3, 0) for t in TICKETS)
    assert all(sampled(t, 3, 100) for t in TICKETS)


def test_a_rerun_decides_identically():
    first = [sampled(t, 5, 10) for t in TICKETS]
    assert [sampled(t, 5, 10) for t in TICKETS] == first
    assert all(0 <= bucket(t, 5) < 10_000 for t in range(1, 100))


def test_changing_the_rule_version_changes_the_decisions_not_the_share():
    old = {t for t in TICKETS if sampled(t, 1, 10)}
    new = {t for t in TICKETS if sampled(t, 2, 10)}
    assert old != new
    # Independent draws: the overlap is about 10 % of 10 %, far from all of them.
    assert len(old & new) < len(old) / 2
    assert abs(len(new) - 1000) <= 200


def test_a_larger_share_keeps_every_ticket_the_smaller_one_chose():
    small = {t for t in TICKETS if sampled(t, 9, 5)}
    assert small <= {t for t in TICKETS if sampled(t, 9, 20)}
