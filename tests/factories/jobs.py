"""Jobs, their files and the job clock, made through ``dcatalog.jobs`` (a job of
the progress report's kind, the one kind every process registers)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dcatalog import jobs
from dcatalog.jobs.models import FileChunk, JobClock
from dcatalog.stats import report_jobs
from tests.factories.common import unique


def make_job(session: Session, **options: object) -> jobs.Job:
    params = {"period": "fy:2569", "lang": "th"}
    job = jobs.create(
        session,
        str(options.pop("kind", report_jobs.KIND)),
        created_by=str(options.pop("created_by", f"staff:{unique('jobs')}@test")),
        params=params,
        **options,  # type: ignore[arg-type]
    )
    session.commit()
    return job


def make_stored_file(session: Session, data: bytes = b"a file\n") -> jobs.StoredFile:
    stored = jobs.files.store(session, "file.txt", "text/plain", data, job_id=make_job(session).id)
    session.commit()
    return stored


def make_file_chunk(session: Session) -> FileChunk:
    stored = make_stored_file(session, b"one chunk")
    return session.get_one(FileChunk, (stored.id, 0))


def make_job_clock(session: Session) -> JobClock:
    clock = session.get(JobClock, "tick") or JobClock(name="tick", last_slot="")
    session.add(clock)
    session.commit()
    return clock
