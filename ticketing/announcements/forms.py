"""Forms of the announcement pages (CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ticketing.announcements.operations import BODY_LIMIT, TITLE_LIMIT
from ticketing.auth.forms import CheckboxesField


class AnnouncementForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_LIMIT)])
    body = TextAreaField(_l("Content"), validators=[DataRequired(), Length(max=BODY_LIMIT)])
    departments = CheckboxesField(_l("Shown to"), choices=[], validate_choice=False,
                                  description=_l("None ticked: every department."))
    version = HiddenField()

    def announcement_data(self) -> dict:
        ids = [int(v) for v in self.departments.data or [] if str(v).isdigit()
               and len(str(v)) < 10]
        return {"title": self.title.data or "", "body": self.body.data or "",
                "department_ids": ids}


class ScheduleForm(FlaskForm):
    publish_at = DateTimeLocalField(_l("Publish at"), format="%Y-%m-%dT%H:%M",
                                    validators=[DataRequired()])
    version = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token and the version read."""
    version = HiddenField()
