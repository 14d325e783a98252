"""Customer operations: validate, change, record history; flush, never commit."""
import re

from flask_babel import gettext as _
from sqlalchemy import or_, select

from ticketing.errors import InvalidInput
from ticketing.clock import utcnow
from ticketing.customers.models import TIERS, Customer, CustomerChange, CustomerPhone
from ticketing.errors import Conflict
from ticketing.extensions import db
from ticketing.signals import customer_changed

TRACKED_FIELDS = ("account_no", "name", "address", "area", "tier", "notes")
_PHONE_JUNK = re.compile(r"[\s\-().]")
_PHONE_OK = re.compile(r"^\+?\d{5,20}$")
_ACCOUNT_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_]{0,39}$")
# The same two rules for the OpenAPI document (ECMA regex): what normalise_phone accepts
# (junk between the digits allowed) and an account number.
PHONE_PATTERN = r"^[ \t\n\r\-().]*\+?([0-9][ \t\n\r\-().]*){5,20}$"
ACCOUNT_PATTERN = _ACCOUNT_OK.pattern
LIMITS = {"name": 100, "address": 255, "area": 100, "notes": 4000}


def normalise_phone(raw: str) -> str | None:
    """Digits with an optional leading +, or None when it is not a phone number.

    Chinese numbers are kept in their national form, however the phone system writes them:
    +86 187 8509 1285, 008618785091285 and 8618785091285 are 18785091285; +86 10 6512 3456
    is 01065123456. Other international numbers keep E.164's leading + (00 becomes +)."""
    cleaned = _PHONE_JUNK.sub("", raw or "")
    if not _PHONE_OK.match(cleaned):
        return None
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if len(cleaned) == 13 and cleaned.startswith("861"):
        cleaned = "+" + cleaned
    if cleaned.startswith("+86"):
        national = cleaned[3:]
        if len(national) == 11 and national.startswith("1"):
            return national
        national = national if national.startswith("0") else "0" + national
        return national if 5 <= len(national) <= 20 else None
    return cleaned


def looks_like_account_no(raw: str) -> bool:
    return bool(_ACCOUNT_OK.match((raw or "").strip()))


def customers_by_phone_or_account(text: str) -> list[Customer]:
    """The caller lookup: customers with this phone number, or this account number."""
    found = customers_by_phone(text)
    account = (text or "").strip()
    if looks_like_account_no(account):
        ids = {c.id for c in found}
        found += [c for c in db.session.scalars(select(Customer).where(
            Customer.account_no == account)) if c.id not in ids]
    return found


def _validate(data: dict, customer: Customer | None) -> tuple[dict, list[str] | None]:
    errors: dict[str, list[str]] = {}
    values = {}
    for field in TRACKED_FIELDS:
        if field not in data:
            continue
        value = data[field]
        value = "" if value is None else str(value).strip()
        values[field] = value
    if customer is None:
        for field in ("account_no", "name"):
            if not values.get(field):
                errors[field] = [_("This field is required.")]
    else:
        for field in ("account_no", "name"):
            if field in values and not values[field]:
                errors[field] = [_("This field is required.")]
    account = values.get("account_no")
    if account and field_ok(errors, "account_no"):
        if not _ACCOUNT_OK.match(account):
            errors["account_no"] = [_("Use up to 40 letters, digits, dashes or underscores.")]
        else:
            clash = db.session.scalar(select(Customer.id).where(Customer.account_no == account))
            if clash is not None and (customer is None or clash != customer.id):
                errors["account_no"] = [_("Another customer has this account number.")]
    for field, limit in LIMITS.items():
        if len(values.get(field, "")) > limit:
            errors[field] = [_("At most %(n)d characters.", n=limit)]
    if "tier" in values:
        values["tier"] = values["tier"] or "ordinary"
        if values["tier"] not in TIERS:
            errors["tier"] = [_("Choose ordinary or VIP.")]
    phones = None
    if "phones" in data and data["phones"] is not None:
        phones = []
        raw_phones = data["phones"]
        if isinstance(raw_phones, str):
            raw_phones = [p for p in re.split(r"[,;\n]", raw_phones) if p.strip()]
        bad = []
        for raw in raw_phones:
            number = normalise_phone(str(raw))
            if number is None:
                bad.append(str(raw))
            elif number not in phones:
                phones.append(number)
        if bad:
            errors["phones"] = [_("Not a phone number: %(value)s", value=b) for b in bad]
        elif len(phones) > 10:
            errors["phones"] = [_("At most 10 phone numbers.")]
    if errors:
        raise InvalidInput(errors)
    return values, phones


