"""API: callback tasks, their attempts (the survey), and the callback settings."""
from functools import partial

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ticketing.apiutil import ApiBlueprint
from ticketing.auth.permissions import permission_required
from ticketing.callbacks import operations as ops, queries
from ticketing.callbacks.models import Callback
from ticketing.callbacks.schemas import (AttemptCreateSchema, AttemptResultSchema,
                                         CallbackConflictSchema, CallbackDetailSchema,
                                         CallbackPageSchema, CallbackQuerySchema,
                                         SettingsSchema)
from ticketing.errors import ApiError, Conflict
from ticketing.extensions import db
from ticketing.unit import unit_of_work

blp = ApiBlueprint("callbacks_api", __name__, url_prefix="/api/v1",
                   description="Callback surveys (回访)")


# 409s name what they conflict on.
_errors = partial(blp.errors, conflict_schema=CallbackConflictSchema)


def _callback_or_404(callback_id: int) -> Callback:
    callback = db.session.get(Callback, callback_id)
    if callback is None:
        raise ApiError(404, "not_found", _("No such callback."))
    return callback


@blp.route("/callbacks", methods=["GET"])
@blp.arguments(CallbackQuerySchema, location="query")
@blp.response(200, CallbackPageSchema)
@_errors(400, 401, 403)
@permission_required("callbacks.view")
def list_callbacks(args):
    """Callbacks, soonest due first; pass next_cursor back as cursor for the next page."""
    rows, next_cursor = queries.callback_page(**args)
    return {"items": rows, "next_cursor": next_cursor}


@blp.route("/callbacks/<int:callback_id>", methods=["GET"])
@blp.response(200, CallbackDetailSchema)
@_errors(401, 403, 404)
@permission_required("callbacks.view")
def get_callback(callback_id):
    """One callback with every attempt."""
    return _callback_or_404(callback_id)


@blp.route("/callbacks/<int:callback_id>/attempts", methods=["POST"])
@blp.arguments(AttemptCreateSchema)
@blp.response(201, AttemptResultSchema)
@_errors(400, 401, 403, 404, 409)
@permission_required("callbacks.work")
def record_attempt(data, callback_id):
    """Record one attempt with the callback's version you read.

    Not reached: a retry is due after the configured delay, or after the last attempt the
    callback is unreachable. Reached: the survey (four scores 1-5 and a comment); a score
    below the threshold reopens the ticket with the survey linked in its history.
    409: no open callback (no_open_callback), retry not due yet (not_yet_due), taken by
    another agent (taken), changed since you read it (stale_version)."""
    callback = _callback_or_404(callback_id)
    try:
        with unit_of_work():
            attempt = ops.record_attempt(current_user, callback, data,
                                         expected_version=data["version"])
            body = jsonify(AttemptResultSchema().dump({"callback": callback,
                                                       "attempt": attempt}))
    except StaleDataError:
        raise Conflict("stale_version", _("Someone else changed this callback after you "
                                          "opened it; reload and try again.")) from None
    return body, 201


@blp.route("/callback-settings", methods=["GET"])
@blp.response(200, SettingsSchema)
@_errors(401, 403)
@permission_required("callbacks.settings")
def get_settings():
    """The callback settings (send `version` back with a change)."""
    return ops.current_settings()


@blp.route("/callback-settings", methods=["PUT"])
@blp.arguments(SettingsSchema)
@blp.response(200, SettingsSchema)
@_errors(400, 401, 403, 409)
@permission_required("callbacks.settings")
def put_settings(data):
    """Replace the callback settings; 409 if someone saved since the version you read."""
    try:
        with unit_of_work():
            row = ops.save_settings(data, data["version"])
            body = SettingsSchema().dump(row)
    except StaleDataError:
        raise Conflict("stale_version", _("Someone else changed the callback settings after "
                                          "you read them; reload and try again.")) from None
    return body
