"""The audit rules and callback settings a closing reads are kept per process
(ticketing.kept), yet an edit is seen by the very next closing: made by another process,
or here; and a rolled-back edit is used by no one."""
from ticketing import create_app
from ticketing.extensions import db


def _in_other_process(app, change) -> None:
    """Another worker's edit: its own app, session and copy of the configuration."""
    other = create_app(dict(app.config))
    with other.app_context():
        change()
        db.session.commit()
        db.engine.dispose()


def _save_rules(**changes):
    from ticketing.audits.operations import current_rules, save_rules
    rules = current_rules()
    data = {name: getattr(rules, name) for name in (
        "complaints", "unsatisfied_callbacks", "sla_breaches", "sample_percent",
        "due_minutes", "calendar_id")}
    save_rules({**data, **changes}, rules.version)


def _save_settings(**changes):
    from ticketing.callbacks.operations import current_settings, save_settings
    settings = current_settings()
    data = {name: getattr(settings, name) for name in (
        "kinds", "due_minutes", "retry_minutes", "max_attempts", "threshold", "calendar_id")}
    save_settings({**data, **changes}, settings.version)


def test_another_process_editing_the_rules_and_settings_is_seen_by_the_next_closing(
        app, desk, sh):
    desk.at(sh(2026, 3, 2, 10, 0))
    first = desk.open("complaint")
    desk.handle_complaint(first)
    assert len(desk.audits(first)) == 1 and len(desk.callbacks(first)) == 1

    _in_other_process(app, lambda: (_save_rules(complaints=False, sample_percent=0),
                                    _save_settings(kinds=["repair"])))
    second = desk.open("complaint")
    desk.handle_complaint(second)
    assert desk.audits(second) == [] and desk.callbacks(second) == []

    # And back again, this time edited in this process.
    with app.app_context():
        _save_rules(complaints=True)
        _save_settings(kinds=["repair", "complaint"],
                       due_minutes={"repair": 480, "complaint": 480})
        db.session.commit()
    third = desk.open("complaint")
    desk.handle_complaint(third)
    assert len(desk.audits(third)) == 1 and len(desk.callbacks(third)) == 1


def test_a_rolled_back_edit_of_the_rules_is_used_by_no_one(app, desk, sh):
    from ticketing.audits.operations import rules_in_force
    from ticketing.callbacks.operations import settings_in_force
    desk.at(sh(2026, 3, 2, 10, 0))
    with app.app_context():
        assert rules_in_force().complaints is True
        _save_rules(complaints=False)
        _save_settings(kinds=["repair"])
        # Its own transaction sees its edit ...
        assert rules_in_force().complaints is False
        assert settings_in_force().kinds == ["repair"]
        db.session.rollback()
        # ... and once rolled back, nobody does.
        assert rules_in_force().complaints is True
        assert settings_in_force().kinds == ["repair", "complaint"]
    ticket = desk.open("complaint")
    desk.handle_complaint(ticket)
    assert len(desk.audits(ticket)) == 1 and len(desk.callbacks(ticket)) == 1
