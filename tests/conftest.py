"""Test fixtures. Every storage test runs twice: on SQLite and on PostgreSQL.

- ``engine`` (session scope, parametrised by backend): a database built once by
  running the real migrations;
- ``database`` / ``session``: each test inside one outer transaction that is
  rolled back, services' commits becoming savepoints (warehouse's pattern);
- ``fresh_database_url``: an empty database of its own, for tests that need
  real commits seen by other processes (CLI, served app, migrations).

PostgreSQL comes from DCATALOG_TEST_POSTGRES_URL (default: the local server,
user postgres). When it is unreachable the PostgreSQL half is skipped with a
reason, except when CI=true or DCATALOG_TEST_REQUIRE_POSTGRES=1: then it fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dcatalog import assembly
from dcatalog.accounts import passwords
from dcatalog.app import create_app
from dcatalog.config import Settings
from dcatalog.db import Database, create_db_engine
from dcatalog.demo.service import load_demo
from dcatalog.schema import upgrade_engine
from tests.helpers import run_cli

# Property tests check behaviour, never speed: no per-example deadline (the 2-core
# machines are shared, and a slow moment must not fail a correct test).
# What follows a counted deed is connected at start, as in every process.
assembly.assemble()

hypothesis_settings.register_profile("dcatalog", deadline=None)
hypothesis_settings.load_profile("dcatalog")

# Staff passwords are argon2id at the library's defaults (64 MiB, 3 passes): about
# 0.15 s a hash on a quiet core, and the suite makes hundreds of accounts (the demo's
# eight on every load_demo with accounts). In this process they are argon2id at the
# smallest cost; verifying reads the cost from each hash, so hashes made by the real
# commands (dcatalog demo, admin create, the served app) still verify at full cost.
# test_accounts loads the module as shipped and checks that it hashes at the defaults.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("not a real password, only for timing")

# The test CA, a real HTTPS server and lab fetch settings (tests/tls.py), as fixtures.
pytest_plugins = ["tests.tls"]

BACKENDS = ["sqlite", "postgresql"]
POSTGRES_URL = os.environ.get(
    "DCATALOG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_PEPPER = "test-pepper-0123456789abcdefghijklmnopqrstuvwxyz"
TEST_SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def _postgres_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get(
        "DCATALOG_TEST_REQUIRE_POSTGRES", ""
    ) in ("1", "true")


def _admin_dsn() -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _postgres_available() -> None:
    try:
        psycopg.connect(_admin_dsn(), connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {make_url(POSTGRES_URL)!r}: {exc}"
        if _postgres_required():
            pytest.fail(message)
        pytest.skip(message)


class PostgresDatabases:
    """Creates throw-away databases on the test server and drops them after."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        _postgres_available()
        name = f"dcatalog_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


