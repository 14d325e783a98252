"""CSV import of customers; each row is validated like a form, bad rows are reported."""
import csv

from ticketing.errors import InvalidInput
from ticketing.customers import operations as ops
from ticketing.customers.models import Customer
from ticketing.dbsetup import begin_write
from ticketing.extensions import db

COLUMNS = ("account_no", "name", "address", "area", "tier", "phones", "notes")


def import_customers(handle, progress=None, actor=None):
    reader = csv.DictReader(handle)
    # The reader's own line count: blank lines and quoted line breaks would skew enumerate().
    rows = [(reader.line_num, row) for row in reader]
    created = updated = 0
    errors: list[tuple[int, str]] = []
    iterator = progress(rows, label="customers") if progress else _null(rows)
    with iterator as bar:
        for done, (line_no, row) in enumerate(bar, start=1):
            data = {k: (row.get(k) or "").strip() for k in COLUMNS if k in row}
            if "phones" in data:
                data["phones"] = [p for p in data["phones"].replace(",", ";").split(";")
                                  if p.strip()]
            try:
                begin_write(db.session)  # SQLite: each row's savepoint inside the transaction
                with db.session.begin_nested():
                    existing = db.session.scalar(db.select(Customer).where(
                        Customer.account_no == data.get("account_no", "")))
                    if existing:
                        ops.update_customer(actor, existing, data)
                        updated += 1
                    else:
                        ops.create_customer(actor, data)
                        created += 1
            except InvalidInput as exc:
                fields = exc.extra["fields"]
                errors.append((line_no, "; ".join(f"{k}: {' '.join(map(str, v))}"
                                                  for k, v in fields.items())))
            if done % 1000 == 0:
                db.session.commit()
    db.session.commit()
    return created, updated, errors


class _null:
    def __init__(self, rows):
        self.rows = rows

    def __enter__(self):
        return self.rows

    def __exit__(self, *exc):
        return False
