"""The `ticketing` command: database, users, demo data, web server, scheduler."""
import functools
import os

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from ticketing.auth.operations import create_user
from ticketing.customers.importer import import_customers
from ticketing.demo import seed_demo
from ticketing.errors import InvalidInput
from ticketing.extensions import db
from ticketing.wiring import wiring


def operator_locale() -> str:
    """The CLI speaks the operator's language (LC_ALL, LC_MESSAGES, LANG) if the app has it."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            code = value.split(".")[0].split("_")[0].lower()
            if code in current_app.config["LANGUAGES"]:
                return code
            break
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def in_operator_locale(command):
    """Translated messages outside a request: there is no browser or user to ask."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        with force_locale(operator_locale()):
            return command(*args, **kwargs)

    return wrapped


def migrate_database() -> None:
    """Bring the schema to the newest Alembic revision, then add missing reference data."""
    upgrade()
    add_reference_data()
    db.session.commit()


def add_reference_data() -> None:
    """Every area's idempotent reference data (departments, roles, calendars, policies)."""
    for add in wiring().reference_data:
        add()


@click.command("init")
@with_appcontext
@in_operator_locale
def init_command():
    """Create or upgrade the database and add the default departments and roles."""
    migrate_database()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="Role name (agent, dispatcher, staff, callback_agent, supervisor, "
                   "department_head, admin); repeat for several.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters; prompted when omitted.")
@click.option("--department", default=None, help="Department code, e.g. operations.")
@click.option("--full-name", default="", help="Name shown in the UI.")
@click.option("--locale", type=click.Choice(["zh", "en"]), default="zh",
              help="Language of the UI for this user.")
@with_appcontext
@in_operator_locale
def create_user_command(username, roles, password, department, full_name, locale):
    """Create a user with one or more roles."""
    try:
        user = create_user(username, password, list(roles), department, full_name=full_name,
                           locale=locale)
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        for field, messages in exc.extra["fields"].items():
            for message in messages:
                click.echo(f"{field}: {message}", err=True)
        raise SystemExit(2)
    click.echo(f"Created user {user.username} ({', '.join(roles)})")


@click.command("seed-demo")
@click.option("--customers", default=300, show_default=True, help="How many customers.")
@click.option("--password", default="demo-pass-2026", show_default=True,
              help="Password of every demo user.")
@with_appcontext
@in_operator_locale
def seed_demo_command(customers, password):
    """Migrate, then add demo departments, one user per role and customers (idempotent)."""
    migrate_database()
    report = seed_demo(customers=customers, password=password)
    db.session.commit()
    for line in report:
        click.echo(line)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Run the timer sweeps in this process (single-machine default).")
@with_appcontext
def run_command(host, port, scheduler):
    """Serve the web UI and API (threaded; use gunicorn in production)."""
    app = current_app._get_current_object()
    stops = []
    if scheduler:
        stops = [start(app) for start in wiring(app).run_services]
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        for stop in stops:
            if stop:
                stop()


@click.command("import-customers")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
@in_operator_locale
def import_customers_command(csv_file):
    """Import customers from CSV (columns account_no,name,address,area,tier,phones,notes;
    phones separated by ';'). Existing account numbers are updated."""
    created, updated, errors = import_customers(csv_file, progress=click.progressbar)
    for line_no, message in errors[:50]:
        click.echo(f"line {line_no}: {message}", err=True)
    click.echo(f"created {created}, updated {updated}, rejected {len(errors)}")
    if errors:
        raise SystemExit(1)


def register_commands(app) -> None:
    for command in (init_command, create_user_command, seed_demo_command, run_command,
                    import_customers_command):
        app.cli.add_command(command)
