"""The callback pages as a callback agent and an admin use them: the queue (due first,
overdue marked), taking one, the survey beside the ticket, the query page, the settings."""
import re

import pytest

PASSWORD = "correct-horse-9"  # conftest's


def _login(client, user):
    assert client.post("/login", data={"username": user.username,
                                       "password": PASSWORD}).status_code == 302


def test_the_agent_takes_the_most_urgent_callback_and_records_an_unsatisfied_survey(
        line, sh, client, make_user):
    line.at(sh(2026, 3, 2, 10, 0))
    older = line.open("repair")
    line.close(older)
    line.at(sh(2026, 3, 4, 10, 0))
    newer = line.open("complaint")
    line.close(newer)
    agent = make_user("callback_agent", "call_center")
    _login(client, agent)
    home = client.get("/").get_data(as_text=True)
    assert "Callbacks waiting: 2, overdue: 1." in home and "Open the callback queue" in home
    page = client.get("/callbacks").get_data(as_text=True)
    numbers = [line.ticket(older).number, line.ticket(newer).number]
    assert page.index(numbers[0]) < page.index(numbers[1])  # due first
    assert page.count("Overdue") == 1  # the older one is past its business day
    [callback] = line.callbacks(older)
    taken = client.post(f"/callbacks/{callback.id}/take")
    assert taken.status_code == 302 and taken.headers["Location"].endswith(
        f"/callbacks/{callback.id}")
    work = client.get(f"/callbacks/{callback.id}").get_data(as_text=True)
    assert "回访测试" in work and "Timeline" in work and "Service attitude" in work
    version = re.search(r'name="version" type="hidden" value="(\d+)"|'
                        r'type="hidden" name="version" value="(\d+)"|'
                        r'id="version" name="version" type="hidden" value="(\d+)"', work)
    version = next(g for g in version.groups() if g)
    bad = client.post(f"/callbacks/{callback.id}", data={
        "version": version, "reached": "yes", "overall": "2"})
    assert bad.status_code == 400 and line.callbacks(older)[0].attempts == 0
    done = client.post(f"/callbacks/{callback.id}", data={
        "version": version, "reached": "yes", "overall": "2", "attitude": "3",
        "standard": "3", "effect": "2", "comment": "没修好"})
    assert done.status_code == 302
    assert line.callbacks(older)[0].result == "unsatisfied"
    assert line.ticket(older).state != "closed"
    # Another agent cannot take the newer one once this agent holds it.
    [other_callback] = line.callbacks(newer)
    assert client.post(f"/callbacks/{other_callback.id}/take").status_code == 302
    client.post("/logout")
    _login(client, make_user("callback_agent", "call_center"))
    refused = client.post(f"/callbacks/{other_callback.id}/take", follow_redirects=True)
    assert "Another callback agent has taken this callback." in refused.get_data(as_text=True)
    # The query page (回访信息查询) finds the finished one.
    found = client.get("/callbacks/search?status=done").get_data(as_text=True)
    assert numbers[0] in found and numbers[1] not in found
    assert client.get("/callbacks/search?ticket_id=abc").status_code == 400


def test_the_ticket_page_shows_its_callbacks(line, sh, client, make_user, call, as_role):
    line.at(sh(2026, 3, 2, 10, 0))
    ticket = line.open("repair")
    line.close(ticket)
    [callback] = line.callbacks(ticket)
    _agent, headers = as_role("callback_agent", "call_center")
    call(headers, callback.id, reached=True, overall=5, attitude=5, standard=4, effect=5,
         comment="很好")
    _login(client, make_user("supervisor", "call_center"))
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert "Callbacks" in page and "Satisfied" in page and "很好" in page


def test_an_admin_edits_the_settings_on_their_page(client, make_user, line, sh):
    _login(client, make_user("admin", "management"))
    form = client.get("/callbacks/settings").get_data(as_text=True)
    assert 'value="repair" checked' in form or 'checked id="kinds-1"' in form \
        or re.search(r'checked[^>]*value="repair"|value="repair"[^>]*checked', form)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form) or re.search(
        r'value="(\d+)"[^>]*name="version"|name="version"[^>]*value="(\d+)"', form)
    version = next(g for g in version.groups() if g)
    data = {"version": version, "kinds": ["repair"], "due_repair": "60",
            "retry_minutes": "30", "max_attempts": "2", "threshold": "4", "calendar_id": "1"}
    assert client.post("/callbacks/settings", data=data).status_code == 302
    stale = client.post("/callbacks/settings", data=data, follow_redirects=True)
    assert "Someone else changed the callback settings" in stale.get_data(as_text=True)
    line.at(sh(2026, 3, 2, 10, 0))
    complaint = line.open("complaint")
    line.close(complaint)
    assert line.callbacks(complaint) == []
    repair = line.open("repair")
    line.close(repair)
    assert line.callbacks(repair)[0].due_at == sh(2026, 3, 2, 11, 0)


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_survey_and_take_forms_need_the_token(self, line, sh, client, make_user):
        line.at(sh(2026, 3, 2, 10, 0))
        ticket = line.open("repair")
        line.close(ticket)
        [callback] = line.callbacks(ticket)
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                          login).group(1)
        user = make_user("callback_agent", "call_center")
        client.post("/login", data={"username": user.username, "password": PASSWORD,
                                    "csrf_token": token})
        assert client.post(f"/callbacks/{callback.id}/take").status_code == 400
        assert line.callbacks(ticket)[0].agent_id is None
        page = client.get("/callbacks").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post(f"/callbacks/{callback.id}/take",
                           data={"csrf_token": token}).status_code == 302
        assert line.callbacks(ticket)[0].agent_id == user.id
