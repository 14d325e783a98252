from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, IntegerField, RadioField, SelectChoice,
                     SelectField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange

from ticketing.audits.operations import MAX_MINUTES, REASON_LIMIT


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class DecisionForm(FlaskForm):
    version = HiddenField()
    decision = RadioField(_l("Decision"), validators=[InputRequired()],
                          choices=[SelectChoice("pass", _l("Pass")),
                                   SelectChoice("reject", _l("Reject (re-dispatch)"))])
    reason = TextAreaField(_l("Reason (required to reject: the department reads it)"),
                           validators=[Length(max=REASON_LIMIT)])


class RulesForm(FlaskForm):
    version = HiddenField()
    complaints = BooleanField(_l("Audit every complaint"))
    unsatisfied_callbacks = BooleanField(_l("Audit every ticket with an unsatisfied callback"))
    sla_breaches = BooleanField(_l("Audit every ticket that missed an SLA deadline"))
    sample_percent = IntegerField(_l("Random share of the rest (per cent)"),
                                  validators=[InputRequired(), NumberRange(min=0, max=100)])
    due_minutes = IntegerField(_l("An audit is due within (business minutes)"),
                               validators=[InputRequired(),
                                           NumberRange(min=1, max=MAX_MINUTES)])
    calendar_id = SelectField(_l("Business calendar"), coerce=int)

    def rules_data(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "complaints", "unsatisfied_callbacks", "sla_breaches", "sample_percent",
            "due_minutes", "calendar_id")}


class LiabilityForm(FlaskForm):
    version = HiddenField()
    justified = RadioField(_l("Was the complaint justified?"), validators=[InputRequired()],
                           choices=[SelectChoice("yes", _l("Justified")),
                                    SelectChoice("no", _l("Not justified"))])
    department_id = SelectField(_l("Responsible department"), coerce=_optional_int,
                                validate_choice=False)
    person_id = SelectField(_l("Responsible person"), coerce=_optional_int,
                            validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Length(max=REASON_LIMIT)])

    def liability_data(self) -> dict:
        return {"justified": self.justified.data == "yes",
                "department_id": self.department_id.data, "person_id": self.person_id.data,
                "note": self.note.data or ""}


class AppealForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(_l("Reason for the appeal"),
                           validators=[InputRequired(), Length(max=REASON_LIMIT)])


class RulingForm(FlaskForm):
    version = HiddenField()
    upheld = RadioField(_l("Ruling on the appeal"), validators=[InputRequired()],
                        choices=[SelectChoice("yes", _l("Refuse the appeal: the ruling stands")),
                                 SelectChoice("no", _l("Grant the appeal: overturn the ruling"))])
    note = TextAreaField(_l("Note"), validators=[Length(max=REASON_LIMIT)])


def version_of(form) -> int | None:
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None
