"""Imports every area's models so the metadata (and Alembic) sees all tables."""
from ticketing.auth.models import ApiToken, Department, Role, RolePermission, User  # noqa: F401
from ticketing.customers.models import Customer, CustomerChange, CustomerPhone  # noqa: F401
from ticketing.tickets.models import Ticket, TicketEvent  # noqa: F401
import ticketing.timers.models  # noqa: F401,E402  (calendars, SLA policies and clocks, timers)
import ticketing.callbacks.models  # noqa: F401,E402  (callback settings, tasks, attempts)
