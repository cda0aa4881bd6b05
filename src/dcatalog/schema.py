"""Applying and checking migrations (Alembic), used by the CLI, /readyz and tests."""

from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine


def ours(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic compares only our tables: huey's (``huey_*``, made by migration 0020
    with huey's own DDL) are not described by our models."""
    return not (type_ == "table" and name is not None and name.startswith("huey_"))


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "dcatalog:migrations")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(connection: Connection, revision: str = "head") -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        upgrade(connection, revision)


def current_revisions(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def is_current(connection: Connection) -> bool:
    return current_revisions(connection) == head_revisions()
