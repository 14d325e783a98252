"""The working day in real Chromium: each journey is what a person does, step by step, and
each step is checked on screen (see conftest.Browser.check for what every page gets)."""
import re
from datetime import datetime, timezone

import pytest

from ticketing import clock

CALLER = "18785091285"


def open_action(actions, label):
    """Open an action's fold on the ticket page: the form inside it."""
    actions.locator("details > summary", has_text=re.compile(f"^{re.escape(label)}$")).click()
    return actions.locator("details[open]")


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_agent_takes_a_call_and_opens_a_repair_seeing_the_callers_open_tickets(
        browser, in_app, scene, locale):
    _ = scene.words(locale)
    in_app(scene.person, "agent", "agent", "call_center", "李晓东", locale=locale)
    customer_id = in_app(scene.customer, "张三", CALLER, "KH100001")
    _earlier_id, earlier = in_app(scene.ticket, "consult", customer_id,
                                  description="咨询宽带资费套餐")

    browser.login("agent")
    browser.click("link", _("Call screen"))
    page = browser.page
    assert page.get_by_role("heading", name=_("Call screen"), level=1).is_visible()

    # The number as the phone system shows it, with the country code.
    page.get_by_label(_("Phone or account number")).fill("+86 187 8509 1285")
    with page.expect_navigation():
        page.get_by_label(_("Phone or account number")).press("Enter")
    browser.check()
    lookup = browser.text(".call-screen")
    assert "张三" in lookup and "KH100001" in lookup
    assert earlier in lookup, "the caller's open ticket is listed"
    # Focus moves on to the new ticket, so the agent keeps typing.
    page.wait_for_function("document.activeElement && document.activeElement.name === 'kind'")

    page.get_by_label(_("Kind"), exact=True).select_option("repair")
    page.get_by_label(_("Description")).fill("电视没有信号，机顶盒显示E-202")
    browser.submit(page.get_by_role("button", name=_("Open ticket"), exact=True))
    flash = browser.flash()
    number = re.search(r"[A-Z]*\d[\w-]*", flash).group(0)
    assert number in page.locator("h1").inner_text()
    assert _("Repair") in page.locator("h1").inner_text()
    browser.screenshot(f"journey-call-ticket-{locale}")

    # Back on the call screen, the caller's open tickets now include the new repair.
    browser.goto(f"/call?phone={CALLER}")
    listed = browser.text(".call-screen")
    assert earlier in listed and number in listed
    browser.screenshot(f"journey-call-lookup-{locale}")


def test_work_order_is_dispatched_worked_and_closed(browser, in_app, scene):
    _ = scene.words("zh")
    in_app(scene.person, "dispatcher", "dispatcher", "dispatch", "王建国")
    in_app(scene.person, "team1", "staff", "repair_team_1", "刘强")
    in_app(scene.person, "team2", "staff", "repair_team_2", "孙磊")
    in_app(scene.person, "callback", "callback_agent", "callback", "杨丽")
    customer_id = in_app(scene.customer, "张三", CALLER, "KH100001")
    ticket_id, number = in_app(scene.ticket, "repair", customer_id, events=[
        ("verify_customer", {}), ("classify_fault", {"fault_type": "fibre_cable"})])

    browser.login("dispatcher")
    browser.goto(f"/tickets/{ticket_id}")
    page = browser.page
    actions = page.locator(".ticket-actions")
    form = open_action(actions, _("Issue work order"))
    form.get_by_label(_("Department")).select_option(label="维修部")
    browser.submit(actions.get_by_role("button", name=_("Issue work order"), exact=True))
    assert _("Repair: work order issued") in browser.text(".facts")

    form = open_action(actions, _("Dispatch field team"))
    form.get_by_label(_("Department")).select_option(label="维修一队")
    assignee = form.get_by_label(_("Assignee"))
    offered = assignee.locator("option:not([hidden])").all_inner_texts()
    assert any("刘强" in o for o in offered)
    assert not any("杨丽" in o or "孙磊" in o for o in offered), offered
    assignee.select_option(label=next(o for o in offered if "刘强" in o))
    browser.submit(actions.get_by_role("button", name=_("Dispatch field team"), exact=True))
    flash = browser.flash()
    assert number in flash and "刘强" in flash, flash
    browser.logout()

    browser.login("team1")
    assert number in browser.text("main"), "the team member sees the work order at home"
    browser.click("link", number)
    browser.submit(page.locator(".ticket-actions").get_by_role("button", name=_("Accept"), exact=True))
    assert _("Repair: team working") in browser.text(".facts")
    actions = page.locator(".ticket-actions")
    form = open_action(actions, _("Report repaired"))
    form.get_by_label(_("Note")).fill("更换分光器后恢复")
    browser.submit(actions.get_by_role("button", name=_("Report repaired"), exact=True))
    assert _("Repair: repaired") in browser.text(".facts")
    form = open_action(actions, _("Resolve"))
    form.get_by_label(_("Note")).fill("客户确认信号恢复")
    browser.submit(actions.get_by_role("button", name=_("Resolve"), exact=True))
    facts = browser.text(".facts")
    assert _("Closed") in facts and _("Processed") in facts
    assert "更换分光器后恢复" in browser.text(".ticket-timeline")
    browser.screenshot("journey-repair-closed")


