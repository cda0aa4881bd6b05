"""The CLI for real: ``python -m dcatalog`` in a subprocess, on both databases."""

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dcatalog.accounts.models import StaffAccount
from dcatalog.agencies.models import Agency
from dcatalog.catalog.models import DeedTypeVersion
from dcatalog.db import create_db_engine
from dcatalog.schema import head_revisions
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY, DemoTemplate, copy_demo
from tests.helpers import run_cli


@pytest.fixture
def env(fresh_database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DCATALOG_DATABASE_URL": fresh_database_url,
        "DCATALOG_INSTANCE_DIR": str(tmp_path / "var"),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
        "DCATALOG_LOG_LEVEL": "WARNING",
    }


def test_help_lists_every_command() -> None:
    result = run_cli("--help", env={})
    assert result.returncode == 0
    for command in ("serve", "migrate", "demo", "version", "config"):
        assert command in result.stdout


def test_version() -> None:
    result = run_cli("version", env={}, new_process=True)  # the entry point itself
    assert result.returncode == 0
    assert result.stdout.strip() == "dcatalog 0.1.0"


def test_migrate_is_idempotent(env: dict[str, str]) -> None:
    first = run_cli("migrate", env=env)
    assert first.returncode == 0, first.stderr
    head = ", ".join(sorted(head_revisions()))
    assert f"from an empty schema to {head}" in first.stdout
    again = run_cli("migrate", env=env)
    assert again.returncode == 0
    assert f"already at {head}" in again.stdout


def test_demo_loads_once_and_refreshes_after(env: dict[str, str]) -> None:
    first = run_cli("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "7 partner agencies added" in first.stdout
    assert "6 deed types added" in first.stdout
    assert "http://127.0.0.1:8000" in first.stdout
    assert "DCATALOG_DEMO=true" in first.stdout  # no known passwords unless asked for
    again = run_cli("demo", env={**env, "DCATALOG_DEMO": "true"})
    assert again.returncode == 0
    assert "0 partner agencies added, 0 refreshed; 0 deed types added, 0 updated" in again.stdout
    assert "office@pmdu.demo" in again.stdout
    engine = create_db_engine(env["DCATALOG_DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Agency)) == 7
        assert conn.scalar(select(func.count()).select_from(DeedTypeVersion)) == 6
        assert conn.scalar(select(func.count()).select_from(StaffAccount)) == 8
    engine.dispose()


def test_admin_create_and_keys(
    env: dict[str, str], backend: str, demo_template: Callable[..., DemoTemplate]
) -> None:
    # The demo's agencies (a copy of ``dcatalog demo``, as it loads them without accounts).
    template = demo_template(backend, accounts=False)
    copy_demo(template, env["DCATALOG_DATABASE_URL"], Path(env["DCATALOG_INSTANCE_DIR"]))
    created = run_cli(
        "admin",
        "create",
        "--email",
        "Somchai@PMDU.go.th",
        "--name",
        "Somchai",
        "--password",
        "a long enough password",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert "somchai@pmdu.go.th" in created.stdout
    weak = run_cli(
        "admin", "create", "--email", "x@pmdu.go.th", "--name", "X", "--password", "short", env=env
    )
    assert weak.returncode == 1
    assert "12" in weak.stderr
    key = run_cli(
        "keys",
        "create",
        "--agency",
        "kys",
        "--scope",
        "deeds:write",
        "--scope",
        "eligibility:read",
        env=env,
    )
    assert key.returncode == 0, key.stderr
    plain = key.stdout.strip().splitlines()[-1]
    assert plain.startswith("dck_")
    prefix = plain.split("_")[1]
    refused = run_cli("keys", "create", "--agency", "kys", "--scope", "catalog:approve", env=env)
    assert refused.returncode == 1
    assert "catalog:approve" in refused.stderr
    revoked = run_cli("keys", "revoke", f"dck_{prefix}", "--reason", "test", env=env)
    assert revoked.returncode == 0
    assert "revoked" in revoked.stdout


def test_serve_refuses_an_unmigrated_database(env: dict[str, str]) -> None:
    result = run_cli("serve", "--port", "1", env=env)
    assert result.returncode == 1
    assert "dcatalog migrate" in result.stderr


def test_bad_configuration_exits_2_naming_the_variable(env: dict[str, str]) -> None:
    result = run_cli("migrate", env={**env, "DCATALOG_ACADEMIC_YEAR_START": "02-30"})
    assert result.returncode == 2
    assert "DCATALOG_ACADEMIC_YEAR_START" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_exits_1_with_one_clear_line(tmp_path: Path) -> None:
    env = {
        "DCATALOG_DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:1/none?connect_timeout=2",
        "DCATALOG_INSTANCE_DIR": str(tmp_path),
    }
    result = run_cli("migrate", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("database error:")
    assert "s3cret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_postgresql_without_a_pepper_is_refused(tmp_path: Path) -> None:
    env = {
        "DCATALOG_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "DCATALOG_INSTANCE_DIR": str(tmp_path),
    }
    result = run_cli("serve", env=env)
    assert result.returncode == 1
    assert "DCATALOG_PEPPER must be set" in result.stderr


def test_config_hides_secrets(env: dict[str, str]) -> None:
    result = run_cli("config", env=env)
    assert result.returncode == 0
    assert "DCATALOG_PEPPER" in result.stdout
    assert TEST_PEPPER not in result.stdout
