"""Keep the search index in the transaction of each change (signal receivers)."""
from ticketing.extensions import db
from ticketing.search import index
from ticketing.search.tokens import index_text
from ticketing.signals import (customer_changed, ticket_noted, ticket_opened,
                               tickets_transitioned)
from workflows.tickets import EVENTS

CUSTOMER_FIELDS = ("name", "account_no", "address")


def on_ticket_opened(ticket, **_kwargs) -> None:
    index.add_ticket(db.session.connection(), ticket, index.ticket_text(ticket),
                     index.customer_text(ticket.customer))


def on_tickets_transitioned(event: str, *, fields: dict, transitions, **_kwargs) -> None:
    """The event's notes, reasons and other text fields become searchable."""
    spec = EVENTS.get(event, {}).get("fields", {})
    texts = [str(value) for name, value in fields.items()
             if spec.get(name, {}).get("type") == "text" and value]
    if texts:
        index.append_bodies(db.session.connection(), [t.ticket.id for t in transitions],
                            index_text(*texts))


def on_ticket_noted(ticket, *, history, **_kwargs) -> None:
    index.append_body(db.session.connection(), ticket.id, index_text(history.note))


def on_customer_changed(customer, *, changes: dict, **_kwargs) -> None:
    if any(field in changes for field in CUSTOMER_FIELDS):
        db.session.flush()  # the customer's tickets are read by the statement
        index.set_customer(db.session.connection(), customer.id, index.customer_text(customer))


def connect_receivers() -> None:
    """Idempotent: blinker keeps one connection per receiver."""
    ticket_opened.connect(on_ticket_opened, weak=False)
    tickets_transitioned.connect(on_tickets_transitioned, weak=False)
    ticket_noted.connect(on_ticket_noted, weak=False)
    customer_changed.connect(on_customer_changed, weak=False)