def test_supervisor_sees_a_breach_with_time_overdue(browser, in_app, scene):
    _ = scene.words("zh")
    in_app(scene.person, "supervisor", "supervisor", "supervision", "赵敏")
    clock.freeze(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))  # a Monday, 09:00 Beijing
    _ticket_id, number = in_app(scene.ticket, "repair", description="整栋楼没有信号")
    clock.advance(days=3)
    from ticketing.timers.sweep import sweep_due_timers
    in_app(sweep_due_timers)

    browser.login("supervisor")
    home = browser.text("main")
    assert number in home
    assert re.search(_("Overdue by %(time)s", time=r"[^\n]+"), home), home
    browser.screenshot("journey-supervisor-home")
    browser.click("link", _("Escalations"))
    table = browser.text("main table")
    assert number in table
    assert re.search(_("Overdue by %(time)s", time=r"[^\n]+"), table), table
    browser.screenshot("journey-supervisor-escalations")


def test_a_version_conflict_keeps_the_typed_note(browser, in_app, scene):
    _ = scene.words("zh")
    in_app(scene.person, "ops", "staff", "operations", "张秀英")
    ticket_id, number = in_app(scene.ticket, "consult", description="询问账单扣费明细")

    browser.login("ops")
    browser.goto(f"/tickets/{ticket_id}")
    page = browser.page
    actions = page.locator(".ticket-actions")
    form = open_action(actions, _("Reply"))
    typed = "已核实本月账单，多扣的20元将于下月返还。"
    form.get_by_label(_("Note")).fill(typed)

    # Meanwhile a colleague transfers the ticket: the page the user typed on is stale.
    in_app(scene.fire, ticket_id, "transfer", department_id=in_app(
        scene.department_id, "operations"))

    browser.submit(actions.get_by_role("button", name=_("Reply"), exact=True))
    flash = browser.flash()
    assert flash and not re.search(r"\b\d+\b", flash.replace(number, "")), flash
    assert _("Consult: with a department") in browser.text(".facts")
    assert page.locator(".ticket-actions details[open]").get_by_label(_("Note")).input_value() == typed
    browser.screenshot("journey-conflict")
    # Sending it again now works: the form carries the fresh version.
    browser.submit(page.locator(".ticket-actions").get_by_role("button", name=_("Reply"), exact=True))
    assert _("Consult: reply to relay") in browser.text(".facts")
    assert typed in browser.text(".ticket-timeline")


