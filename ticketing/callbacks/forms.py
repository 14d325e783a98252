from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (HiddenField, IntegerField, RadioField, SelectChoice, SelectField,
                     SelectMultipleField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ticketing.tickets.labels import KIND_LABELS

SCORES = [SelectChoice("", "—")] + [SelectChoice(str(n), str(n)) for n in range(1, 6)]


def _score(label):
    return SelectField(label, choices=SCORES, validators=[Optional()])


class AttemptForm(FlaskForm):
    version = HiddenField()
    reached = RadioField(_l("Customer reached?"), validators=[InputRequired()],
                         choices=[SelectChoice("yes", _l("Reached")),
                                  SelectChoice("no", _l("Not reached"))])
    note = TextAreaField(_l("Note"), validators=[Length(max=4000)])
    overall = _score(_l("Overall satisfaction"))
    attitude = _score(_l("Service attitude (服务态度)"))
    standard = _score(_l("Service standard (服务规范)"))
    effect = _score(_l("Service effect (服务效果)"))
    comment = TextAreaField(_l("Customer's comment"), validators=[Length(max=4000)])

    def attempt_data(self) -> dict:
        data = {"reached": self.reached.data == "yes", "note": self.note.data or "",
                "comment": self.comment.data or ""}
        for name in ("overall", "attitude", "standard", "effect"):
            value = getattr(self, name).data
            data[name] = int(value) if value else None
        return data


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _minutes(label):
    return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=43200)])


class SettingsForm(FlaskForm):
    version = HiddenField()
    kinds = MultiCheckboxField(_l("Ticket kinds called back when closed"),
                               choices=[SelectChoice(k, label) for k, label
                                        in KIND_LABELS.items()])
    due_consult = _minutes(_l("Consult: due within (business minutes)"))
    due_repair = _minutes(_l("Repair: due within (business minutes)"))
    due_complaint = _minutes(_l("Complaint: due within (business minutes)"))
    retry_minutes = IntegerField(_l("Retry after (business minutes)"),
                                 validators=[InputRequired(), NumberRange(min=1, max=43200)])
    max_attempts = IntegerField(_l("Attempts before unreachable"),
                                validators=[InputRequired(), NumberRange(min=1, max=20)])
    threshold = IntegerField(_l("A score below this is unsatisfied"),
                             validators=[InputRequired(), NumberRange(min=1, max=5)])
    calendar_id = SelectField(_l("Business calendar"), coerce=int)

    def settings_data(self) -> dict:
        due = {}
        for kind in ("consult", "repair", "complaint"):
            value = getattr(self, f"due_{kind}").data
            if value is not None:
                due[kind] = value
        return {"kinds": list(self.kinds.data or []), "due_minutes": due,
                "retry_minutes": self.retry_minutes.data, "max_attempts": self.max_attempts.data,
                "threshold": self.threshold.data, "calendar_id": self.calendar_id.data}
