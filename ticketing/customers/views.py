"""Pages: customer search, detail with history, create and edit."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ticketing.auth.permissions import permission_required
from ticketing.customers import operations as ops
from ticketing.customers.forms import CustomerForm
from ticketing.customers.models import Customer, CustomerChange
from ticketing.errors import Conflict
from ticketing.extensions import db
from ticketing.unit import unit_of_work
from ticketing.wiring import wiring

bp = Blueprint("customers", __name__, url_prefix="/customers")

# How the change history names the fields it lists.
FIELD_LABELS = {"account_no": _l("Account / user-card number"), "name": _l("Name"),
                "address": _l("Address"), "area": _l("Area"), "tier": _l("Tier"),
                "notes": _l("Notes"), "phones": _l("Phones")}


@bp.route("")
@permission_required("customers.view")
def search():
    q = (request.args.get("q") or "").strip()[:100]
    results, error = [], None
    if q:
        digits = ops.normalise_phone(q)
        if digits:
            results = ops.customers_by_phone(digits)
        if not results:
            results = ops.find_customers(account_no=q) or ops.find_customers(q=q, limit=100)
    return render_template("customers/search.html", q=q, results=results, error=error)


@bp.route("/<int:customer_id>")
@permission_required("customers.view")
def detail(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    changes = db.session.scalars(select(CustomerChange).where(
        CustomerChange.customer_id == customer.id).order_by(CustomerChange.id.desc())
        .limit(100)).all()
    sections = [s for s in (fn(customer) for fn in wiring().customer_sections) if s]
    return render_template("customers/detail.html", customer=customer, changes=changes,
                           sections=sections, field_labels=FIELD_LABELS)


def _form_data(form: CustomerForm) -> dict:
    return {"account_no": form.account_no.data, "name": form.name.data,
            "address": form.address.data or "", "area": form.area.data or "",
            "tier": form.tier.data, "notes": form.notes.data or "",
            "phones": form.phones.data or ""}


@bp.route("/new", methods=["GET", "POST"])
@permission_required("customers.edit")
def create():
    form = CustomerForm()
    if request.method == "GET" and request.args.get("phone"):
        form.phones.data = request.args["phone"][:30]
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            customer = ops.create_customer(current_user, _form_data(form))
        if work.ok:
            flash(_("Customer %(name)s created.", name=customer.name), "success")
            return redirect(url_for("customers.detail", customer_id=customer.id))
    return render_template("customers/form.html", form=form, customer=None), (
        400 if form.errors else 200)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@permission_required("customers.edit")
def edit(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    # Plain values, not obj=customer: the form holds phones as text and the version as a string.
    form = CustomerForm(data={"account_no": customer.account_no, "name": customer.name,
                              "address": customer.address, "area": customer.area,
                              "tier": customer.tier, "notes": customer.notes,
                              "phones": "\n".join(customer.phone_numbers),
                              "version": str(customer.version)})
    if form.validate_on_submit():
        version = int(form.version.data) if str(form.version.data or "").isdigit() else None
        try:
            with unit_of_work(form) as work:
                ops.update_customer(current_user, customer, _form_data(form),
                                    expected_version=version)
        except Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for("customers.edit", customer_id=customer_id))
        if work.ok:
            flash(_("Customer %(name)s saved.", name=customer.name), "success")
            return redirect(url_for("customers.detail", customer_id=customer.id))
    return render_template("customers/form.html", form=form, customer=customer), (
        400 if form.errors else 200)
