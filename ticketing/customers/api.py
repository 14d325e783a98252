"""API: customer records, their history and lookup by phone or account number."""
from flask_login import current_user
from sqlalchemy import select

from ticketing.apiutil import ApiBlueprint
from ticketing.auth.permissions import permission_required
from ticketing.customers import operations as ops
from ticketing.customers.models import Customer, CustomerChange
from ticketing.customers.schemas import (CustomerChangeSchema, CustomerInputSchema,
                                         CustomerPatchSchema, CustomerQuerySchema, CustomerSchema)
from ticketing.extensions import db
from ticketing.unit import unit_of_work

blp = ApiBlueprint("customers_api", __name__, url_prefix="/api/v1/customers",
                   description="Customer records (客户档案)")

# Each endpoint checks who is asking before it parses the input: an anonymous or
# unauthorised caller gets 401/403, never a list of the fields it got wrong.


@blp.route("", methods=["GET"])
@permission_required("customers.view")
@blp.arguments(CustomerQuerySchema, location="query")
@blp.response(200, CustomerSchema(many=True))
def list_customers(args):
    """Find customers by phone, account number or text; page with after_id."""
    return ops.find_customers(**args)


@blp.route("", methods=["POST"])
@permission_required("customers.edit")
@blp.arguments(CustomerInputSchema)
@blp.response(201, CustomerSchema)
def create_customer(data):
    """Create a customer record."""
    with unit_of_work():
        customer = ops.create_customer(current_user, data)
    return customer


@blp.route("/<int:customer_id>", methods=["GET"])
@permission_required("customers.view")
@blp.response(200, CustomerSchema)
def get_customer(customer_id):
    return db.get_or_404(Customer, customer_id)


@blp.route("/<int:customer_id>", methods=["PATCH"])
@permission_required("customers.edit")
@blp.arguments(CustomerPatchSchema)
@blp.response(200, CustomerSchema)
def patch_customer(data, customer_id):
    """Change some fields; send the version you read (409 if someone changed it since)."""
    customer = db.get_or_404(Customer, customer_id)
    version = data.pop("version")
    with unit_of_work():
        ops.update_customer(current_user, customer, data, expected_version=version)
    return customer


@blp.route("/<int:customer_id>/history", methods=["GET"])
@permission_required("customers.view")
@blp.response(200, CustomerChangeSchema(many=True))
def customer_history(customer_id):
    """Every change to the record, newest first: who, when, which fields from what to what."""
    db.get_or_404(Customer, customer_id)
    return db.session.scalars(select(CustomerChange).where(
        CustomerChange.customer_id == customer_id).order_by(CustomerChange.id.desc())).all()