def test_supervisor_opens_the_audit_queue_reviews_an_audit_and_rejects_it(browser, in_app,
                                                                          scene):
    _ = scene.words("zh")
    in_app(scene.person, "supervisor", "supervisor", "supervision", "赵敏")
    ticket_id, number = in_app(scene.ticket, "complaint", description="维修人员迟到两小时", events=[
        ("suspend", {"reason": "等待客户"}), ("close", {"note": "已向客户道歉"})])

    browser.login("supervisor")
    browser.click("link", re.compile(f"^{re.escape(_('Audits'))}"))
    page = browser.page
    assert page.get_by_role("heading", name=_("Audit queue"), level=1).is_visible()
    row = page.locator("table.audits tr", has_text=number)
    assert _("Complaint") in row.inner_text()
    with page.expect_navigation():
        row.get_by_role("link", name=_("Review")).click()
    browser.check()
    steps = browser.text("table.steps")
    assert "已向客户道歉" in steps and _("Close") in steps
    assert page.get_by_role("heading", name=_("Deadlines")).is_visible()
    browser.screenshot("journey-audit-review")

    decision = page.locator(".ticket-actions")
    decision.get_by_label(_("Reject (re-dispatch)")).check()
    decision.get_by_label(_("Reason (required to reject: the department reads it)")).fill(
        "道歉不能代替处理，请落实整改")
    browser.submit(decision.get_by_role("button", name=_("Record the decision")))
    assert _("Audit rejected: the ticket is re-dispatched.") in browser.flash()
    assert number not in browser.text("main")
    browser.goto(f"/tickets/{ticket_id}")
    assert _("Complaint: with the responsible department") in browser.text(".facts")
    assert "道歉不能代替处理" in browser.text(".ticket-timeline")
    browser.screenshot("journey-audit-rejected")


def test_dispatcher_assigns_a_work_order_from_the_board(browser, in_app, scene):
    """Issue 17: the board shows the work order without a team; the dispatcher picks the
    team and one of its technicians in the row, and the board shows where it went."""
    _ = scene.words("zh")
    in_app(scene.person, "dispatcher", "dispatcher", "dispatch", "王建国")
    in_app(scene.person, "team1", "staff", "repair_team_1", "刘强")
    in_app(scene.person, "team2", "staff", "repair_team_2", "孙磊")
    customer_id = in_app(scene.customer, "张三", CALLER, "KH100001")
    repair = in_app(scene.department_id, "repair")
    ticket_id, number = in_app(scene.ticket, "repair", customer_id, events=[
        ("verify_customer", {}), ("classify_fault", {"fault_type": "fibre_cable"}),
        ("issue_work_order", {"department_id": repair})])

    browser.login("dispatcher")
    browser.click("link", _("Dispatch board"))
    page = browser.page
    assert page.get_by_role("heading", name=_("Dispatch board"), level=1).is_visible()
    row = page.locator(f"tr[data-ticket='{number}']")
    assert "朝阳区" in browser.text("main") and _("None yet") in row.inner_text()
    row.get_by_label(_("Field team")).select_option(label="维修一队")
    technician = row.get_by_label(_("Technician"))
    offered = technician.locator("option:not([hidden])").all_inner_texts()
    assert "刘强" in offered and "孙磊" not in offered, offered  # only the team's members
    technician.select_option(label="刘强")
    browser.submit(row.get_by_role("button", name=_("Assign")))
    assert page.url.endswith("/dispatch")
    assert number in browser.flash() and "刘强" in browser.flash()
    row = page.locator(f"tr[data-ticket='{number}']")
    assert "维修一队" in row.inner_text() and "刘强" in row.inner_text()
    assert row.get_by_role("button", name=_("Reassign")).is_visible()
    browser.screenshot("journey-dispatch-board")
    assert in_app(_state_and_assignee, ticket_id) == ("repair_dispatched", "team1")


def _state_and_assignee(ticket_id: int) -> tuple:
    from ticketing.extensions import db
    from ticketing.tickets.models import Ticket
    ticket = db.session.get(Ticket, ticket_id)
    return ticket.state, ticket.assignee.username if ticket.assignee else None


