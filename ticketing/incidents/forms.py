"""Forms of the incident pages (CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, SelectChoice, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional

from ticketing.incidents.operations import TEXT_LIMIT


class IncidentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    suspension_type = SelectField(_l("Suspension type"), validators=[DataRequired()])
    fault_category = SelectField(_l("Fault category"), validators=[DataRequired()])
    areas = StringField(_l("Affected areas"), validators=[DataRequired(), Length(max=2000)],
                        description=_l("Separate areas with commas."))
    description = TextAreaField(_l("Description"), validators=[Optional(),
                                                               Length(max=TEXT_LIMIT)])
    version = HiddenField()

    def incident_data(self) -> dict:
        areas = [a.strip() for a in self.areas.data.replace("，", ",").split(",")]
        return {"name": self.name.data, "suspension_type": self.suspension_type.data,
                "fault_category": self.fault_category.data,
                "areas": [a for a in areas if a], "description": self.description.data or ""}


class LinkForm(FlaskForm):
    ticket_ids = StringField(_l("Ticket ids"), validators=[Optional(), Length(max=20000)],
                             description=_l("Separate ids with commas."))
    all_open_in_area = BooleanField(_l("Every linkable repair ticket in the affected areas"))


class ReviewForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[
        SelectChoice("confirm", _l("Confirm suspension")),
        SelectChoice("reject", _l("Reject suspension"))])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=TEXT_LIMIT)])


class CallTicketForm(FlaskForm):
    """Open the caller's repair ticket linked to the incident, from the call screen."""
    customer_id = HiddenField(validators=[DataRequired()])
    caller_phone = HiddenField()
    description = StringField(_l("What the caller reports"),
                              validators=[DataRequired(), Length(max=TEXT_LIMIT)])


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token and the version read."""
    version = HiddenField()
    note = StringField(_l("Note"), validators=[Optional(), Length(max=TEXT_LIMIT)])
