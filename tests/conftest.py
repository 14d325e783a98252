"""Fixtures after Flask's tutorial: app, client, runner, and helpers that log in.

The schema is built once per session by the real Alembic migrations; each test then starts
from an empty database (SQLite: a copy of the migrated file; PostgreSQL: TRUNCATE)."""
import os
import shutil

import pytest
from sqlalchemy import create_engine, text

from ticketing import clock, create_app
from ticketing.extensions import db

PASSWORD = "correct-horse-9"


def _pg_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    from ticketing.config import _normalise_db_url
    return _normalise_db_url(url)


def _worker_database(url: str, worker: str) -> str:
    """Each xdist worker gets its own PostgreSQL database next to the given one."""
    if worker == "master":
        return url
    from sqlalchemy.engine import make_url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _migrate(url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory, worker_id):
    pg = _pg_url()
    if pg:
        url = _worker_database(pg, worker_id)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        _migrate(url)
        return {"kind": "postgresql", "url": url}
    template = tmp_path_factory.mktemp("db") / "template.sqlite3"
    _migrate(f"sqlite:///{template}")
    return {"kind": "sqlite", "template": str(template)}


@pytest.fixture
def database_url(database, tmp_path):
    if database["kind"] == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(database["template"], path)
        return f"sqlite:///{path}"
    engine = create_engine(database["url"])
    with engine.begin() as conn:
        tables = conn.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")).all()
        sequences = conn.scalars(text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")).all()
        if tables:
            # DELETE, not TRUNCATE: a test's few rows go in 15 ms, where TRUNCATE of every
            # table took 0.7 s (a new file per table), most of the suite's time on
            # PostgreSQL. Replica mode (superuser only) skips the foreign keys and the
            # history tables' refusal triggers.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("; ".join(f'DELETE FROM "{t}"' for t in tables)))
        if sequences:  # ids start at 1 again, as after RESTART IDENTITY
            conn.execute(text("; ".join(f"SELECT setval('\"{s}\"', 1, false)"
                                        for s in sequences)))
    engine.dispose()
    return database["url"]


@pytest.fixture
def app_config():
    """Override per module/test to change settings."""
    return {}


@pytest.fixture
def app(database_url, app_config, tmp_path):
    # A cheap scrypt cost: tests log in hundreds of times; the algorithm is the same.
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
              "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
              "SERVER_NAME": "localhost", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}
    config.update(app_config)
    app = create_app(config)
    with app.app_context():
        from ticketing.cli import add_reference_data
        add_reference_data()
        db.session.commit()
    yield app
    clock.freeze(None)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(name="sh")
def sh_fixture():
    """sh(2026, 3, 2, 10, 0): a Shanghai wall time (tests.drive.sh)."""
    from tests.drive import sh
    return sh


@pytest.fixture
def client(app):
    """A browser that prefers English, so pages read the same with any catalogue (the app's
    default is Chinese); pass headers={"Accept-Language": ...} to ask for another language."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def is_postgres(database):
    return database["kind"] == "postgresql"


@pytest.fixture
def make_user(app):
    """make_user("agent", "call_center") -> User (committed), password PASSWORD.

    Users speak English unless given locale="zh" (the app's default is Chinese)."""
    from ticketing.auth.operations import create_user
    counter = {"n": 0}

    def make(role: str = "agent", department: str | None = "call_center",
             username: str | None = None, **kwargs):
        counter["n"] += 1
        roles = [role] if isinstance(role, str) else list(role)
        kwargs.setdefault("locale", "en")
        with app.app_context():
            user = create_user(username or f"{roles[0]}{counter['n']}", PASSWORD, roles,
                               department, **kwargs)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def token_for(app, client):
    """token_for(user) -> headers with a bearer token for the API."""

    def make(user, password: str = PASSWORD):
        response = client.post("/api/v1/tokens", json={"username": user.username,
                                                      "password": password})
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return make


@pytest.fixture
def as_role(make_user, token_for):
    """as_role("dispatcher", "dispatch") -> (user, headers)."""

    def make(role: str, department: str | None = None, **kwargs):
        user = make_user(role, department, **kwargs)
        return user, token_for(user)

    return make


def pytest_collection_modifyitems(config, items):
    if _pg_url():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
