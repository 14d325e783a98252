"""Admin pages: the fault categories list and its form."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ticketing.auth.permissions import permission_required
from ticketing.extensions import db
from ticketing.faults import operations as ops
from ticketing.faults.models import FaultCategory
from ticketing.unit import save_form

bp = Blueprint("faults", __name__)


def fault_choices() -> list[tuple[str, str]]:
    """(code, name in the reader's language) of the categories classify_fault may choose."""
    locale = str(get_locale() or "")
    return [(c.code, c.display_name(locale)) for c in ops.active_categories()]


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])
    sort_order = IntegerField(_l("Position in lists"), default=100,
                              validators=[Optional(), NumberRange(0, 10000)])
    mass_fault = BooleanField(_l("Mass fault (incidents use it)"))
    active = BooleanField(_l("Active"), default=True)


@bp.route("/admin/fault-categories")
@permission_required("faults.manage")
def categories():
    rows = db.session.scalars(select(FaultCategory).order_by(FaultCategory.sort_order,
                                                             FaultCategory.id)).all()
    return render_template("faults/categories.html", categories=rows)


def _form(category: FaultCategory | None):
    form = CategoryForm(obj=category)

    def save():
        return ops.save_category(category, code=form.code.data or "", name=form.name.data or "",
                                 name_en=form.name_en.data or "", active=form.active.data,
                                 mass_fault=form.mass_fault.data,
                                 sort_order=form.sort_order.data)

    saved = save_form(form, save)
    if saved:
        flash(_("Fault category %(name)s saved.", name=saved.name), "success")
        return redirect(url_for("faults.categories"))
    return render_template("faults/category_form.html", form=form, category=category), (
        400 if form.errors else 200)


@bp.route("/admin/fault-categories/new", methods=["GET", "POST"])
@permission_required("faults.manage")
def category_new():
    return _form(None)


@bp.route("/admin/fault-categories/<int:category_id>", methods=["GET", "POST"])
@permission_required("faults.manage")
def category_edit(category_id: int):
    return _form(db.get_or_404(FaultCategory, category_id))
