"""The analysis page: a period, the recurring consults and repair quality per team."""
from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _

from ticketing.analysis import queries
from ticketing.auth.permissions import permission_required
from ticketing.clock import utcnow
from ticketing.errors import InvalidInput

bp = Blueprint("analysis", __name__)


def _day(name: str, errors: list):
    """A YYYY-MM-DD of the form as the start of that day in the reader's time zone."""
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        errors.append(_("Not a date (YYYY-MM-DD): %(value)s", value=value[:20]))
        return None
    return datetime.combine(day, time(), tzinfo=get_timezone())


@bp.route("/analysis")
@permission_required("analysis.view")
def index():
    errors: list[str] = []
    start, end = _day("date_from", errors), _day("date_to", errors)
    if end is not None:
        end += timedelta(days=1)  # the "to" day is included
    consults = quality = None
    if not errors:
        try:
            consults = queries.consult_figures(start, end)
            quality = queries.repair_quality(start, end)
        except InvalidInput as refused:
            errors += [m for ms in refused.extra["fields"].values() for m in ms]
    return render_template("analysis/index.html", consults=consults, quality=quality,
                           errors=errors, args=request.args, now=utcnow()), (
        400 if errors else 200)
