"""Texts the callbacks area shows in other areas' pages, rendered in the reader's language."""
from flask_babel import gettext as _


def survey_reopened(scores: dict) -> str:
    """Before the note of a reopening by an unsatisfied survey (wiring.history_prefixes)."""
    return _("Callback survey unsatisfied (overall %(overall)s, attitude %(attitude)s, "
             "standard %(standard)s, effect %(effect)s)",
             **{name: scores.get(name, "—") for name in ("overall", "attitude", "standard",
                                                         "effect")})
