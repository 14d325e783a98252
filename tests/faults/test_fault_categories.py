"""Fault categories are data: seeded, edited by an admin, offered by classify_fault."""
import re

from sqlalchemy import select

from ticketing.extensions import db
from ticketing.faults.models import FaultCategory
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import open_ticket


def test_the_defaults_include_the_incident_categories(app):
    with app.app_context():
        names = {c.code: (c.name, c.mass_fault) for c in db.session.scalars(
            select(FaultCategory))}
    for code, name in (("fibre_cable", "光缆"), ("cable", "电缆"), ("equipment", "设备"),
                       ("machine_room", "机房"), ("power_cut", "停电")):
        assert names[code] == (name, True)
    assert len(names) > 5 and not names["set_top_box"][1]


def test_an_admin_adds_and_retires_a_category_and_classify_fault_follows(
        app, client, auth, make_user):
    make_user("admin", "management", username="boss")
    dispatcher = make_user("dispatcher", "dispatch", username="disp")
    auth.login("boss")
    assert client.get("/admin/fault-categories").status_code == 200
    created = client.post("/admin/fault-categories/new", data={
        "code": "amplifier", "name": "放大器", "name_en": "Amplifier", "sort_order": "5",
        "active": "y"})
    assert created.status_code == 302
    refused = client.post("/admin/fault-categories/new", data={"code": "amplifier", "name": ""})
    assert refused.status_code == 400 and "This code is taken." in refused.get_data(True)
    with app.app_context():
        cable = db.session.scalar(select(FaultCategory).where(FaultCategory.code == "cable"))
        ticket = open_ticket(None, kind="repair", caller_phone="13800138000",
                             description="没有信号")
        db.session.commit()
        cable_id, ticket_id = cable.id, ticket.id
    assert client.post(f"/admin/fault-categories/{cable_id}", data={
        "name": "电缆", "name_en": "Cable", "sort_order": "20"}).status_code == 302  # inactive
    auth.logout()

    auth.login(dispatcher.username)
    page = client.get(f"/tickets/{ticket_id}").get_data(True)
    form = page[page.index('id="classify_fault-fault_type"'):]
    form = form[:form.index("</select>")]
    assert '<option value="amplifier">Amplifier</option>' in form
    assert 'value="cable"' not in form
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    done = client.post(f"/tickets/{ticket_id}/events/classify_fault",
                       data={"version": version, "fault_type": "amplifier"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).fault_type == "amplifier"
    shown = client.get(f"/tickets/{ticket_id}").get_data(True)
    assert "fault: Amplifier" in shown  # the category's name, not its code
    stale = client.post(f"/tickets/{ticket_id}/events/classify_fault",
                        data={"version": str(int(version) + 1), "fault_type": "nonsense"})
    assert stale.status_code in (400, 409)


def test_the_api_takes_only_a_category_that_may_be_chosen_now(app, client, as_role):
    """Free text, an unknown code or a retired category is a 400 naming the field, and the
    ticket is unchanged; an active category's code is stored."""
    _user, headers = as_role("dispatcher", "dispatch")
    with app.app_context():
        ticket = open_ticket(None, kind="repair", caller_phone="13800138000",
                             description="没有信号")
        retired = db.session.scalar(select(FaultCategory).where(
            FaultCategory.code == "meter"))
        retired.active = False
        db.session.commit()
        ticket_id, version = ticket.id, ticket.version

    def classify(fault_type):
        return client.post(f"/api/v1/tickets/{ticket_id}/transitions", headers=headers, json={
            "event": "classify_fault", "version": version, "fields": {"fault_type": fault_type}})

    for refused in ("光缆", "no signal", "meter"):
        response = classify(refused)
        assert response.status_code == 400, (refused, response.get_json())
        assert "fibre_cable" in response.get_json()["fields"]["fault_type"][0]
        assert "meter" not in response.get_json()["fields"]["fault_type"][0]
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).fault_type in (None, "")
    assert classify("fibre_cable").status_code == 200
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).fault_type == "fibre_cable"
