"""Login, logout, preferences, and the admin pages for users and roles."""
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from ticketing.auth import operations as ops
from ticketing.auth.forms import (DepartmentForm, LoginForm, PreferencesForm, RoleForm,
                                  RolePermissionsForm, UserForm)
from ticketing.auth.models import DEPARTMENT_KINDS, Department, Role, User
from ticketing.auth.permissions import all_permissions, permission_required
from ticketing.extensions import db, limiter, remote_address_and_username
from ticketing.forms import show_every_error
from ticketing.unit import unit_of_work

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never bounce a fresh login to another host. Browsers read a
    # backslash as a slash and drop tabs and newlines ("/\t/evil" is "//evil"): refuse both.
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and target.isprintable():
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=remote_address_and_username, methods=["POST"],
               deduct_when=lambda response: bool(g.get("login_failed")))
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = ops.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        g.login_failed = True
        form.password.errors.append(_("Wrong username or password."))
    elif request.method == "POST":
        g.login_failed = True
    return render_template("auth/login.html", form=form), (200 if request.method == "GET"
                                                           or not g.get("login_failed") else 401)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
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
        return ops.create_user(form.username.data or "", form.password.data or "",
                               form.roles.data, form.department.data or None,
                               full_name=form.full_name.data or "", locale=form.locale.data)

    if form.validate_on_submit():
        with unit_of_work(form, ROLE_FIELD) as work:
            user = create()
            user.active = form.active.data
        if work.ok:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    else:
        show_every_error(form, create, ROLE_FIELD)
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
                        locale=form.locale.data, password=form.password.data or None)

    if form.validate_on_submit():
        with unit_of_work(form, ROLE_FIELD) as work:
            update()
        if work.ok:
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    else:
        show_every_error(form, update, ROLE_FIELD)
    return render_template("auth/user_form.html", form=form, user=user), (
        400 if form.errors else 200)


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
            ops.set_role_permissions(role, form.permissions.data)
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

    if form.validate_on_submit():
        with unit_of_work(form) as work:
            role = create()
        if work.ok:
            flash(_("Role %(role)s created.", role=role.label), "success")
            return redirect(url_for("auth.roles"))
    else:
        show_every_error(form, create)
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

    if form.validate_on_submit():
        with unit_of_work(form) as work:
            saved = save()
        if work.ok:
            flash(_("Department %(name)s saved.", name=saved.name), "success")
            return redirect(url_for("auth.departments"))
    else:
        show_every_error(form, save)
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
    return redirect(_safe_next(request.form.get("next")))
