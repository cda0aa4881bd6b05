"""Annotated dependencies shared by API routes and pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.jobs import Jobs


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _session(request: Request) -> Iterator[Session]:
    with _database(request).session() as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


DatabaseDep = Annotated[Database, Depends(_database)]
SessionDep = Annotated[Session, Depends(_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]
JobsDep = Annotated[Jobs, Depends(_jobs)]  # the queue: where this process wakes jobs
