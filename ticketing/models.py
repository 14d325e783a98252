"""Imports every area's models so the metadata (and Alembic) sees all tables."""
from ticketing.auth.models import ApiToken, Department, Role, RolePermission, User  # noqa: F401
from ticketing.customers.models import Customer, CustomerChange, CustomerPhone  # noqa: F401
from ticketing.tickets.models import Ticket, TicketEvent  # noqa: F401
import ticketing.timers.models  # noqa: F401,E402  (calendars, SLA policies and clocks, timers)
from ticketing.announcements.models import Announcement  # noqa: F401,E402
from ticketing.incidents.models import FaultCategory, Incident, IncidentLink  # noqa: F401,E402
