"""What every kind's pages share when they show an agency's jobs: a job's progress
as a person reads it, and finding the agency's own jobs (another agency's are
as if they did not exist)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select

from dcatalog.db import Database
from dcatalog.jobs.models import ACTIVE, Job, JobStatus


class ShownProgress:
    """``active`` and ``percent`` of a job's view, from its ``status``, ``rows_done``
    and ``rows_total`` (a dataclass's fields)."""

    status: JobStatus
    rows_done: int
    rows_total: int | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.status is JobStatus.DONE else None
        return min(100, self.rows_done * 100 // self.rows_total)


def find(
    database: Database, job_id: uuid.UUID, kind: str, sees: Callable[[uuid.UUID | None], bool]
) -> Job | None:
    """The job of ``kind`` if its agency is one ``sees`` (an actor's ``acts_for``)."""
    with database.session() as session:
        job = session.get(Job, job_id)
    if job is None or job.kind != kind or not sees(job.agency_id):
        return None
    return job


def latest(database: Database, kind: str, agency_id: uuid.UUID | None, limit: int) -> list[Job]:
    """The agency's latest jobs of ``kind``, newest first."""
    query = (
        select(Job)
        .where(Job.kind == kind, Job.agency_id == agency_id)
        .order_by(Job.id.desc())
        .limit(limit)
    )
    with database.session() as session:
        return list(session.scalars(query))
