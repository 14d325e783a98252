"""Supervision and audit (监管, SPEC §6): audit rules as data, the audits closings and
unsatisfied callbacks put in the supervisor's queue, pass / reject (reject reopens the ticket
through the workflow), overdue escalation through the durable timer sweep, and complaint
liability (责任定性) with its one appeal (申诉) ruled by a second supervisor."""
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    # Imported here, not above: ticketing.models imports this package for its tables.
    from ticketing.audits import api as audits_api, demo, labels, operations, queries, views
    from ticketing.audits.permissions import AUDIT_GRANTS, AUDIT_PERMISSIONS
    from ticketing.extensions import api
    from ticketing.signals import callback_surveyed, tickets_transitioned
    from ticketing.wiring import wiring

    app.register_blueprint(views.bp)
    api.register_blueprint(audits_api.blp)
    tickets_transitioned.connect(operations.on_tickets_transitioned, weak=False)
    callback_surveyed.connect(operations.on_callback_surveyed, weak=False)
    areas = wiring(app)
    areas.timer_handlers[operations.OVERDUE] = operations.fire_overdue_audits
    areas.add_permissions(AUDIT_PERMISSIONS, AUDIT_GRANTS)
    areas.reference_data.append(operations.ensure_audit_rules)
    areas.history_notes.update({"audit_passed": labels.audit_note,
                                "audit_rejected": labels.audit_note})
    areas.history_prefixes[operations.REJECTED_LINK] = labels.rejected_by_audit
    areas.demo_data.append(demo.seed_demo_audits)
    areas.home_panels.append(views.queue_panel)
    areas.ticket_sections.append(views.ticket_supervision_section)
    areas.add_nav(64, "audits.queue", _l("Audits"), "audits.view", badge=queries.open_count)
    areas.add_nav(95, "audits.rules", _l("Audit rules"), "audits.rules")