def test_supervisor_publishes_an_announcement_and_an_agent_sees_it(browser, in_app, scene):
    """Issue 17: a supervisor writes an announcement for the call center and publishes it;
    an agent sees it on the home page and under the header, a repair technician does not."""
    _ = scene.words("zh")
    in_app(scene.person, "supervisor", "supervisor", "supervision", "赵敏")
    in_app(scene.person, "agent", "agent", "call_center", "李晓东")
    in_app(scene.person, "team1", "staff", "repair_team_1", "刘强")

    browser.login("supervisor")
    browser.click("link", _("Announcements"))
    browser.click("link", _("New announcement"))
    page = browser.page
    page.get_by_label(_("Title")).fill("东城区光缆抢修通知")
    page.get_by_label(_("Content")).fill("东城区和平里街道光缆中断，预计18点恢复，请安抚来电客户。")
    page.get_by_label("呼叫中心").check()
    browser.submit(page.get_by_role("button", name=_("Save draft")))
    assert _("Draft saved.") in browser.flash()
    browser.submit(page.get_by_role("button", name=_("Publish now")))
    assert _("Current") in browser.text("h1")
    browser.logout()

    browser.login("agent")
    home = browser.text("main")
    assert "东城区光缆抢修通知" in home and "预计18点恢复" in home and "赵敏" in home
    assert "东城区光缆抢修通知" in browser.text(".announcement-strip")
    browser.screenshot("journey-announcement-home")
    browser.logout()

    browser.login("team1")
    assert "东城区光缆抢修通知" not in browser.text("body")


def test_callback_agent_surveys_an_unsatisfied_customer_and_the_repair_is_reopened(
        browser, in_app, scene):
    """The callback agent's working screen (SPEC §5): the queue, taking a callback, the
    survey beside the ticket's summary and history; an unsatisfied survey reopens the ticket
    and the supervisor finds it in the audit queue."""
    _ = scene.words("zh")
    in_app(scene.person, "callback", "callback_agent", "callback", "杨丽")
    in_app(scene.person, "supervisor", "supervisor", "supervision", "赵敏")
    customer_id = in_app(scene.customer, "张三", CALLER, "KH100001")
    ticket_id, number = in_app(scene.ticket, "repair", customer_id,
                               description="光猫红灯闪烁，无法上网", events=[
                                   ("suspend", {"reason": "等待配件"}),
                                   ("close", {"note": "更换光猫后恢复"})])

    browser.login("callback")
    browser.click("link", re.compile(f"^{re.escape(_('Callbacks'))}"))
    page = browser.page
    assert page.get_by_role("heading", name=_("Callback queue"), level=1).is_visible()
    row = page.locator("table.callbacks tr", has_text=number)
    assert _("Repair") in row.inner_text() and _("Open") in row.inner_text()
    browser.submit(row.get_by_role("button", name=_("Take")))

    # One screen: what the ticket was, how it was handled, and the survey.
    assert number in page.locator("h1").inner_text()
    assert "光猫红灯闪烁" in browser.text(".description")
    assert "更换光猫后恢复" in browser.text(".timeline")
    survey = page.locator(".ticket-actions")
    survey.get_by_label(_("Reached"), exact=True).check()
    survey.get_by_label(_("Overall satisfaction")).select_option("2")
    survey.get_by_label(_("Service attitude (服务态度)")).select_option("4")
    survey.get_by_label(_("Service standard (服务规范)")).select_option("3")
    survey.get_by_label(_("Service effect (服务效果)")).select_option("1")
    survey.get_by_label(_("Customer's comment")).fill("第二天又断网了")
    browser.screenshot("journey-callback-survey")
    browser.submit(survey.get_by_role("button", name=_("Record attempt")))
    assert _("Attempt recorded.") in browser.flash()
    assert number not in browser.text("table.callbacks"), "a surveyed callback leaves the queue"

    browser.goto(f"/tickets/{ticket_id}")
    assert _("Closed") not in browser.text(".facts"), "the unsatisfied survey reopened it"
    timeline = browser.text(".ticket-timeline")
    assert "回访不满意（总体 2，服务态度 4，服务规范 3，服务效果 1）：第二天又断网了" in timeline
    browser.logout()

    browser.login("supervisor")
    browser.click("link", re.compile(f"^{re.escape(_('Audits'))}"))
    audit = page.locator("table.audits tr", has_text=number)
    assert _("Unsatisfied callback") in audit.inner_text()
    browser.screenshot("journey-callback-audited")
