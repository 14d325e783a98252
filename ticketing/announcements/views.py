"""Pages: announcements by state, one announcement with its actions, a new one; and what
other pages show: the home panel and the line under every page's header."""
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ticketing.announcements import operations as ops
from ticketing.announcements.forms import ActionForm, AnnouncementForm, ScheduleForm
from ticketing.announcements.labels import ACTION_LABELS, STATE_LABELS
from ticketing.announcements.models import STATES, Announcement
from ticketing.auth.models import Department
from ticketing.auth.permissions import permission_required
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.unit import unit_of_work

bp = Blueprint("announcements", __name__)
BUTTON_ACTIONS = ("publish", "cancel", "withdraw", "archive")


@bp.app_context_processor
def _announcement_labels():
    return {"announcement_state_labels": STATE_LABELS,
            "announcement_action_labels": ACTION_LABELS}


def _locale() -> str:
    locale = get_locale()
    return str(locale) if locale else "zh"


def _form(announcement: Announcement | None = None, blank: bool = False) -> AnnouncementForm:
    """The announcement form: read from the request, or (`blank`) filled from the record."""
    form = AnnouncementForm(formdata=None) if blank else AnnouncementForm()
    locale = _locale()
    form.departments.choices = [SelectChoice(str(d.id), d.display_name(locale))
                                for d in db.session.scalars(select(Department).where(
                                    Department.active.is_(True)).order_by(Department.id))]
    if announcement is not None and blank:
        form.title.data = announcement.title
        form.body.data = announcement.body
        form.departments.data = [str(i) for i in announcement.department_ids or []]
        form.version.data = str(announcement.version)
    return form


def _zone() -> ZoneInfo:
    """The reader's time zone (a babel/pytz zone: .replace() on it would give LMT)."""
    return ZoneInfo(str(get_timezone()))


def _version(form) -> int | None:
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _announcement(announcement_id: int, lock: bool = False) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id,
                                  with_for_update={"of": Announcement} if lock else None)
    if announcement is None or not ops.can_read(current_user, announcement):
        abort(404)
    return announcement


@bp.route("/announcements")
@permission_required("announcements.view")
def index():
    state = request.args.get("state") or ""
    if state not in STATES:
        state = ""
    text = (request.args.get("q") or "").strip()[:100]
    rows = ops.search(current_user, state or None, text or None, limit=200)
    manager = current_user.can("announcements.manage")
    states = STATES if manager else ops.PUBLISHED_STATES
    return render_template("announcements/index.html", rows=rows, state=state, q=text,
                           states=states, manager=manager,
                           names=ops.department_names(rows, _locale()))


@bp.route("/announcements/new", methods=["GET", "POST"])
@permission_required("announcements.manage")
def new():
    form = _form()
    if form.validate_on_submit():
        with unit_of_work(form, aliases={"department_ids": "departments"}) as work:
            announcement = ops.create_announcement(current_user, form.announcement_data())
        if work.ok:
            flash(_("Draft saved."), "success")
            return redirect(url_for("announcements.detail", announcement_id=announcement.id))
    status = 400 if request.method == "POST" else 200
    return render_template("announcements/form.html", form=form, announcement=None), status


def _render_detail(announcement: Announcement, edit_form=None, schedule_form=None,
                   status: int = 200):
    manager = current_user.can("announcements.manage")
    editable = manager and announcement.state in ops.EDITABLE_STATES
    schedulable = manager and announcement.state in ops.ACTIONS["schedule"]["from"]
    if schedulable and schedule_form is None:
        schedule_form = ScheduleForm(formdata=None, data={
            "version": str(announcement.version),
            "publish_at": announcement.publish_at.astimezone(_zone()).replace(
                tzinfo=None) if announcement.publish_at else None})
    actions = [a for a in BUTTON_ACTIONS if manager
               and announcement.state in ops.ACTIONS[a]["from"]]
    return render_template(
        "announcements/detail.html", announcement=announcement,
        names=ops.department_names([announcement], _locale()),
        edit_form=edit_form or (_form(announcement, blank=True) if editable else None),
        schedule_form=schedule_form if schedulable else None, actions=actions,
        action_form=ActionForm(formdata=None, data={"version": str(announcement.version)})
    ), status


@bp.route("/announcements/<int:announcement_id>")
@permission_required("announcements.view")
def detail(announcement_id):
    return _render_detail(_announcement(announcement_id))


def _refused(exc: ApiError) -> None:
    fields = (exc.extra or {}).get("fields") or {}
    for messages in fields.values():
        for message in messages:
            flash(message, "error")
    if not fields:
        flash(exc.message, "error")


def _submit(announcement_id: int, form, change, done: str, form_name: str, aliases=None):
    """A form that changes the announcement: on success flash `done` and show it; a refusal
    (wrong state, stale version) is a 409 with the reasons; bad input a 400 with the form
    (as `form_name` of the detail page) and its errors."""
    if form.validate_on_submit():
        try:
            with unit_of_work(form, aliases=aliases) as work:
                change()
            if work.ok:
                flash(done, "success")
                return redirect(url_for("announcements.detail",
                                        announcement_id=announcement_id))
        except ApiError as exc:
            _refused(exc)
            return _render_detail(_announcement(announcement_id), status=409)
    return _render_detail(_announcement(announcement_id), status=400, **{form_name: form})


@bp.route("/announcements/<int:announcement_id>/edit", methods=["POST"])
@permission_required("announcements.manage")
def edit(announcement_id):
    announcement = _announcement(announcement_id, lock=True)
    form = _form(announcement)
    return _submit(announcement_id, form, lambda: ops.update_announcement(
        current_user, announcement, form.announcement_data(), _version(form)),
        _("Announcement saved."), "edit_form", aliases={"department_ids": "departments"})


@bp.route("/announcements/<int:announcement_id>/schedule", methods=["POST"])
@permission_required("announcements.manage")
def schedule(announcement_id):
    announcement = _announcement(announcement_id, lock=True)
    form = ScheduleForm()
    return _submit(announcement_id, form, lambda: ops.schedule(
        current_user, announcement, form.publish_at.data.replace(tzinfo=_zone()),
        _version(form)), _("Announcement scheduled."), "schedule_form")


@bp.route("/announcements/<int:announcement_id>/actions/<action>", methods=["POST"])
@permission_required("announcements.manage")
def act(announcement_id, action):
    if action not in BUTTON_ACTIONS:
        abort(404)
    announcement = _announcement(announcement_id, lock=True)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                ops.OPERATIONS[action](current_user, announcement,
                                       expected_version=_version(form))
            flash(_("%(action)s: done.", action=ACTION_LABELS[action]), "success")
            return redirect(url_for("announcements.detail", announcement_id=announcement_id))
        except ApiError as exc:
            _refused(exc)
    return _render_detail(_announcement(announcement_id), status=409)


# -- what other pages show --------------------------------------------------------------

def announcements_panel(user):
    """Home page: the current announcements for the user's department, in full."""
    if not user.can("announcements.view"):
        return None
    rows = ops.current_for(user)
    if not rows:
        return None
    return {"title": _l("Announcements"), "template": "announcements/_panel.html",
            "order": 10, "context": {"announcements": rows,
                                     "names": ops.department_names(rows, _locale())}}


def header_notice(user):
    """Under every page's header: the newest current announcements' titles."""
    if not user.can("announcements.view"):
        return None
    rows = ops.current_for(user)
    if not rows:
        return None
    return {"template": "announcements/_header.html", "context": {"announcements": rows[:3],
                                                                  "count": len(rows)}}
