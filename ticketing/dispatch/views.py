"""Pages: the dispatcher's board, a field team's queue, the field teams (admin)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ticketing.auth.models import Department
from ticketing.auth.permissions import permission_required
from ticketing.dispatch import operations as ops, queries
from ticketing.dispatch.forms import TeamAreasForm
from ticketing.dispatch.permissions import can_assign
from ticketing.extensions import db
from ticketing.tickets.labels import PRIORITY_LABELS, state_label
from ticketing.templating import short_datetime_formatter
from ticketing.tickets.permissions import allowed_events_for
from ticketing.timers.deadlines import deadline_texts
from ticketing.unit import unit_of_work
from workflows.machine import ticket_workflow

bp = Blueprint("dispatch", __name__)

QUEUE_EVENTS = ("take", "accept", "report_repaired")
PANEL_SIZE = 10


@bp.route("/dispatch")
@permission_required("dispatch.board")
def board():
    data = queries.board(request.args.get("limit", type=int) or queries.BOARD_LIMIT)
    may_assign = can_assign(current_user)
    # The states the workflow lets a work order be (re)assigned from.
    assignable = {s for s in queries.WORK_ORDER_STATES
                  if "dispatch" in ticket_workflow.allowed_events(s)}
    # Labels looked up once per page (a full board has hundreds of rows).
    labels = {"priority": {k: str(v) for k, v in PRIORITY_LABELS.items()},
              "state": {s: str(state_label(s)) for s in queries.WORK_ORDER_STATES}}
    # Deadline texts and dates formatted with one lookup of the language for all rows.
    return render_template("dispatch/board.html", board=data, may_assign=may_assign,
                           assignable=assignable, labels=labels,
                           deadline_texts=deadline_texts(), short=short_datetime_formatter(),
                           # Filled in per group (no variables: gettext returns the template).
                           without_a_team=_("%(n)d without a team"),
                           options=_AssignOptions(data.teams) if may_assign else None)


class _AssignOptions:
    """The team and technician <option>s of every row's assign form, rendered once per page
    and marked per row: a full board has hundreds of rows, and rendering the same options
    in each of them was most of the page's time."""

    def __init__(self, teams):
        self._teams = Markup("").join(
            Markup('<option value="{0}">{1}</option>').format(t.id, t.name) for t in teams)
        self._members = Markup("").join(
            Markup('<optgroup label="{0}">{1}</optgroup>').format(t.name, Markup("").join(
                Markup('<option value="{0}" data-department="{1}">{2}</option>').format(
                    m.id, t.id, m.display_name) for m in t.members))
            for t in teams)

    @staticmethod
    def _selecting(options: Markup, value) -> Markup:
        if value is None:
            return options
        # str.replace: Markup.replace would escape its arguments, slowly, for nothing.
        return Markup(str.replace(options, f'<option value="{int(value)}"',
                                  f'<option value="{int(value)}" selected', 1))

    def teams(self, chosen) -> Markup:
        return self._selecting(self._teams, chosen)

    def members(self, chosen) -> Markup:
        return self._selecting(self._members, chosen)


def _queue_rows(team):
    """The team's work orders, each with the events of QUEUE_EVENTS the user may fire now
    (posted to the ticket page's event route, like the ticket page's own buttons)."""
    return [{"ticket": ticket, "deadline": deadline,
             "events": [e for e in allowed_events_for(current_user, ticket)
                        if e in QUEUE_EVENTS]}
            for ticket, deadline in queries.team_queue(team)]


@bp.route("/dispatch/queue")
@permission_required("dispatch.queue")
def queue():
    team = queries.team_of(current_user)
    return render_template("dispatch/queue.html", team=team,
                           rows=_queue_rows(team) if team is not None else [])


@bp.route("/dispatch/teams")
@permission_required("dispatch.teams")
def teams():
    return render_template("dispatch/teams.html", teams=queries.teams_with_members())


def _team(team_id: int) -> Department:
    team = db.session.get(Department, team_id)
    if team is None or not ops.is_field_team(team):
        abort(404)
    return team


@bp.route("/dispatch/teams/<int:team_id>", methods=["GET", "POST"])
@permission_required("dispatch.teams")
def team_edit(team_id):
    team = _team(team_id)
    form = TeamAreasForm()
    if request.method == "GET":
        form.areas.data = "\n".join(ops.areas_of([team.id])[team.id])
    elif form.validate_on_submit():
        with unit_of_work(form) as work:
            ops.set_team_areas(team, ops.parse_areas(form.areas.data))
        if work.ok:
            flash(_("Areas of %(team)s saved.", team=team.name), "success")
            return redirect(url_for("dispatch.teams"))
    members = ops.members_of([team.id])[team.id]
    status = 400 if request.method == "POST" else 200
    return render_template("dispatch/team_form.html", team=team, form=form,
                           members=members), status


def team_queue_panel(user):
    """Home page: the field team's work orders, for its members."""
    if not user.can("dispatch.queue"):
        return None
    team = queries.team_of(user)
    if team is None:
        return None
    rows = queries.team_queue(team)
    return {"title": _l("My team's work orders"), "template": "dispatch/_panel.html",
            "context": {"rows": rows[:PANEL_SIZE], "total": len(rows)}}
