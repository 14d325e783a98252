"""The schema comes only from Alembic: `ticketing init` builds it from nothing on SQLite and
PostgreSQL, is harmless to repeat, downgrades to nothing, and matches the models exactly."""
import os
import re
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (Column, Integer, MetaData, Table, create_engine, func, inspect,
                        select, text)
from sqlalchemy.engine import make_url

from ticketing import ROOT, create_app
from ticketing.auth.models import Department, Role
from ticketing.auth.operations import DEFAULT_DEPARTMENTS
from ticketing.auth.permissions import DEFAULT_ROLES, default_permissions
from ticketing.extensions import db


def _app_for(url: str):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})


def _init(app):
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    return result


def _reference_counts(app) -> tuple[int, int, int]:
    with app.app_context():
        from ticketing.auth.models import RolePermission
        return (db.session.scalar(select(func.count(Department.id))),
                db.session.scalar(select(func.count(Role.id))),
                db.session.scalar(select(func.count()).select_from(RolePermission)))


def _schema_drift(app) -> list:
    """Alembic's own autogenerate comparison, with the options the app migrates with."""
    with app.app_context(), db.engine.connect() as conn:
        opts = dict(app.extensions["migrate"].configure_args)
        assert opts["compare_type"] and opts["render_as_batch"]
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, db.metadata)


def _drift_against_a_model_with_one_more_table(app) -> list:
    """Proves the comparison is not vacuous: an unmigrated table is reported."""
    extra = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.tables.values():
        table.to_metadata(extra)
    Table("probe", extra, Column("id", Integer, primary_key=True))
    with app.app_context(), db.engine.connect() as conn:
        opts = dict(app.extensions["migrate"].configure_args)
        context = MigrationContext.configure(conn, opts=opts)
        return [(diff[0], diff[1].name) for diff in compare_metadata(context, extra)]


def _check_fresh_install(app) -> None:
    _init(app)
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables, "every model table is created"
        assert "alembic_version" in tables
        with db.engine.connect() as conn:
            head = conn.scalar(text("SELECT version_num FROM alembic_version"))
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        assert head == script.get_current_head()
        assert set(db.session.scalars(select(Department.code))) == {
            d[0] for d in DEFAULT_DEPARTMENTS}
        roles = {r.name: r.permissions for r in db.session.scalars(select(Role))}
        assert set(roles) == set(DEFAULT_ROLES)
        assert roles["agent"] == default_permissions("agent")
        db.session.remove()

    # The models and the migrated schema agree: nothing is ignored, so a model change without
    # its migration (in any area, e.g. timers) fails here.
    assert _schema_drift(app) == []
    assert _drift_against_a_model_with_one_more_table(app) == [("add_table", "probe")]

    before = _reference_counts(app)
    _init(app)
    assert _reference_counts(app) == before, "a second init adds nothing"

    with app.app_context():
        from flask_migrate import downgrade
        downgrade(revision="base")
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 0
        db.engine.dispose()

    _init(app)  # and back up again from nothing
    assert _reference_counts(app) == before
    with app.app_context():
        db.engine.dispose()


def test_init_builds_a_fresh_sqlite_file_from_nothing(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    assert not path.exists()
    app = _app_for(f"sqlite:///{path}")
    _check_fresh_install(app)
    assert path.exists()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    app = _app_for(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    _init(app)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
        assert conn.scalar(text("PRAGMA foreign_keys")) == 1
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def fresh_pg_url():
    """A brand-new PostgreSQL database next to TEST_DATABASE_URL, dropped afterwards."""
    from ticketing.config import _normalise_db_url
    base = make_url(_normalise_db_url(os.environ["TEST_DATABASE_URL"]))
    name = f"test_migrate_fresh_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_init_builds_a_fresh_postgresql_database_from_nothing(fresh_pg_url):
    app = _app_for(fresh_pg_url)
    with app.app_context(), db.engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
    with app.app_context():
        db.engine.dispose()
    _check_fresh_install(app)


@pytest.mark.postgres
def test_postgresql_downgrade_leaves_no_functions_behind(fresh_pg_url):
    app = _app_for(fresh_pg_url)
    _init(app)
    with app.app_context():
        from flask_migrate import downgrade
        downgrade(revision="base")
        with db.engine.connect() as conn:
            functions = conn.scalars(text(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'")).all()
        db.engine.dispose()
    assert functions == []


@pytest.mark.postgres
def test_postgresql_search_index_of_an_existing_database_is_built_again(fresh_pg_url):
    """d3e8a5c1f7b2 on a database indexed before it: each index row gets its ticket's
    created_at and recency tokens, and a windowed search finds what it found before."""
    from ticketing.search import index
    app = _app_for(fresh_pg_url)
    _init(app)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--customers", "20"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from flask_migrate import downgrade, upgrade
        downgrade(revision="f6d2b8a4c913")  # the index as it was: no created_at, no tokens
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns(index.TABLE)}
            assert "created_at" not in columns
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT s.created_at = t.created_at, s.document::text LIKE '%''#d%' "
                f"FROM {index.TABLE} s JOIN tickets t ON t.id = s.ticket_id")).all()
            assert rows and all(same and tokens for same, tokens in rows)
            oldest = conn.scalar(text("SELECT min(created_at) FROM tickets"))
            everything = set(conn.scalars(index.matching_ids(conn, "电视")))
            windowed = set(conn.scalars(index.matching_ids(conn, "电视", since=oldest
                                                           - index.DAY)))
            assert everything and windowed == everything
        db.engine.dispose()


def test_no_production_code_creates_tables_outside_migrations():
    offenders = []
    for folder in ("ticketing", "workflows"):
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, folder)):
            for filename in files:
                if filename.endswith(".py"):
                    path = os.path.join(dirpath, filename)
                    with open(path, encoding="utf-8") as handle:
                        if re.search(r"\bcreate_all\b", handle.read()):
                            offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []
