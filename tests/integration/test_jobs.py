"""The job system (dcatalog.jobs) on SQLite and PostgreSQL: a job is claimed once,
caps hold one agency back without stopping the others, a run that lost its job
writes nothing, the jobs of dead workers run again (then are given up), files
live in the database in chunks and go with their job, one process a minute does
the periodic work; and real huey consumers run what another process woke."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from dcatalog import jobs
from dcatalog.config import Settings
from dcatalog.db import Database, create_db_engine, utcnow
from dcatalog.jobs import kinds, record
from dcatalog.jobs.models import CHUNK_BYTES, FileChunk, Job, JobStatus, StoredFile
from dcatalog.jobs.queue import InProcess, Jobs
from dcatalog.schema import upgrade_engine
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY
from tests.factories import new_agency

CAPS = record.Caps(overall=3, per_agency=1)
WEEK = timedelta(days=7)


def _echo(context: jobs.Context) -> dict[str, Any]:
    """A test kind: reports two steps, keeps a file, answers with its input."""
    context.progress(1, 2, "first")
    context.progress(2, 2, "second")
    with context.database.write_session() as session:
        file_id = context.keep_file(session, "echo.txt", "text/plain", b"echo")
        session.commit()
    return {"echo": context.params.get("say", ""), "file": str(file_id)}


ECHO = jobs.JobKind("test.echo", _echo, at_once=2)
jobs.register(ECHO)


def _new_job(database: Database, agency_id: uuid.UUID | None = None, **params: Any) -> uuid.UUID:
    with database.write_session() as session:
        job = jobs.create(
            session, ECHO.name, created_by="staff:test", agency_id=agency_id, params=params
        )
        session.commit()
        return job.id


def _job(database: Database, job_id: uuid.UUID) -> Job:
    with database.session() as session:
        return session.get_one(Job, job_id, populate_existing=True)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_job_is_claimed_once_and_a_second_wake_up_does_nothing(database: Database) -> None:
    job_id = _new_job(database)
    first = record.claim(database, job_id, "here:1", CAPS)
    assert first is not None
    assert first.attempt == 1
    assert record.claim(database, job_id, "there:2", CAPS) is None
    job = _job(database, job_id)
    assert (job.status, job.attempt, job.runner) == (JobStatus.RUNNING, 1, "here:1")
    record.finish(database, first, {"ok": True})
    assert record.claim(database, job_id, "there:2", CAPS) is None
    assert _job(database, job_id).status is JobStatus.DONE


def test_an_unknown_kind_is_refused_when_the_job_is_made(database: Database) -> None:
    with database.write_session() as session, pytest.raises(kinds.UnknownKind):
        jobs.create(session, "test.never_registered", created_by="staff:test")


def test_caps_hold_one_agency_back_and_let_another_run(database: Database) -> None:
    with database.write_session() as session:
        busy, other = new_agency(session).id, new_agency(session).id
        session.commit()
    first, second, theirs = (
        _new_job(database, busy),
        _new_job(database, busy),
        _new_job(database, other),
    )
    assert record.claim(database, first, "here:1", CAPS) is not None
    with pytest.raises(record.CapFull, match="agency"):
        record.claim(database, second, "here:1", CAPS)
    assert _job(database, second).status is JobStatus.QUEUED  # it waits; nothing changed
    assert record.claim(database, theirs, "here:1", CAPS) is not None
    # the kind's own cap (2 at once) and the overall cap (3)
    office = _new_job(database)
    with pytest.raises(record.CapFull, match="kind"):
        record.claim(database, office, "here:1", CAPS)
    with pytest.raises(record.CapFull, match="overall"):
        record.claim(database, office, "here:1", record.Caps(overall=2, per_agency=5))


def test_a_run_that_lost_its_job_writes_nothing(database: Database) -> None:
    job_id = _new_job(database)
    old = record.claim(database, job_id, "slow:1", CAPS)
    assert old is not None
    # taken for dead and given to another runner
    with database.write_session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(status=JobStatus.QUEUED))
        session.commit()
    new = record.claim(database, job_id, "fast:2", CAPS)
    assert new is not None
    assert new.attempt == 2
    context = record.Context(database, None, old)
    with pytest.raises(record.Superseded):
        context.progress(99, 100, "late")
    with pytest.raises(record.Superseded):
        record.finish(database, old, {"from": "the old run"})
    job = _job(database, job_id)
    assert (job.status, job.done, job.step, job.result) == (JobStatus.RUNNING, 0, "", {})
    record.finish(database, new, {"from": "the new run"})
    assert _job(database, job_id).result == {"from": "the new run"}


def test_the_job_of_a_dead_worker_runs_again_then_is_given_up(database: Database) -> None:
    job_id = _new_job(database)
    dead_runner = f"{socket.gethostname()}:{_dead_pid()}"
    assert record.claim(database, job_id, dead_runner, CAPS) is not None
    found = record.recover(database, stale_after=WEEK)
    assert found.requeued == [job_id]
    assert job_id in found.queued
    assert _job(database, job_id).status is JobStatus.QUEUED
    # a live runner of this host is left alone
    assert record.claim(database, job_id, f"{socket.gethostname()}:{os.getppid()}", CAPS)
    assert record.recover(database, stale_after=WEEK).requeued == []
    # its attempts used up, the job fails with the kind's words
    with database.write_session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(attempt=3, runner=dead_runner))
        session.commit()
    assert record.recover(database, stale_after=WEEK).failed == [job_id]
    job = _job(database, job_id)
    assert job.status is JobStatus.FAILED
    assert job.failure == kinds.INTERRUPTED
    assert job.expires_at is not None


def test_a_silent_worker_of_another_host_is_taken_for_dead_on_postgresql(
    database: Database,
) -> None:
    job_id = _new_job(database)
    assert record.claim(database, job_id, "another-host:4242", CAPS) is not None
    assert record.recover(database, stale_after=timedelta(minutes=1)).requeued == []
    later = utcnow() + timedelta(minutes=2)
    found = record.recover(database, stale_after=timedelta(minutes=1), now=later)
    # On SQLite (one host) a long write may hold the lock a heartbeat needs: only a
    # gone process counts there.
    assert found.requeued == ([] if database.is_sqlite else [job_id])


def test_files_are_kept_in_chunks_and_go_with_their_job(database: Database) -> None:
    job_id = _new_job(database)
    data = os.urandom(CHUNK_BYTES * 2 + 123)
    with database.write_session() as session:
        stored = jobs.files.store(
            session, "big.bin", "application/octet-stream", data, job_id=job_id
        )
        session.commit()
    with database.session() as session:
        chunks = session.scalars(select(FileChunk.seq).where(FileChunk.file_id == stored.id))
        assert sorted(chunks) == [0, 1, 2]
        assert jobs.files.read(session, stored.id) == data
    download = jobs.files.download(database, stored.id)
    assert (download.name, download.size) == ("big.bin", len(data))
    assert b"".join(download.chunks) == data
    with jobs.files.to_temporary(database, stored.id, ".bin") as copy:
        assert copy.read() == data
    # the job ends and expires: its files go with it
    claimed = record.claim(database, job_id, "here:1", CAPS)
    assert claimed is not None
    record.finish(database, claimed, {})
    assert record.remove_expired(database, utcnow()) == 0  # kept for a day
    assert record.remove_expired(database, utcnow() + timedelta(days=2)) == 1
    with database.session() as session:
        assert session.get(StoredFile, stored.id) is None
        assert session.scalar(select(FileChunk.seq).where(FileChunk.file_id == stored.id)) is None


def test_one_process_a_minute_does_the_periodic_work(
    database: Database, settings: Settings
) -> None:
    first, second = Jobs(database, settings), Jobs(database, settings)
    assert first._claim_minute("2026-12-04T10:00") is True
    assert second._claim_minute("2026-12-04T10:00") is False
    assert second._claim_minute("2026-12-04T10:01") is True
    assert first._claim_minute("2026-12-04T10:00") is False


def test_an_immediate_queue_runs_the_job_when_it_is_woken(
    database: Database, settings: Settings
) -> None:
    queue = Jobs(database, settings)
    assert queue.huey.immediate
    job_id = _new_job(database, say="สวัสดี")
    queue.wake(job_id)
    job = _job(database, job_id)
    assert (job.status, job.done, job.total, job.step) == (JobStatus.DONE, 2, 2, "second")
    assert job.result["echo"] == "สวัสดี"
    with database.session() as session:
        assert jobs.files.read(session, uuid.UUID(job.result["file"])) == b"echo"


def _failing(context: jobs.Context) -> dict[str, Any]:
    if context.params.get("how") == "known":
        raise jobs.JobFailed("The file has no heading row.")
    raise RuntimeError("a bug with 1103700123458 in it")


FAILING = jobs.JobKind("test.failing", _failing, unexpected="Something broke. Try again.")
jobs.register(FAILING)


@pytest.mark.parametrize(
    ("how", "failure"),
    [("known", "The file has no heading row."), ("bug", "Something broke. Try again.")],
)
def test_a_failed_job_says_why_in_the_kinds_words(
    database: Database, settings: Settings, how: str, failure: str
) -> None:
    with database.write_session() as session:
        job_id = jobs.create(session, FAILING.name, created_by="staff:t", params={"how": how}).id
        session.commit()
    Jobs(database, settings).wake(job_id)
    job = _job(database, job_id)
    assert (job.status, job.failure) == (JobStatus.FAILED, failure)


# --- real consumers on a real database ------------------------------------------------


@pytest.fixture
def real_database(fresh_database_url: str) -> Iterator[Database]:
    """A migrated database of the backend that threads and processes share (not the
    test's one connection)."""
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine)
    database = Database(engine)
    yield database
    database.dispose()


