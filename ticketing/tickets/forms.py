"""Forms of the ticket pages: the call screen's new-ticket form and one small form per
workflow event, built from workflows.tickets.EVENTS so a new event needs no new form."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ticketing.auth.models import Department, User
from ticketing.extensions import db
from ticketing.tickets.labels import (CHANNEL_LABELS, FIELD_LABELS, KIND_LABELS,
                                      PRIORITY_LABELS)
from ticketing.tickets.models import CHANNELS, PRIORITIES
from ticketing.tickets.operations import TEXT_LIMIT
from ticketing.wiring import wiring
from workflows.tickets import EVENTS, FIELD_TEAM_KINDS, KINDS

from wtforms.fields.choices import SelectChoice
from wtforms.fields.choices import SelectChoice as choice  # WTForms 3.3: no bare tuples


# Free-text fields that hold a sentence or more get a textarea; the rest a one-line input.
LONG_TEXT_FIELDS = ("note", "reason")
SHORT_TEXT_LIMIT = 100


class NewTicketForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[choice(k, KIND_LABELS[k]) for k in KINDS])
    # Choices are the customers that matched the caller's number; "" means none.
    customer_id = SelectField(_l("Customer"), choices=[choice("", "—")], validate_choice=False,
                              validators=[Optional(), Regexp(r"^\d{1,12}$")])
    caller_phone = StringField(_l("Caller phone"), validators=[Optional(), Length(max=30)])
    caller_name = StringField(_l("Caller name"), validators=[Optional(), Length(max=100)])
    channel = SelectField(_l("Channel"), choices=[choice(c, CHANNEL_LABELS[c]) for c in CHANNELS])
    priority = SelectField(_l("Priority"), default="normal",
                           choices=[choice(p, PRIORITY_LABELS[p]) for p in PRIORITIES])
    category = StringField(_l("Category / fault type"), validators=[Optional(), Length(max=60)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"),
                                validators=[DataRequired(), Length(max=TEXT_LIMIT)])
    # The screen pop's recorded call, when the phone system opened the call screen.
    call_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,9}$")])

    def ticket_data(self) -> dict:
        raw_customer = self.customer_id.data or ""
        return {"kind": self.kind.data, "channel": self.channel.data,
                "priority": self.priority.data,
                "customer_id": int(raw_customer) if raw_customer.isdigit() else None,
                "caller_phone": (self.caller_phone.data or "").strip(),
                "caller_name": self.caller_name.data or "", "category": self.category.data or "",
                "title": self.title.data or "", "description": self.description.data or ""}


class EventForm(FlaskForm):
    """Base of the per-event forms; `version` carries the ticket version the user saw."""

    version = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,9}$")])
    event_name = ""

    def workflow_fields(self) -> dict:
        """The event's fields as operations.fire_event takes them (empty ones left out)."""
        values = {}
        for name in EVENTS[self.event_name]["fields"]:
            value = self[name].data
            if value not in (None, ""):
                values[name] = value
        return values

    @property
    def expected_version(self) -> int:
        return int(self.version.data)

    @property
    def visible_fields(self) -> list:
        return [self[name] for name in EVENTS[self.event_name]["fields"]]


def _field_for(event: str, name: str, meta: dict):
    label = FIELD_LABELS.get(name, name)
    validators = [DataRequired()] if meta.get("required") else [Optional()]
    # Unique ids: one page carries the forms of every allowed event.
    field_id = f"{event}-{name}"
    kind = meta["type"]
    if meta.get("choices"):  # text the workflow stores, picked from a list that is data
        return SelectField(label, choices=[], validators=validators, id=field_id)
    if kind == "text":
        limit = TEXT_LIMIT if name in LONG_TEXT_FIELDS else SHORT_TEXT_LIMIT
        field_class = TextAreaField if name in LONG_TEXT_FIELDS else StringField
        render = {"maxlength": limit, **({"rows": 3} if name in LONG_TEXT_FIELDS else {})}
        return field_class(label, validators=validators + [Length(max=limit)], id=field_id,
                           render_kw=render)
    if kind == "int":
        low, high = meta.get("min", 1), meta.get("max", 5)
        return IntegerField(label, validators=validators + [NumberRange(low, high)],
                            id=field_id, render_kw={"min": low, "max": high})
    # department, user, kind: a select whose choices depend on the ticket (see event_form).
    return SelectField(label, choices=[], validators=validators, id=field_id)


_FORM_CLASSES: dict[str, type] = {}


def _form_class(event: str) -> type:
    if event not in _FORM_CLASSES:
        attrs = {name: _field_for(event, name, meta)
                 for name, meta in EVENTS[event]["fields"].items()}
        attrs["event_name"] = event
        _FORM_CLASSES[event] = type(f"EventForm_{event}", (EventForm,), attrs)
    return _FORM_CLASSES[event]


# Events whose department is a field team: their list offers only those departments (the
# workflow's data says which: a department field with `kinds`; fire_event refuses others).
FIELD_TEAM_EVENTS = tuple(name for name, meta in EVENTS.items()
                          if any(f.get("kinds") for f in meta["fields"].values()))


def _department_choices(field_teams: bool = False) -> list:
    locale = str(get_locale() or "")
    query = select(Department).where(Department.active.is_(True)).order_by(Department.id)
    if field_teams:
        query = query.where(Department.kind.in_(FIELD_TEAM_KINDS))
    return [choice(str(d.id), d.display_name(locale)) for d in db.session.scalars(query)]


def _user_choices() -> list:
    """Active users with a department, grouped by it; each option names its department in
    data-department, so the page offers only the members of the department chosen beside
    it (static/app.js; the server refuses the others too)."""
    locale = str(get_locale() or "")
    users = db.session.scalars(select(User).where(User.active.is_(True),
                                                  User.department_id.is_not(None))
                               .order_by(User.department_id, User.username)).all()
    return [SelectChoice(str(u.id), u.display_name,
                         render_kw={"data-department": str(u.department_id)},
                         optgroup=u.department.display_name(locale)) for u in users]


def event_form(event: str, ticket, submitted: bool = False, choices_cache: dict | None = None):
    """The form of `event` for `ticket`: read from the request when `submitted`, else blank
    with the ticket's current version (the page shows every allowed event's form)."""
    form = _form_class(event)() if submitted else _form_class(event)(formdata=None)
    cache = {} if choices_cache is None else choices_cache
    for name, meta in EVENTS[event]["fields"].items():
        field = form[name]
        if meta["type"] == "department":
            key = "field_teams" if event in FIELD_TEAM_EVENTS else "department"
            if key not in cache:
                cache[key] = _department_choices(field_teams=key == "field_teams")
            field.choices = [choice("", "—")] + cache[key]
        elif meta["type"] == "user":
            if "user" not in cache:
                cache["user"] = _user_choices()
            field.choices = [choice("", "—")] + cache["user"]
            if "department_id" in EVENTS[event]["fields"]:
                field.render_kw = {"data-members-of": f"{event}-department_id"}
        elif meta.get("choices"):
            if name not in cache:
                cache[name] = [choice(code, label) for code, label
                               in wiring().field_choices[meta["choices"]]()]
            field.choices = [choice("", "—")] + cache[name]
        elif meta["type"] == "kind":
            field.choices = [choice(k, KIND_LABELS[k]) for k in KINDS if k != ticket.kind]
    if not submitted:
        form.version.data = str(ticket.version)
    return form
