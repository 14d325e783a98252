"""Forms of the dispatch pages (CSRF on every one). Assigning and the team's actions post
to the ticket page's event route with the workflow's own event forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional


class TeamAreasForm(FlaskForm):
    areas = TextAreaField(_l("Areas served"), validators=[Optional(), Length(max=20000)],
                          description=_l("Separate areas with commas or new lines; a "
                                         "district covers its streets."))
