"""Imports every area's models so the metadata (and Alembic) sees all tables."""
from ticketing.auth.models import (ApiToken, AuditEntry, Department, LoginFailure,  # noqa: F401
                                   LoginSession, Role, RolePermission, User)
from ticketing.customers.models import Customer, CustomerChange, CustomerPhone  # noqa: F401
from ticketing.faults.models import FaultCategory  # noqa: F401
from ticketing.tickets.models import Ticket, TicketEvent  # noqa: F401
import ticketing.timers.models  # noqa: F401,E402  (calendars, SLA policies and clocks, timers)
from ticketing.calls.models import Call  # noqa: F401,E402
import ticketing.reports.models  # noqa: F401,E402  (report rollups)
import ticketing.callbacks.models  # noqa: F401,E402  (callback settings, tasks, attempts)
import ticketing.audits.models  # noqa: F401,E402  (audit rules, audits, complaint liability)
from ticketing.announcements.models import Announcement  # noqa: F401,E402
from ticketing.incidents.models import Incident, IncidentLink  # noqa: F401,E402
from ticketing.dispatch.models import TeamArea  # noqa: F401,E402
