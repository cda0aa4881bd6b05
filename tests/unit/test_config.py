from pathlib import Path

import pytest
from pydantic import ValidationError

from dcatalog.config import Settings


def test_embedded_sqlite_in_the_instance_folder_is_the_default(tmp_path: Path) -> None:
    settings = Settings(instance_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'dcatalog.sqlite3'}"
    assert settings.is_sqlite
    assert settings.academic_year_start_month_day == (5, 16)


def test_settings_come_from_dcatalog_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCATALOG_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("DCATALOG_ACADEMIC_YEAR_START", "06-01")
    monkeypatch.setenv("DCATALOG_DEMO", "true")
    settings = Settings()
    assert not settings.is_sqlite
    assert settings.academic_year_start_month_day == (6, 1)
    assert settings.demo is True


@pytest.mark.parametrize("value", ["5-16", "13-01", "02-29", "02-30", "may"])
def test_academic_year_start_must_be_a_day_of_every_year(value: str) -> None:
    with pytest.raises(ValidationError, match="academic_year_start"):
        Settings(academic_year_start=value)


def test_short_peppers_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(pepper="short")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["5", "five per minute", "5/fortnight", ""])
def test_rate_limits_must_be_rates(value: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit_sign_in_client"):
        Settings(rate_limit_sign_in_client=value)


@pytest.mark.parametrize("value", ["", "memcached://127.0.0.1", "127.0.0.1:6379"])
def test_throttling_counts_in_memory_or_redis(value: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit_storage"):
        Settings(rate_limit_storage=value)
    assert Settings(rate_limit_storage="redis://127.0.0.1:6379/0").rate_limit_storage
