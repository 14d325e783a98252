from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, PasswordField, SelectChoice, SelectField, SelectMultipleField,
                     StringField)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class CheckboxesField(SelectMultipleField):
    """A multiple choice as a list of checkboxes: no Ctrl-click."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# Each language is named in its own tongue, so nobody has to read a foreign one to switch.
LANGUAGE_CHOICES = [SelectChoice("zh", "中文"), SelectChoice("en", "English")]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])
    department = SelectField(_l("Department"), choices=[], validate_choice=False)
    roles = CheckboxesField(_l("Roles"), choices=[], validate_choice=False)
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    active = BooleanField(_l("Active"), default=True)


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class RolePermissionsForm(FlaskForm):
    permissions = SelectMultipleField(_l("Permissions"), choices=[], validate_choice=False)


class RoleForm(FlaskForm):
    name = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=100)])
    label_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])
    permissions = SelectMultipleField(_l("Permissions"), choices=[], validate_choice=False)


class DepartmentForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    active = BooleanField(_l("Active"), default=True)
