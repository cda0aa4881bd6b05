"""A real server (``dcatalog demo`` then ``dcatalog serve``) and a real headless
Chromium (Debian's /usr/bin/chromium) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.engine import make_url

from tests.conftest import (
    TEST_PEPPER,
    TEST_SECRET_KEY,
    PostgresDatabases,
    _admin_dsn,
    _new_database_url,
)
from tests.helpers import run_cli, serving

CHROMIUM = os.environ.get("DCATALOG_TEST_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium keeps trying to reach Google's services from a machine
# that has no network, and starts slowly or fails.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (./dev test installs Debian's chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _env(database_url: str, instance_dir: Path) -> dict[str, str]:
    return {
        "DCATALOG_DATABASE_URL": database_url,
        "DCATALOG_INSTANCE_DIR": str(instance_dir),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
        "DCATALOG_DEMO": "true",
        "DCATALOG_WORKERS": "1",
    }


@pytest.fixture(scope="session")
def demo_template(
    tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases
) -> Callable[[str], tuple[str, Path]]:
    """``dcatalog demo`` once per backend and test process, into a database that
    each browser test then gets a copy of (a file copy on SQLite, ``CREATE
    DATABASE … TEMPLATE`` on PostgreSQL) with the instance folder beside it: the
    same demo, loaded by the real command, without loading it forty times."""
    made: dict[str, tuple[str, Path]] = {}

    def template(backend: str) -> tuple[str, Path]:
        if backend not in made:
            folder = tmp_path_factory.mktemp(f"demo-{backend}")
            url = _new_database_url(backend, folder, postgres_databases)
            loaded = run_cli("demo", env=_env(url, folder / "var"))
            assert loaded.returncode == 0, loaded.stderr
            made[backend] = (url, folder / "var")
        return made[backend]

    return template


def copy_demo(template: tuple[str, Path], database_url: str, instance_dir: Path) -> None:
    """Make ``database_url`` (and ``instance_dir``) a copy of the demo template."""
    template_url, template_dir = template
    if template_dir.exists():  # keys and files the demo left there, if any
        shutil.copytree(template_dir, instance_dir)
    source, target = make_url(template_url), make_url(database_url)
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
def server(
    fresh_database_url: str,
    tmp_path: Path,
    backend: str,
    demo_template: Callable[[str], tuple[str, Path]],
) -> Iterator[str]:
    env = _env(fresh_database_url, tmp_path / "var")
    copy_demo(demo_template(backend), fresh_database_url, tmp_path / "var")
    with serving(env, tmp_path / "server.log") as base:
        yield base


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="th-TH")
    page = context.new_page()
    yield page
    context.close()
