"""`ticketing reports rebuild`: recompute the rollups from the tickets (one commit)."""
import click
from flask.cli import with_appcontext

from ticketing.extensions import db


@click.group("reports")
def reports_command():
    """Report rollups."""


@reports_command.command("rebuild")
@with_appcontext
def rebuild_command():
    """Recompute every report rollup from tickets, history and SLA clocks (after an upgrade
    or a bulk load); safe to run again."""
    from ticketing.reports.operations import rebuild_rollups
    counts = rebuild_rollups()
    db.session.commit()
    click.echo(", ".join(f"{table}: {n:,} rows" for table, n in counts.items()))
