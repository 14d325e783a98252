"""Clocks follow the ticket inside the transition's own transaction: the response clock stops
at the first response, suspension pauses (suspended time never counts), resume moves the
deadline by exactly the suspended business time, reopen starts a new round, reclassify starts
the new kind's clocks, a complaint's assignment starts its handling time limit."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from ticketing.extensions import db
from workflows.business_time import (BusinessCalendar, add_business_minutes,
                                     business_minutes_between)


def _office():
    return BusinessCalendar.standard(range(2025, 2029))


def _pending(desk, clock_id):
    return [(t.kind, t.level) for t in desk.timers(clock_id=clock_id, status="pending")]


def test_response_clock_stops_at_the_first_response(desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("consult")
    desk.at(sh(2026, 3, 2, 10, 20))
    desk.fire(ticket, "transfer", department_id=desk.department_id("repair"))
    response = desk.clock(ticket, "response")
    assert response.status == "stopped"
    assert response.business_minutes_used == pytest.approx(20)
    assert not response.breached
    assert _pending(desk, response.id) == []  # its timers were cancelled with it
    assert desk.clock(ticket, "resolution").status == "running"


def test_a_late_response_is_recorded_as_breached(desk, sh):
    desk.at(sh(2026, 3, 2, 17, 50))
    ticket = desk.open("consult")  # due Tuesday 09:20
    desk.at(sh(2026, 3, 3, 9, 25))
    desk.fire(ticket, "reply", note="已答复")
    response = desk.clock(ticket, "response")
    assert response.breached
    assert response.business_minutes_used == pytest.approx(35)  # the night is not counted


def test_suspension_extends_the_deadline_by_exactly_the_suspended_business_time(desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))  # Monday
    ticket = desk.open("consult")
    desk.fire(ticket, "transfer", department_id=desk.department_id("repair"))
    before = desk.clock(ticket, "resolution")
    assert before.due_at == sh(2026, 3, 3, 10, 0)
    suspended_at = desk.at(sh(2026, 3, 2, 11, 0))
    desk.fire(ticket, "suspend", reason="等待用户资料")
    paused = desk.clock(ticket, "resolution")
    assert paused.status == "paused" and paused.business_minutes_used == pytest.approx(60)
    assert _pending(desk, paused.id) == []
    resumed_at = desk.at(sh(2026, 3, 4, 10, 0))  # Wednesday
    desk.fire(ticket, "resume")
    after = desk.clock(ticket, "resolution")
    suspended = business_minutes_between(suspended_at, resumed_at, _office())
    assert suspended == 420 + 540 + 60
    assert after.due_at == add_business_minutes(before.due_at, suspended, _office())
    assert after.due_at == sh(2026, 3, 4, 18, 0)
    assert after.status == "running" and after.segment == 2
    # A new timer for the new segment, at the new offset of its next mark.
    timers = desk.timers(clock_id=after.id, status="pending")
    assert [(t.kind, t.level, t.due_at) for t in timers] == [
        ("sla_warning", 0, sh(2026, 3, 4, 17, 50))]
    desk.at(sh(2026, 3, 4, 12, 0))
    desk.fire(ticket, "reply", note="已答复")
    desk.fire(ticket, "relay")
    done = desk.clock(ticket, "resolution")
    assert done.status == "stopped" and not done.breached
    assert done.business_minutes_used == pytest.approx(60 + 120)


def test_a_mass_fault_link_pauses_a_24x7_repair_clock(desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("repair", customer_tier="ordinary")  # 24x7: resolution 480 min
    desk.at(sh(2026, 3, 2, 10, 10))
    desk.fire(ticket, "classify_fault", fault_type="fibre_cable")
    assert desk.clock(ticket, "response").status == "stopped"
    desk.at(sh(2026, 3, 2, 10, 30))
    desk.fire(ticket, "link_incident", incident_ref="SJ-2026-001")
    assert desk.clock(ticket, "resolution").status == "paused"
    desk.at(sh(2026, 3, 2, 22, 30))  # twelve hours later, at night: 24x7 would count them
    desk.fire(ticket, "resume")
    clock = desk.clock(ticket, "resolution")
    assert clock.due_at == sh(2026, 3, 2, 22, 30) + timedelta(minutes=480 - 30)


def test_closing_a_suspended_ticket_stops_its_clocks_without_the_suspended_time(desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("consult")
    desk.at(sh(2026, 3, 2, 10, 45))
    desk.fire(ticket, "suspend", reason="用户要求暂缓")
    # Suspending from `new` is the first move away from it: the response clock stops.
    response = desk.clock(ticket, "response")
    assert response.status == "stopped" and response.breached  # 45 > 30 minutes
    desk.at(sh(2026, 3, 9, 10, 0))
    desk.fire(ticket, "close", note="用户撤销")
    resolution = desk.clock(ticket, "resolution")
    assert resolution.status == "stopped"
    assert resolution.business_minutes_used == pytest.approx(45)
    assert not resolution.breached
    # No SLA timer is left; the missed response deadline put the closing under audit (§6),
    # and the audit's own due timer is what is pending.
    assert [t.kind for t in desk.timers(status="pending")] == ["audit_overdue"]


def test_approving_a_suspension_keeps_the_clock_paused(desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("consult")
    desk.fire(ticket, "transfer", department_id=desk.department_id("repair"))
    desk.at(sh(2026, 3, 2, 11, 0))
    desk.fire(ticket, "suspend", reason="等待")
    desk.at(sh(2026, 3, 2, 12, 0))
    desk.fire(ticket, "approve_suspension")
    assert desk.clock(ticket, "resolution").status == "paused"
    desk.at(sh(2026, 3, 2, 13, 0))
    desk.fire(ticket, "reject_suspension", note="不符合挂起条件")
    clock = desk.clock(ticket, "resolution")
    assert clock.status == "running"
    assert clock.due_at == sh(2026, 3, 3, 12, 0)  # two hours later than Tuesday 10:00


def test_reopen_starts_a_new_resolution_round(desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("consult")
    desk.fire(ticket, "terminate", note="已解答")
    desk.at(sh(2026, 3, 3, 10, 0))
    desk.fire(ticket, "reopen", reason="回访不满意")
    clocks = desk.clocks(ticket)
    assert [(c.clock, c.round, c.status) for c in clocks] == [
        ("response", 0, "stopped"), ("resolution", 0, "stopped"), ("resolution", 1, "running")]
    assert clocks[-1].due_at == sh(2026, 3, 4, 10, 0)


def test_reclassify_stops_the_old_clocks_and_starts_the_new_kinds(desk, sh):
    desk.at(sh(2026, 3, 6, 17, 0))  # Friday evening
    ticket = desk.open("consult")
    desk.at(sh(2026, 3, 6, 17, 10))
    desk.fire(ticket, "reclassify", to_kind="repair", reason="其实是故障")
    clocks = desk.clocks(ticket)
    assert [(c.clock, c.status) for c in clocks] == [
        ("response", "stopped"), ("resolution", "stopped"),
        ("response", "running"), ("resolution", "running")]
    # The repair policy runs 24x7: due the same evening, not on Monday.
    assert clocks[2].due_at == sh(2026, 3, 6, 18, 10)
    assert all(t.clock_id in (clocks[2].id, clocks[3].id)
               for t in desk.timers(status="pending"))


def test_complaint_time_limit_runs_from_assignment_to_handling(desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.fire(ticket, "send_to_inspection")
    desk.fire(ticket, "analyse", note="服务态度问题")
    assert desk.clock(ticket, "complaint_limit") is None
    repair = desk.department_id("repair")
    desk.at(sh(2026, 3, 2, 11, 0))
    desk.fire(ticket, "assign", department_id=repair)
    limit = desk.clock(ticket, "complaint_limit")
    assert limit.status == "running" and limit.department_id == repair
    assert limit.target_minutes == 1080
    assert limit.due_at == sh(2026, 3, 4, 11, 0)  # two working days
    desk.at(sh(2026, 3, 3, 11, 0))
    desk.fire(ticket, "handle", note="已道歉并处理", receipt_person="王先生", satisfaction=4)
    limit = desk.clock(ticket, "complaint_limit")
    assert limit.status == "stopped" and not limit.breached
    assert limit.business_minutes_used == pytest.approx(540)
    assert desk.clock(ticket, "resolution").status == "running"
    desk.fire(ticket, "resolve", note="已办结")
    desk.at(sh(2026, 3, 5, 9, 0))
    desk.fire(ticket, "reopen", reason="稽查不通过")  # back to the responsible department
    again = desk.clock(ticket, "complaint_limit")
    assert (again.round, again.status, again.due_at) == (1, "running", sh(2026, 3, 6, 18, 0))


def test_clock_changes_roll_back_with_a_refused_transition(desk, sh, app):
    from ticketing.tickets.models import Ticket
    from ticketing.tickets.operations import fire_event
    from ticketing.timers.models import SlaClock, Timer
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket_id = desk.open("consult")
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        fire_event(None, ticket, "suspend", {"reason": "等待"})
        assert db.session.scalar(select(SlaClock.paused_at).where(
            SlaClock.clock == "resolution")) is not None
        db.session.rollback()  # the request failed after the transition: nothing sticks
        assert db.session.scalar(select(SlaClock.paused_at).where(
            SlaClock.clock == "resolution")) is None
        assert db.session.scalar(select(db.func.count(Timer.id)).where(
            Timer.status == "pending")) == 2  # one per clock


def _clock_facts(ticket_id):
    from ticketing.timers.models import SlaClock, Timer
    clocks = sorted((c.clock, c.status, c.due_at, c.segment, c.business_minutes_used)
                    for c in db.session.scalars(select(SlaClock).where(
                        SlaClock.ticket_id == ticket_id)))
    timers = sorted((t.kind, t.level, t.status, t.due_at) for t in db.session.scalars(
        select(Timer).where(Timer.ticket_id == ticket_id)))
    return clocks, timers


def test_a_batch_of_one_event_does_to_each_ticket_what_one_firing_does(desk, sh, app):
    """fire_events (an incident's release, its linking) pauses, resumes and stops each
    ticket's clocks and places their timers exactly as firing the event on each alone."""
    from ticketing.tickets.models import Ticket
    from ticketing.tickets.operations import fire_event, fire_events
    desk.at(sh(2026, 3, 2, 10, 0))
    alone, *batch = [desk.open("consult") for _ in range(3)]
    desk.at(sh(2026, 3, 2, 11, 0))
    with app.app_context():
        fire_event(None, db.session.get(Ticket, alone), "suspend", {"reason": "等待"})
        fire_events(None, [db.session.get(Ticket, i) for i in batch], "suspend",
                    {"reason": "等待"})
        db.session.commit()
    desk.at(sh(2026, 3, 3, 15, 0))
    with app.app_context():
        fire_event(None, db.session.get(Ticket, alone), "resume", {})
        fire_events(None, [db.session.get(Ticket, i) for i in batch], "resume", {})
        db.session.commit()
        expected = _clock_facts(alone)
        assert expected[0] and expected[1]
        for ticket_id in batch:
            assert _clock_facts(ticket_id) == expected
            assert db.session.get(Ticket, ticket_id).state == db.session.get(
                Ticket, alone).state


def test_a_batch_is_all_or_nothing(desk, sh, app):
    """One ticket whose state refuses the event refuses the whole batch before any ticket,
    clock or timer changes."""
    from workflows.errors import EventNotAllowed
    from ticketing.tickets.models import Ticket, TicketEvent
    from ticketing.tickets.operations import fire_events
    desk.at(sh(2026, 3, 2, 10, 0))
    first, second = desk.open("consult"), desk.open("consult")
    desk.fire(second, "suspend", reason="等待")
    with app.app_context():
        before = [_clock_facts(first), _clock_facts(second)]
        events = db.session.scalar(select(db.func.count(TicketEvent.id)))
        with pytest.raises(EventNotAllowed):
            fire_events(None, [db.session.get(Ticket, first), db.session.get(Ticket, second)],
                        "suspend", {"reason": "等待"})
        # Refused before anything was touched, not merely rolled back afterwards.
        assert db.session.get(Ticket, first).state == "consult_new"
        assert not db.session.dirty and not db.session.new
        db.session.rollback()
        assert [_clock_facts(first), _clock_facts(second)] == before
        assert db.session.scalar(select(db.func.count(TicketEvent.id))) == events
