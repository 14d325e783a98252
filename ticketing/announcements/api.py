"""API: announcements (公告): drafts, edits, scheduling, publishing, cancelling, withdrawing,
archiving; the list by state and words."""
from flask import jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ticketing.announcements import operations as ops
from ticketing.announcements.models import Announcement
from ticketing.announcements.schemas import (AnnouncementCreateSchema, AnnouncementQuerySchema,
                                             AnnouncementSchema, AnnouncementUpdateSchema,
                                             ScheduleSchema, AnnouncementVersionSchema)
from ticketing.apiutil import ApiBlueprint
from ticketing.auth.permissions import permission_required
from ticketing.errors import ApiError
from ticketing.extensions import db
from ticketing.unit import unit_of_work

blp = ApiBlueprint("announcements_api", __name__, url_prefix="/api/v1",
                   description="Announcements (公告)")




def _announcement_or_404(announcement_id: int, lock: bool = False) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id,
                                  with_for_update={"of": Announcement} if lock else None)
    if announcement is None or not ops.can_read(current_user, announcement):
        raise ApiError(404, "not_found", _("No such announcement."))
    return announcement


@blp.route("/announcements", methods=["GET"])
@blp.arguments(AnnouncementQuerySchema, location="query")
@blp.response(200, AnnouncementSchema(many=True))
@blp.errors(400, 401, 403)
@permission_required("announcements.view")
def list_announcements(args):
    """Announcements, newest first, by state (draft, scheduled, current, cancelled, revoked,
    archived) and words. Without announcements.manage: those published to your department."""
    return ops.search(current_user, args.get("state"), args.get("q"), args["limit"])


@blp.route("/announcements", methods=["POST"])
@blp.arguments(AnnouncementCreateSchema)
@blp.response(201, AnnouncementSchema)
@blp.errors(400, 401, 403)
@permission_required("announcements.manage")
def create_announcement(data):
    """A draft announcement."""
    with unit_of_work():
        announcement = ops.create_announcement(current_user, data)
        body = jsonify(AnnouncementSchema().dump(announcement))
        location = url_for("announcements_api.get_announcement",
                           announcement_id=announcement.id)
    return body, 201, {"Location": location}


@blp.route("/announcements/<int:announcement_id>", methods=["GET"])
@blp.response(200, AnnouncementSchema)
@blp.errors(401, 403, 404)
@permission_required("announcements.view")
def get_announcement(announcement_id):
    return _announcement_or_404(announcement_id)


@blp.route("/announcements/<int:announcement_id>", methods=["PATCH"])
@blp.arguments(AnnouncementUpdateSchema)
@blp.response(200, AnnouncementSchema)
@blp.errors(400, 401, 403, 404, 409)
@permission_required("announcements.manage")
def update_announcement(data, announcement_id):
    """Edit a draft or scheduled announcement with the version you read (409 once
    published, cancelled, or stale)."""
    announcement = _announcement_or_404(announcement_id, lock=True)
    version = data.pop("version")
    with unit_of_work():
        ops.update_announcement(current_user, announcement, data, expected_version=version)
    return announcement


@blp.route("/announcements/<int:announcement_id>/schedule", methods=["POST"])
@blp.arguments(ScheduleSchema)
@blp.response(200, AnnouncementSchema)
@blp.errors(400, 401, 403, 404, 409)
@permission_required("announcements.manage")
def schedule_announcement(data, announcement_id):
    """Publish at `publish_at` (in the future; a scheduled one is moved): the sweep
    publishes it then, once. 409 once published or cancelled."""
    announcement = _announcement_or_404(announcement_id, lock=True)
    with unit_of_work():
        ops.schedule(current_user, announcement, data["publish_at"], data.get("version"))
    return announcement


def _action(action: str, data: dict, announcement_id: int):
    announcement = _announcement_or_404(announcement_id, lock=True)
    with unit_of_work():
        ops.OPERATIONS[action](current_user, announcement, expected_version=data.get("version"))
    return announcement


# The four state actions share their shape: one endpoint each, made here from its docstring.
_ACTION_DOCS = {
    "publish": "Publish a draft or a scheduled announcement now (409 if cancelled or "
               "published).",
    "cancel": "Call off a draft or a scheduled announcement before its time.",
    "withdraw": "Revoke a current announcement: it leaves the home pages and stays "
                "searchable.",
    "archive": "Move a current announcement to the archive.",
}


def _register_action(action: str, doc: str) -> None:
    def view(data, announcement_id):
        return _action(action, data, announcement_id)

    view.__name__ = f"{action}_announcement"
    view.__doc__ = doc
    view = permission_required("announcements.manage")(view)
    view = blp.errors(400, 401, 403, 404, 409)(view)
    view = blp.response(200, AnnouncementSchema)(view)
    view = blp.arguments(AnnouncementVersionSchema)(view)
    blp.route(f"/announcements/<int:announcement_id>/{action}", methods=["POST"])(view)


for _name, _doc in _ACTION_DOCS.items():
    _register_action(_name, _doc)