def field_ok(errors: dict, field: str) -> bool:
    return field not in errors


def create_customer(actor, data: dict) -> Customer:
    values, phones = _validate(data, None)
    customer = Customer(**{"tier": "ordinary", **values})
    customer.phones = [CustomerPhone(number=n) for n in (phones or [])]
    db.session.add(customer)
    db.session.flush()
    snapshot = {f: [None, getattr(customer, f)] for f in TRACKED_FIELDS}
    snapshot["phones"] = [None, customer.phone_numbers]
    db.session.add(CustomerChange(customer_id=customer.id, actor_id=_actor_id(actor),
                                  action="create", changes=snapshot))
    db.session.flush()
    customer_changed.send(customer, actor=actor, action="create", changes=snapshot)
    return customer


def update_customer(actor, customer: Customer, data: dict,
                    expected_version: int | None = None) -> Customer:
    if expected_version is not None and expected_version != customer.version:
        raise Conflict("stale_version",
                       _("Someone else changed this customer first; reload and try again."),
                       current_version=customer.version)
    values, phones = _validate(data, customer)
    changes = {}
    for field, value in values.items():
        old = getattr(customer, field)
        if old != value:
            changes[field] = [old, value]
            setattr(customer, field, value)
    if phones is not None and phones != customer.phone_numbers:
        changes["phones"] = [customer.phone_numbers, phones]
        keep = {p.number: p for p in customer.phones}
        customer.phones = [keep.get(n) or CustomerPhone(number=n) for n in phones]
    if changes:
        # Touch the row itself too: a phones-only change must still bump the version (so a
        # concurrent editor gets a conflict) and updated_at.
        customer.updated_at = utcnow()
        db.session.add(CustomerChange(customer_id=customer.id, actor_id=_actor_id(actor),
                                      action="update", changes=changes))
        db.session.flush()
        customer_changed.send(customer, actor=actor, action="update", changes=changes)
    return customer


def _actor_id(actor) -> int | None:
    return getattr(actor, "id", None)


def find_customers(*, phone: str | None = None, account_no: str | None = None,
                   q: str | None = None, after_id: int | None = None, limit: int = 50):
    """Customers matching every given filter, in id order, for keyset paging."""
    stmt = select(Customer).order_by(Customer.id).limit(limit)
    if phone:
        number = normalise_phone(phone)
        if number is None:
            raise InvalidInput({"phone": [_("Not a phone number: %(value)s", value=phone)]})
        stmt = stmt.where(Customer.id.in_(
            select(CustomerPhone.customer_id).where(CustomerPhone.number == number)))
    if account_no:
        stmt = stmt.where(Customer.account_no == account_no.strip())
    if q:
        # The user's text is literal (a "%" or "_" is no wildcard) and, as on SQLite, the
        # match ignores case on PostgreSQL too.
        text = q.strip()
        stmt = stmt.where(or_(*(column.icontains(text, autoescape=True) for column in (
            Customer.name, Customer.address, Customer.account_no))))
    if after_id:
        stmt = stmt.where(Customer.id > after_id)
    return db.session.scalars(stmt).all()


def customers_by_phone(phone: str) -> list[Customer]:
    number = normalise_phone(phone)
    if number is None:
        return []
    return db.session.scalars(select(Customer).join(CustomerPhone).where(
        CustomerPhone.number == number).order_by(Customer.id)).unique().all()
