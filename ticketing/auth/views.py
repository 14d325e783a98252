"""Login, logout, one's sessions and tokens, preferences, and the admin pages for users,
roles and the audit log."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from ticketing.auth import operations as ops
from ticketing.auth.forms import (ConfirmForm, DepartmentForm, LoginForm, PreferencesForm,
                                  RoleForm, RolePermissionsForm, UserForm)
from ticketing.auth.models import (DEPARTMENT_KINDS, ApiToken, Department, LoginSession, Role,
                                   User)
from ticketing.auth.permissions import (all_permissions, can_manage_tokens_of, forbidden,
                                        permission_required)
from ticketing.extensions import db
from ticketing.security import safe_next
from ticketing.unit import save_form, unit_of_work

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if request.method == "GET":
        return render_template("auth/login.html", form=form)
    if form.validate_on_submit():
        try:
            with unit_of_work():  # a failed attempt is recorded, and counts
                user = ops.log_in(form.username.data, form.password.data, request.remote_addr)
        except ops.LoginThrottled as exc:
            form.password.errors.append(exc.message)
            return render_template("auth/login.html", form=form), 429, exc.headers
        if user is not None:
            with unit_of_work():
                ops.start_login_session(user, request.user_agent.string)
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
        form.password.errors.append(_("Wrong username or password."))
    return render_template("auth/login.html", form=form), 401


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    with unit_of_work():
        ops.end_login_session(current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


# --- one's own sessions and tokens ------------------------------------------------------

def _tokens_of(user_id: int) -> list[ApiToken]:
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id,
                                                     ApiToken.revoked_at.is_(None))
                              .order_by(ApiToken.id.desc())).all()
    return [t for t in rows if t.is_valid()]


@bp.route("/account/security")
@permission_required()
def security():
    sessions = db.session.scalars(select(LoginSession).where(
        LoginSession.user_id == current_user.id, LoginSession.ended_at.is_(None))
        .order_by(LoginSession.id.desc())).all()
    return render_template("auth/security.html", tokens=_tokens_of(current_user.id),
                           sessions=sessions, confirm=ConfirmForm(),
                           this_session=LoginSession.hash(current_user.login_key or ""))


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@permission_required()
def revoke_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if not can_manage_tokens_of(current_user, token.user_id):
        raise forbidden()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        ops.revoke_token(token, current_user)
    flash(_("Token %(name)s revoked.", name=token.name or token.id), "success")
    return redirect(safe_next(request.form.get("next"), url_for("auth.security")))


@bp.route("/account/logout-everywhere", methods=["POST"])
@permission_required()
def logout_everywhere():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        ops.end_all_sessions(current_user, current_user, "logout_everywhere")
    logout_user()
    flash(_("Every session and API token of your account has ended."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/preferences", methods=["GET", "POST"])
@permission_required()
def preferences():
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        with unit_of_work():
            ops.update_user(current_user, locale=form.locale.data)
        flash(_("Preferences saved."), "success")
        return redirect(url_for("auth.preferences"))
    return render_template("auth/preferences.html", form=form)


# --- admin: users -----------------------------------------------------------------------

def _fill_user_choices(form: UserForm) -> None:
    locale = str(get_locale() or "")
    depts = db.session.scalars(select(Department).order_by(Department.id)).all()
    form.department.choices = [SelectChoice("", "—")] + [
        SelectChoice(d.code, d.display_name(locale)) for d in depts]
    roles = db.session.scalars(select(Role).order_by(Role.id)).all()
    form.roles.choices = [SelectChoice(r.name, r.display_name(locale) or r.name) for r in roles]


@bp.route("/admin/users")
@permission_required("users.manage")
def users():
    rows = db.session.scalars(select(User).options(selectinload(User.roles))
                              .order_by(User.username)).all()
    return render_template("auth/users.html", users=rows)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@permission_required("users.manage")
def user_new():
    form = UserForm()
    _fill_user_choices(form)
    def create():
        user = ops.create_user(form.username.data or "", form.password.data or "",
                               form.roles.data, form.department.data or None,
                               full_name=form.full_name.data or "", locale=form.locale.data,
                               actor=current_user)
        user.active = form.active.data
        return user

    user = save_form(form, create, ROLE_FIELD)
    if user:
        flash(_("User %(name)s created.", name=user.username), "success")
        return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None), (
        400 if form.errors else 200)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("users.manage")
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    # Not obj=user: its department and roles are rows, the form's fields hold codes.
    form = UserForm(data={"username": user.username, "full_name": user.full_name,
                          "department": user.department.code if user.department else "",
                          "roles": [r.name for r in user.roles], "locale": user.locale,
                          "active": user.active})
    _fill_user_choices(form)
    form.username.data = user.username  # usernames are permanent
    def update():
        ops.update_user(user, full_name=form.full_name.data or "",
                        department_code=form.department.data or "",
                        role_names=form.roles.data, active=form.active.data,
                        locale=form.locale.data, password=form.password.data or None,
                        actor=current_user)

    if save_form(form, update, ROLE_FIELD):
        flash(_("User %(name)s saved.", name=user.username), "success")
        return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user,
                           tokens=_tokens_of(user.id), confirm=ConfirmForm()), (
        400 if form.errors else 200)


@bp.route("/admin/users/<int:user_id>/end-sessions", methods=["POST"])
@permission_required("users.manage")
def user_end_sessions(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        ended = ops.end_all_sessions(user, current_user, "ended_by_admin")
    flash(_("%(name)s: %(sessions)d session(s) ended, %(tokens)d token(s) revoked.",
            name=user.username, sessions=ended["sessions"], tokens=ended["tokens"]), "success")
    return redirect(url_for("auth.user_edit", user_id=user.id))


@bp.route("/admin/audit")
@permission_required("users.manage")
def audit():
    before_id = request.args.get("before_id", type=int)
    rows = ops.audit_entries(limit=100, before_id=before_id if before_id and
                             before_id < 2 ** 31 else None)
    return render_template("auth/audit.html", entries=rows, action_labels=AUDIT_ACTION_LABELS)


AUDIT_ACTION_LABELS = {
    "user.created": _l("User created"),
    "user.updated": _l("User changed"),
    "role.permissions_changed": _l("Role permissions changed"),
    "token.revoked": _l("API token revoked"),
    "sessions.ended": _l("Sessions and tokens ended"),
}


# Operations name the field "role"; the form's field is "roles".
ROLE_FIELD = {"role": "roles"}


# --- admin: roles -----------------------------------------------------------------------

@bp.route("/admin/roles")
@permission_required("roles.manage")
def roles():
    rows = db.session.scalars(select(Role).order_by(Role.id)).all()
    return render_template("auth/roles.html", roles=rows, permissions=all_permissions())


@bp.route("/admin/roles/<int:role_id>", methods=["GET", "POST"])
@permission_required("roles.manage")
def role_edit(role_id: int):
    role = db.get_or_404(Role, role_id)
    catalogue = all_permissions()
    form = RolePermissionsForm()
    form.permissions.choices = [SelectChoice(code, str(label)) for code, label in catalogue.items()]
    if request.method == "GET":
        form.permissions.data = sorted(role.permissions)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            ops.set_role_permissions(role, form.permissions.data, actor=current_user)
        if work.ok:
            flash(_("Permissions of %(role)s saved.", role=role.label or role.name), "success")
            return redirect(url_for("auth.roles"))
    return render_template("auth/role_form.html", form=form, role=role, permissions=catalogue), (
        400 if form.errors else 200)


@bp.route("/admin/roles/new", methods=["GET", "POST"])
@permission_required("roles.manage")
def role_new():
    catalogue = all_permissions()
    form = RoleForm()
    form.permissions.choices = [SelectChoice(code, str(label)) for code, label in catalogue.items()]

    def create():
        return ops.create_role(form.name.data or "", form.label.data or "",
                               form.label_en.data or "", form.permissions.data or [])

    role = save_form(form, create)
    if role:
        flash(_("Role %(role)s created.", role=role.label), "success")
        return redirect(url_for("auth.roles"))
    return render_template("auth/role_new.html", form=form, permissions=catalogue), (
        400 if form.errors else 200)


# --- admin: departments -----------------------------------------------------------------

def department_kind_labels() -> dict:
    from ticketing.auth.labels import DEPARTMENT_KIND_LABELS
    return {kind: DEPARTMENT_KIND_LABELS.get(kind, kind) for kind in DEPARTMENT_KINDS}


@bp.route("/admin/departments")
@permission_required("departments.manage")
def departments():
    rows = db.session.scalars(select(Department).order_by(Department.id)).all()
    counts = dict(db.session.execute(select(User.department_id, db.func.count(User.id))
                                     .where(User.active.is_(True))
                                     .group_by(User.department_id)).all())
    return render_template("auth/departments.html", departments=rows, members=counts,
                           kinds=department_kind_labels())


def _department_form(department: Department | None):
    form = DepartmentForm(obj=department)
    form.kind.choices = [SelectChoice(k, str(label))
                         for k, label in department_kind_labels().items()]
    if request.method == "GET" and department is None:
        form.kind.data = "repair_team"

    def save():
        return ops.save_department(department, code=form.code.data or "",
                                   name=form.name.data or "", name_en=form.name_en.data or "",
                                   kind=form.kind.data, active=form.active.data)

    saved = save_form(form, save)
    if saved:
        flash(_("Department %(name)s saved.", name=saved.name), "success")
        return redirect(url_for("auth.departments"))
    return render_template("auth/department_form.html", form=form, department=department), (
        400 if form.errors else 200)


@bp.route("/admin/departments/new", methods=["GET", "POST"])
@permission_required("departments.manage")
def department_new():
    return _department_form(None)


@bp.route("/admin/departments/<int:department_id>", methods=["GET", "POST"])
@permission_required("departments.manage")
def department_edit(department_id: int):
    return _department_form(db.get_or_404(Department, department_id))


# --- the language switch in the header ---------------------------------------------------

@bp.route("/preferences/language", methods=["POST"])
@permission_required()
def set_language():
    form = PreferencesForm()
    if form.validate_on_submit():
        with unit_of_work(form):
            ops.update_user(current_user, locale=form.locale.data)
    return redirect(safe_next(request.form.get("next"), url_for("main.home")))
