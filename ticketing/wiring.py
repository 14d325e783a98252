"""What the areas add to the frame, kept per application and filled in create_app.

Each area's `init_app(app)` adds its pages, panels, permissions and services here; nothing is
appended to module-level lists at import, so two apps in one process (tests) never share
their wiring and a reader finds every area in the one list in create_app."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import Flask, current_app


@dataclass(frozen=True)
class NavItem:
    order: int
    endpoint: str
    label: object
    permission: str | None
    badge: Callable | None = None  # fn(user) -> a count shown beside the label (0: none)
    shown: Callable | None = None  # fn(user) -> False hides it (beyond the permission)


@dataclass
class Wiring:
    nav: list[NavItem] = field(default_factory=list)
    # fn(user) -> dict(title, template, context) or None, in the order added.
    home_panels: list[Callable] = field(default_factory=list)
    # fn(user) -> dict(template, context) or None: a line under every page's header.
    header_notices: list[Callable] = field(default_factory=list)
    # fn(ticket) / fn(customer) -> dict(title, template, context) or None.
    ticket_sections: list[Callable] = field(default_factory=list)
    customer_sections: list[Callable] = field(default_factory=list)
    # Idempotent reference data for `ticketing init`: fn().
    reference_data: list[Callable] = field(default_factory=list)
    # Demo data for `ticketing seed-demo`: fn() -> report lines.
    demo_data: list[Callable] = field(default_factory=list)
    # Background services for `ticketing run`: fn(app) -> stop() or None.
    run_services: list[Callable] = field(default_factory=list)
    # Timer kind -> fn(timers, now) firing a batch of due timers (see ticketing.timers.sweep).
    timer_handlers: dict[str, Callable] = field(default_factory=dict)
    # History event -> fn(data) -> text: notes the system wrote as a code with parameters,
    # rendered in the reader's language and time zone.
    history_notes: dict[str, Callable] = field(default_factory=dict)
    # Key of a history row's data -> fn(value) -> text written before the row's note: what
    # the system says about why a person's event happened (the survey that reopened it).
    history_prefixes: dict[str, Callable] = field(default_factory=dict)
    # A workflow field's list kept as data (its "choices" in workflows.tickets) -> fn() ->
    # [(code, label)] of what may be chosen now; forms offer it, operations enforce it.
    field_choices: dict[str, Callable] = field(default_factory=dict)
    # Permission code -> label, and the default roles that get it.
    permissions: dict[str, object] = field(default_factory=dict)
    default_grants: dict[str, set[str]] = field(default_factory=dict)

    def add_nav(self, order: int, endpoint: str, label, permission: str | None,
                badge: Callable | None = None, shown: Callable | None = None) -> None:
        self.nav.append(NavItem(order, endpoint, label, permission, badge, shown))
        self.nav.sort(key=lambda item: item.order)

    def add_permissions(self, labels: dict[str, object],
                        grants: dict[str, list[str]] | None = None) -> None:
        """Permission codes with their labels; `grants`: role name -> codes it gets by
        default (seed data an admin edits afterwards)."""
        self.permissions.update(labels)
        for role, codes in (grants or {}).items():
            self.default_grants.setdefault(role, set()).update(codes)


def wiring(app: Flask | None = None) -> Wiring:
    return (app or current_app).extensions["ticketing.wiring"]


def install(app: Flask) -> Wiring:
    app.extensions["ticketing.wiring"] = Wiring()
    return wiring(app)