def _new_database_url(backend: str, folder: Path, postgres_databases: PostgresDatabases) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'dcatalog.sqlite3'}"
    return postgres_databases.create()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``one_backend("sqlite")`` checks what no database changes (every
    Thai page's words, the browser's Content-Security-Policy): its other backend's
    copy is deselected, which halves a long crawl without losing what it checks."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("one_backend")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        wanted = marker.args[0] if marker is not None else None
        (dropped if wanted and backend and backend != wanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _migrated(backend: str, folder: Path, postgres_databases: PostgresDatabases) -> Engine:
    """A new database of the backend, built by running the real migrations."""
    engine = create_db_engine(_new_database_url(backend, folder, postgres_databases))
    upgrade_engine(engine)
    return engine


@pytest.fixture(scope="session")
def engine(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Iterator[Engine]:
    engine = _migrated(backend, tmp_path_factory.mktemp(backend), postgres_databases)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_engine(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Iterator[Engine]:
    """A second database with the demo's reference data committed once (agencies,
    deed types, benefits, campaigns: ``load_demo`` without accounts), for test
    files marked ``demo_data``. Their own ``load_demo`` calls then only add what
    they ask for beyond it (accounts, the demo people), as it does on a real
    instance loaded twice."""
    engine = _migrated(backend, tmp_path_factory.mktemp(f"{backend}-demo"), postgres_databases)
    with Database(engine).write_session() as session:
        load_demo(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def db_engine(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    """The database this test runs in: the demo's for files marked ``demo_data``."""
    if request.node.get_closest_marker("demo_data"):
        demo: Engine = request.getfixturevalue("demo_engine")
        return demo
    return engine


@pytest.fixture
def connection(db_engine: Engine) -> Iterator[Connection]:
    with db_engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def database(db_engine: Engine, connection: Connection) -> Database:
    return Database(db_engine, connection=connection)


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.session() as session:
        yield session


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path, postgres_databases: PostgresDatabases) -> str:
    """An empty database (no schema) that this test alone uses."""
    return _new_database_url(backend, tmp_path, postgres_databases)


def demo_env(database_url: str, instance_dir: Path, *, accounts: bool = True) -> dict[str, str]:
    """The settings a demo template is loaded with: the test pepper and secret key;
    ``DCATALOG_DEMO=true`` (the demo's staff accounts and people) unless ``accounts``
    is false."""
    env = {
        "DCATALOG_DATABASE_URL": database_url,
        "DCATALOG_INSTANCE_DIR": str(instance_dir),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
    }
    if accounts:
        env["DCATALOG_DEMO"] = "true"
    return env


def serve_env(database_url: str, instance_dir: Path) -> dict[str, str]:
    """The demo's settings (``demo_env``), for ``dcatalog serve`` with one worker."""
    return {**demo_env(database_url, instance_dir), "DCATALOG_WORKERS": "1"}


@dataclass(frozen=True)
class DemoTemplate:
    database_url: str
    instance_dir: Path


@pytest.fixture(scope="session")
def demo_template(
    tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases
) -> Callable[..., DemoTemplate]:
    """``dcatalog demo`` (the real command, settings of ``demo_env``) once per backend
    and test process, into a database that tests then get a copy of with
    ``copy_demo`` (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on
    PostgreSQL), the instance folder beside it: for tests whose subject comes after
    the demo is loaded (a browser story, an import, a command), the same demo
    without loading it again each time. A test of ``dcatalog demo`` itself runs it."""
    made: dict[tuple[str, bool], DemoTemplate] = {}

    def template(backend: str, *, accounts: bool = True) -> DemoTemplate:
        if (backend, accounts) not in made:
            folder = tmp_path_factory.mktemp(f"demo-{backend}")
            url = _new_database_url(backend, folder, postgres_databases)
            loaded = run_cli("demo", env=demo_env(url, folder / "var", accounts=accounts))
            assert loaded.returncode == 0, loaded.stderr
            made[backend, accounts] = DemoTemplate(url, folder / "var")
        return made[backend, accounts]

    return template


def copy_demo(template: DemoTemplate, database_url: str, instance_dir: Path) -> None:
    """Make ``database_url`` (and ``instance_dir``) a copy of the demo template."""
    if template.instance_dir.exists():  # keys and files the demo left there, if any
        shutil.copytree(template.instance_dir, instance_dir)
    source, target = make_url(template.database_url), make_url(database_url)
    if source.get_backend_name() == "sqlite":
        assert source.database
        assert target.database
        for suffix in ("", "-wal", "-shm"):
            if Path(source.database + suffix).exists():
                shutil.copyfile(source.database + suffix, target.database + suffix)
        return
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target.database}" TEMPLATE "{source.database}"')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        instance_dir=tmp_path / "var",
        pepper=TEST_PEPPER,  # type: ignore[arg-type]
        secret_key=TEST_SECRET_KEY,  # type: ignore[arg-type]
        log_format="json",
        log_level="INFO",
        allowed_hosts="testserver",  # TestClient's host
        jobs_queue="immediate",  # a job runs in the request that starts it
    )


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database=database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