def _wait_for(
    database: Database, job_id: uuid.UUID, status: JobStatus, seconds: float = 120
) -> Job:
    deadline = time.monotonic() + seconds
    while True:
        job = _job(database, job_id)
        if job.status is status or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_a_consumer_in_another_process_object_runs_what_was_woken(
    real_database: Database, tmp_path: Path
) -> None:
    settings = Settings(
        instance_dir=tmp_path / "var",
        pepper=TEST_PEPPER,  # type: ignore[arg-type]
        secret_key=TEST_SECRET_KEY,  # type: ignore[arg-type]
    )
    asking, working = Jobs(real_database, settings), Jobs(real_database, settings)
    assert not asking.huey.immediate
    job_ids = [_new_job(real_database, say=str(n)) for n in range(5)]
    for job_id in job_ids:
        asking.wake(job_id)
        asking.wake(job_id)  # a duplicate wake-up does nothing more
    workers = InProcess(working)
    workers.start()
    try:
        done = [_wait_for(real_database, job_id, JobStatus.DONE) for job_id in job_ids]
    finally:
        workers.stop()
    assert [(job.status, job.attempt, job.result["echo"]) for job in done] == [
        (JobStatus.DONE, 1, str(n)) for n in range(5)
    ]


def test_the_workers_refresh_the_dashboard_on_their_own_schedule(
    database: Database, settings: Settings
) -> None:
    """No crontab: the minute's periodic work starts a dashboard refresh every
    ``stats_refresh_minutes``, and makes up one missed while no worker ran."""
    queue = Jobs(database, settings)
    queue.tick()
    with database.session() as session:
        refreshes = list(session.scalars(select(Job).where(Job.kind == "stats.refresh")))
    assert [(job.status, job.created_by) for job in refreshes] == [
        (JobStatus.DONE, record.PERIODIC)
    ]
    assert "cells" in refreshes[0].result
    queue.tick()  # the same minute: already done by someone

    def due(at: datetime, using: Settings = settings) -> list[str]:
        created = record.create_due(database, using, at)
        with database.session() as session:
            return sorted(session.get_one(Job, job_id).kind for job_id in created)

    assert due(utcnow() + timedelta(minutes=5)) == []
    assert due(utcnow() + timedelta(minutes=16)) == ["stats.refresh"]
    off = settings.model_copy(update={"stats_refresh_minutes": 0})
    # A day later only the other periodic kind is due (status lists, hourly).
    assert due(utcnow() + timedelta(days=1), off) == ["credentials.status_lists"]
