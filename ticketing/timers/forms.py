from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, IntegerField, SelectChoice, SelectField,
                     StringField)
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)

from ticketing.tickets.labels import KIND_LABELS, PRIORITY_LABELS
from ticketing.timers.calendars import parse_hours
from ticketing.timers.labels import DAY_KIND_LABELS, TIER_LABELS, WEEKDAY_LABELS

ANY = SelectChoice("", _l("Any"))


def _choices(labels: dict, any_first: bool = True) -> list:
    return ([ANY] if any_first else []) + [SelectChoice(v, label) for v, label in labels.items()]


def _minutes(label, minimum=1, required=True):
    checks = [InputRequired() if required else Optional(), NumberRange(min=minimum,
                                                                       max=525600)]
    return IntegerField(label, validators=checks)


class PolicyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Ticket kind"), choices=_choices(KIND_LABELS))
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS))
    customer_tier = SelectField(_l("Customer tier"), choices=_choices(TIER_LABELS))
    response_minutes = _minutes(_l("Response within (business minutes)"))
    resolution_minutes = _minutes(_l("Resolution within (business minutes)"))
    complaint_limit_minutes = _minutes(_l("Complaint handling limit (business minutes)"),
                                       required=False)
    warn_before_minutes = _minutes(_l("Warn this many minutes before a deadline"), minimum=0)
    level2_after_minutes = _minutes(_l("Level 2 (department head) after the deadline, minutes"))
    level3_after_minutes = _minutes(_l("Level 3 (center management) after the deadline, "
                                       "minutes"))
    calendar_id = SelectField(_l("Business calendar"), coerce=int, choices=[])
    active = BooleanField(_l("Active"), default=True)

    def data_for_save(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "name", "kind", "priority", "customer_tier", "response_minutes",
            "resolution_minutes", "complaint_limit_minutes", "warn_before_minutes",
            "level2_after_minutes", "level3_after_minutes", "calendar_id", "active")}


class _HoursField(StringField):
    """One weekday's opening hours, "09:00-12:00, 13:00-18:00"; empty means closed."""

    def pre_validate(self, form):
        try:
            self.intervals = parse_hours(self.data or "")
        except (ValueError, TypeError):
            self.intervals = []
            raise ValidationError(_l("Write hours like 09:00-12:00, 13:00-18:00 (24:00 ends the "
                                "day); leave empty when closed."))


class CalendarForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai",
                           validators=[DataRequired(), Length(max=64)])
    always_open = BooleanField(_l("Open 24×7 (hours and holidays are ignored)"))
    china_holidays = BooleanField(_l("Closed on Chinese public holidays, open on their "
                                     "adjusted workdays"), default=True)
    day0 = _HoursField(WEEKDAY_LABELS[0], validators=[Length(max=120)])
    day1 = _HoursField(WEEKDAY_LABELS[1], validators=[Length(max=120)])
    day2 = _HoursField(WEEKDAY_LABELS[2], validators=[Length(max=120)])
    day3 = _HoursField(WEEKDAY_LABELS[3], validators=[Length(max=120)])
    day4 = _HoursField(WEEKDAY_LABELS[4], validators=[Length(max=120)])
    day5 = _HoursField(WEEKDAY_LABELS[5], validators=[Length(max=120)])
    day6 = _HoursField(WEEKDAY_LABELS[6], validators=[Length(max=120)])

    def day_fields(self):
        return [getattr(self, f"day{i}") for i in range(7)]

    def weekly_hours(self) -> dict:
        return {i: getattr(field, "intervals", []) for i, field in enumerate(self.day_fields())}


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    kind = SelectField(_l("Kind"), choices=_choices(DAY_KIND_LABELS, any_first=False))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
