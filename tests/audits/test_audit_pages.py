"""The pages: the supervisor's audit queue, one audit with every step on one screen and its
decision form, the audit rules, and the ticket page's supervision card with the liability,
appeal and ruling forms."""
from ticketing.extensions import db

PASSWORD = "correct-horse-9"


def login(client, user):
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_the_supervisor_reviews_and_rejects_an_audit_on_its_pages(desk, sh, client,
                                                                  make_user):
    supervisor = make_user("supervisor", "supervision")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    [audit] = desk.audits(ticket)
    login(client, supervisor)
    home = client.get("/").get_data(as_text=True)
    assert "Audits open: 1, overdue: 0." in home
    queue = client.get("/audits").get_data(as_text=True)
    assert desk.ticket(ticket).number in queue and f"/audits/{audit.id}" in queue
    page = client.get(f"/audits/{audit.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("Handling steps", "已向客户道歉", "张三", "Deadlines", "Met", "Complaint"):
        assert text in html, text
    refused = client.post(f"/audits/{audit.id}/decision",
                          data={"version": str(audit.version), "decision": "reject",
                                "reason": ""})
    assert refused.status_code == 400 and desk.audits(ticket)[0].status == "open"
    done = client.post(f"/audits/{audit.id}/decision",
                       data={"version": str(audit.version), "decision": "reject",
                             "reason": "处理描述过于简单"})
    assert done.status_code == 302
    assert desk.audits(ticket)[0].decision == "reject"
    assert desk.ticket(ticket).state == "complaint_assigned"
    again = client.post(f"/audits/{audit.id}/decision",
                        data={"version": str(audit.version + 1), "decision": "pass"},
                        follow_redirects=True)
    assert "This audit is finished" in again.get_data(as_text=True)
    assert client.get("/audits?status=done").get_data(as_text=True).count("Rejected") >= 1
    assert client.get("/audits?status=nonsense").status_code == 400
    ticket_page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert "Supervision" in ticket_page and "处理描述过于简单" in ticket_page


def test_the_rules_page_saves_the_rules(client, make_user, app):
    admin = make_user("admin", "management")
    login(client, admin)
    page = client.get("/audits/rules")
    assert page.status_code == 200 and "Random share of the rest" in page.get_data(as_text=True)
    from ticketing.audits.operations import current_rules
    with app.app_context():
        version, calendar_id = current_rules().version, current_rules().calendar_id
    response = client.post("/audits/rules", data={
        "version": str(version), "complaints": "y", "sla_breaches": "y",
        "sample_percent": "25", "due_minutes": "480", "calendar_id": str(calendar_id)})
    assert response.status_code == 302
    with app.app_context():
        rules = current_rules()
        assert (rules.sample_percent, rules.unsatisfied_callbacks, rules.version) == (
            25, False, version + 1)
        db.session.remove()
    bad = client.post("/audits/rules", data={"version": str(version + 1),
                                             "sample_percent": "250", "due_minutes": "480",
                                             "calendar_id": str(calendar_id)})
    assert bad.status_code == 400


def test_liability_appeal_and_ruling_through_the_ticket_page(desk, sh, client, make_user,
                                                             app):
    first = make_user("supervisor", "supervision")
    second = make_user("supervisor", "supervision")
    staff = make_user("staff", "operations")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    operations = desk.department_id("operations")
    login(client, first)
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert "Rule on liability" in page and f"/tickets/{ticket}/liability" in page
    response = client.post(f"/tickets/{ticket}/liability", data={
        "liability-version": "0", "liability-justified": "yes",
        "liability-department_id": str(operations), "liability-person_id": str(staff.id),
        "liability-note": "属实"})
    assert response.status_code == 302
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert "Ruled" in page and "属实" in page
    assert "Rule on the appeal" not in page
    client.post("/logout")

    login(client, staff)
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert "Appeal (once)" in page
    assert client.post(f"/tickets/{ticket}/liability/appeal", data={
        "appeal-version": "1", "appeal-reason": "有录音为证"}).status_code == 302
    assert "Appeal (once)" not in client.get(f"/tickets/{ticket}").get_data(as_text=True)
    second_try = client.post(f"/tickets/{ticket}/liability/appeal", data={
        "appeal-reason": "再次申诉"}, follow_redirects=True)
    assert "has been appealed already" in second_try.get_data(as_text=True)
    client.post("/logout")

    login(client, first)
    own = client.post(f"/tickets/{ticket}/liability/ruling",
                      data={"ruling-upheld": "yes"}, follow_redirects=True)
    assert "a second supervisor rules on the appeal" in own.get_data(as_text=True)
    client.post("/logout")

    login(client, second)
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert "Rule on the appeal" in page and "有录音为证" in page
    assert client.post(f"/tickets/{ticket}/liability/ruling", data={
        "ruling-upheld": "yes", "ruling-note": "维持原判"}).status_code == 302
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert "Appeal refused: the ruling stands" in page and "维持原判" in page
    [audit] = desk.audits(ticket)
    assert "Appeal refused: the ruling stands" in client.get(
        f"/audits/{audit.id}").get_data(as_text=True)


def test_a_non_complaint_has_no_liability_card(desk, sh, client, make_user):
    supervisor = make_user("supervisor", "supervision")
    desk.at(sh(2026, 3, 2, 10, 0))
    ticket = desk.open("consult")
    login(client, supervisor)
    assert "Complaint liability" not in client.get(f"/tickets/{ticket}").get_data(as_text=True)
    refused = client.post(f"/tickets/{ticket}/liability", data={
        "liability-justified": "no"}, follow_redirects=True)
    assert "Liability is ruled on complaints only" in refused.get_data(as_text=True)
