"""Refreshing the snapshot in the background, for the dashboard's button.

Operators run ``dcatalog stats refresh`` from a timer (see docs/dashboard.md);
the button on the dashboard starts the same refresh in a thread of the web
process and the page shows it running. Only one runs at a time: a refresh row
still running (and younger than ``STALE_AFTER``) means no second one starts, and
on PostgreSQL an advisory lock makes sure of it across processes.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.db import Database, utcnow
from dcatalog.jobs.legacy import Background
from dcatalog.logs import get_logger
from dcatalog.problems import Forbidden
from dcatalog.stats import snapshot
from dcatalog.stats.models import RefreshStatus, StatsRefresh
from dcatalog.stats.snapshot import STALE_AFTER

log = get_logger(__name__)


def running(database: Database) -> StatsRefresh | None:
    with database.session() as session:
        return session.scalars(
            select(StatsRefresh)
            .where(
                StatsRefresh.status == RefreshStatus.RUNNING,
                StatsRefresh.started_at > utcnow() - STALE_AFTER,
            )
            .order_by(StatsRefresh.started_at.desc())
            .limit(1)
        ).first()


def start(
    database: Database, actor: Actor, *, everything: bool, background: Background
) -> uuid.UUID | None:
    """Start a refresh in the background; None when one is running already."""
    if not actor.can(Scope.AUDIT_READ):
        raise Forbidden("Refreshing the dashboard needs the permission audit:read.")
    if running(database) is not None:
        return None
    refresh_id = snapshot.begin(database, actor.label)
    background(lambda: run(database, refresh_id, everything=everything))
    return refresh_id


def run(database: Database, refresh_id: uuid.UUID, *, everything: bool) -> None:
    """The background work (its failure is recorded on its row, never raised)."""
    try:
        snapshot.refresh(database, "", everything=everything, refresh_id=refresh_id)
    except Exception:  # recorded by snapshot.refresh; a thread has no one to tell
        log.warning("dashboard refresh failed", refresh=str(refresh_id))
