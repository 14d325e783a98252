"""Guards and callbacks of the ticket workflow, referenced by dotted path from workflows.tickets.

A guard takes the transitions EventData (send_event=True) and reads only `event.model`'s plain
attributes, `event.kwargs` (the fields), `event.event.name` and `event.transition.dest`.
Each guard carries `refusal(event) -> str`, the English message shown when it fails.
"""

from workflows.tickets import EVENTS, KINDS, kind_of_state


def guard(message, reads_fields: bool = False):
    """Attach a refusal message: a string, or a function of the event.

    A function may return "" when another guard on the same transition already explains it.
    reads_fields: the guard checks what the user typed, not the ticket, so it cannot tell
    before the form is filled in whether the event is available.
    """

    def attach(check):
        check.refusal = message if callable(message) else (lambda event: message)
        check.reads_fields = reads_fields
        return check

    return attach


def _present(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _article(label: str) -> str:
    return ("an " if label[0].lower() in "aeiou" else "a ") + label.lower()


def _missing(event) -> list[str]:
    fields = EVENTS[event.event.name]["fields"]
    return [
        name for name, field in fields.items()
        if field["required"] and not _present(event.kwargs.get(name))
    ]


def _missing_message(event) -> str:
    fields = EVENTS[event.event.name]["fields"]
    labels = [_article(fields[name]["label"]) for name in _missing(event)]
    needs = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"{event.event.name} needs {needs}"


@guard(_missing_message, reads_fields=True)
def has_required_fields(event) -> bool:
    return not _missing(event)


def _out_of_range(event) -> list[str]:
    """Fields with min/max that are given but not a whole number in range.

    A missing value passes here: has_required_fields reports it.
    """
    bad = []
    for name, field in EVENTS[event.event.name]["fields"].items():
        value = event.kwargs.get(name)
        if "min" in field and _present(value):
            # bool is an int subclass, but True is not a satisfaction score.
            whole = isinstance(value, int) and not isinstance(value, bool)
            if not (whole and field["min"] <= value <= field["max"]):
                bad.append(name)
    return bad


def _range_message(event) -> str:
    fields = EVENTS[event.event.name]["fields"]
    return "; ".join(
        f"{name} must be a whole number from {fields[name]['min']} to {fields[name]['max']}"
        for name in _out_of_range(event)
    )


@guard(_range_message, reads_fields=True)
def numbers_in_range(event) -> bool:
    return not _out_of_range(event)


@guard("a repair needs a customer on the ticket before the customer can be verified")
def has_customer(event) -> bool:
    return event.model.customer_id is not None


@guard("a repair needs a verified customer before a work order")
def customer_verified(event) -> bool:
    return event.model.customer_verified_at is not None


def _return_message(event) -> str:
    left = event.model.suspended_from
    if left is None:
        return "the ticket does not record the sub-state it left, so it cannot return to it"
    return (
        f"the ticket can only return to the sub-state it left, "
        f"and {left!r} is not an active sub-state"
    )


@guard(_return_message)
def returns_to_suspended_from(event) -> bool:
    return event.model.suspended_from == event.transition.dest


def _reopen_message(event) -> str:
    kinds = ", ".join(KINDS)
    return f"a ticket of kind {event.model.kind!r} cannot be reopened; kind must be one of {kinds}"


@guard(_reopen_message)
def reopens_own_kind(event) -> bool:
    return event.model.kind == kind_of_state(event.transition.dest)


def _reclassify_message(event) -> str:
    to_kind, current = event.kwargs.get("to_kind"), kind_of_state(event.model.state)
    if not _present(to_kind):
        return ""  # has_required_fields already says reclassify needs a new kind
    if to_kind == current:
        return f"a {current} ticket is already a {current}; reclassify needs another kind"
    return f"to_kind must be one of {', '.join(k for k in KINDS if k != current)}, not {to_kind!r}"


@guard(_reclassify_message, reads_fields=True)
def reclassifies_to_requested_kind(event) -> bool:
    return event.kwargs.get("to_kind") == kind_of_state(event.transition.dest)


@guard("the ticket is already assigned to someone")
def unassigned(event) -> bool:
    return event.model.assignee_id is None


def remember_suspended_from(event) -> None:
    """Before entering suspended: record the leaf being left, for resume and reject_suspension."""
    event.model.suspended_from = event.model.state
