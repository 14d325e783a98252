from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class CustomerForm(FlaskForm):
    account_no = StringField(_l("Account / user-card number"),
                             validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    area = StringField(_l("Area"), validators=[Optional(), Length(max=100)])
    tier = SelectField(_l("Tier"), choices=[SelectChoice("ordinary", _l("Ordinary")),
                                            SelectChoice("vip", _l("VIP / key account"))])
    phones = TextAreaField(_l("Phones (one per line)"), validators=[Optional(), Length(max=400)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    version = HiddenField()
