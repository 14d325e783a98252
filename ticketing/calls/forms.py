"""The call screen's "link this call to the open ticket" form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ticketing.calls.operations import NOTE_LIMIT


class LinkCallForm(FlaskForm):
    phone = HiddenField(validators=[DataRequired(), Length(max=30)])
    ticket_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,9}$")])
    call_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,9}$")])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)])
