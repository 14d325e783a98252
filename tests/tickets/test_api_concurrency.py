"""Two people acting on the same ticket at once never lose an update (SPEC §2): the second
gets a 409 stale_version showing the fresh state, and history gains exactly one row."""
import threading

import pytest

from ticketing.tickets import operations


def _classified_repair(api):
    customer = api.customer(phones=["13800000001"])
    ticket = api.open(kind="repair", customer_id=customer["id"])
    assert api.fire("dispatcher", ticket["id"], "verify_customer").status_code == 200
    return api.ticket("dispatcher", ticket["id"])


def test_second_of_two_people_holding_the_same_version_gets_409_and_the_fresh_state(
        api, app, people):
    ticket = _classified_repair(api)
    first, second = app.test_client(), app.test_client()
    body = {"event": "classify_fault", "version": ticket["version"]}
    won = first.post(f"/api/v1/tickets/{ticket['id']}/transitions",
                     json={**body, "fault_type": "no_signal"},
                     headers=people["dispatcher"].headers)
    assert won.status_code == 200
    after_first = api.stored(ticket["id"])
    lost = second.post(f"/api/v1/tickets/{ticket['id']}/transitions",
                       json={**body, "fault_type": "slow_network"},
                       headers=people["dispatcher2"].headers)
    assert lost.status_code == 409
    error = lost.get_json()
    assert error["error"] == "stale_version"
    assert error["current_version"] == won.get_json()["ticket"]["version"]
    assert error["state"] == "repair_classified"
    assert api.stored(ticket["id"]) == after_first
    assert api.ticket("admin", ticket["id"])["fault_type"] == "no_signal"  # not overwritten


@pytest.mark.postgres
@pytest.mark.parametrize("overlap", ["requests_start_together", "both_past_the_version_check"])
def test_two_people_firing_at_once_one_wins_and_the_other_gets_409(
        api, app, people, monkeypatch, overlap):
    ticket = _classified_repair(api)
    before = api.stored(ticket["id"])
    racers = [people["dispatcher"], people["dispatcher2"]]
    start = threading.Barrier(len(racers), timeout=10)
    if overlap == "both_past_the_version_check":
        # Hold each request after its own version check until both got there, so only the
        # database's version column can tell them apart.
        checked = threading.Barrier(len(racers), timeout=10)
        real_clean = operations._clean_fields

        def clean_when_both_checked(event, raw):
            checked.wait()
            return real_clean(event, raw)

        monkeypatch.setattr(operations, "_clean_fields", clean_when_both_checked)
    results, failures = [], []

    def fire(person, fault_type):
        client = app.test_client()
        try:
            start.wait()
            response = client.post(f"/api/v1/tickets/{ticket['id']}/transitions", json={
                "event": "classify_fault", "version": ticket["version"],
                "fault_type": fault_type}, headers=person.headers)
            results.append((response.status_code, response.get_json()))
        except Exception as exc:  # noqa: BLE001  (reported below, in the main thread)
            failures.append(exc)

    threads = [threading.Thread(target=fire, args=(person, code))  # a category each
               for person, code in zip(racers, ("no_signal", "slow_network"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    assert sorted(status for status, _body in results) == [200, 409]
    winner = next(body for status, body in results if status == 200)
    loser = next(body for status, body in results if status == 409)
    assert loser["error"] == "stale_version"
    assert loser["current_version"] == winner["ticket"]["version"]
    assert loser["state"] == "repair_classified"
    after = api.stored(ticket["id"])
    assert after["history"] == before["history"] + 1
    assert after["version"] == winner["ticket"]["version"]
    assert api.ticket("admin", ticket["id"])["fault_type"] == winner["ticket"]["fault_type"]
