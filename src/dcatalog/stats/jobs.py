"""Refreshing the dashboard's snapshot as a job (kind ``stats.refresh``).

The workers refresh it every ``stats_refresh_minutes`` by themselves (the
queue's periodic work: no crontab), and the dashboard's button starts one at
once. One refresh runs at a time over every worker (the kind's cap of one, and
on PostgreSQL the snapshot's advisory lock as well). Each refresh also has its
``stats_refresh`` row, which the dashboard shows as "running" and then as the
figures' freshness.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from dcatalog import jobs
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.db import Database, transaction, utcnow
from dcatalog.problems import Forbidden
from dcatalog.stats import snapshot
from dcatalog.stats.models import RefreshStatus, StatsRefresh
from dcatalog.stats.snapshot import STALE_AFTER

KIND = "stats.refresh"
PERIODIC = "system:periodic"  # who starts the refreshes of the schedule


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
    database: Database, queue: jobs.Jobs, actor: Actor, *, everything: bool
) -> uuid.UUID | None:
    """Start a refresh; None when one is running already. Returns its refresh id."""
    if not actor.can(Scope.AUDIT_READ):
        raise Forbidden("Refreshing the dashboard needs the permission audit:read.")
    if running(database) is not None:
        return None
    refresh_id = snapshot.begin(database, actor.label)
    params = {"refresh_id": str(refresh_id), "everything": everything}
    with database.write_session() as session, transaction(session):
        job_id = jobs.create(session, KIND, created_by=actor.label, params=params).id
    queue.wake(job_id)
    return refresh_id


def run(context: jobs.Context) -> dict[str, Any]:
    """The job: one refresh (its failure is also recorded on its row)."""
    given = context.params.get("refresh_id")
    summary = snapshot.refresh(
        context.database,
        context.claimed.created_by,
        everything=bool(context.params.get("everything")),
        refresh_id=uuid.UUID(given) if given else None,
    )
    return {
        "refreshed": summary.refreshed,
        "removed": summary.removed,
        "cells": summary.cells,
        "skipped": summary.skipped,
    }


def every(settings: Any) -> timedelta | None:
    minutes = int(settings.stats_refresh_minutes)
    return timedelta(minutes=minutes) if minutes else None


JOB_KIND = jobs.JobKind(
    KIND,
    run,
    at_once=1,
    keep=timedelta(days=1),
    every=every,
    unexpected="The refresh of the figures failed; the dashboard shows the last good ones.",
)
