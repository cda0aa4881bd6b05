"""The tables of the job system: what people see of a job, the files jobs keep,
and the one-row clock that makes each minute's periodic work run once.

- ``job``: one row per job of any kind (a progress report, an import, …): its
  status, progress, result and failure, who asked, and which attempt runs it.
  The queue (huey) only carries a job's id as a wake-up; this row is the truth.
- ``stored_file`` and ``file_chunk``: files in the database (uploads, result
  files), in chunks of ``CHUNK_BYTES``, so every app and worker process on any
  host serves the same file; each file has its expiry.
- ``job_clock``: the last minute whose periodic work was claimed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dcatalog.db import Base, UTCDateTime, new_id, str_enum, utcnow

CHUNK_BYTES = 1024 * 1024  # one row of file_chunk: small enough for any driver's buffers


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for a worker (also after a runner died, to be run again)
    RUNNING = "running"  # claimed by ``runner``, attempt ``attempt``
    DONE = "done"  # see ``result``
    FAILED = "failed"  # see ``failure``: the kind's own words, or "interrupted" after its tries


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(Base):
    """A unit of background work and what people see of it. Every write by a runner
    names the attempt it claimed (``attempt``), so a runner wrongly presumed dead
    finds nothing to write once its job was taken over."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_kind", "status", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))  # a registered ``JobKind``'s name
    # The agency it belongs to (its staff see it, others get 404); none for the office's.
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(300))  # the actor's label
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus), default=JobStatus.QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the kind's input
    attempt: Mapped[int] = mapped_column(Integer, default=0)  # claims so far
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    step: Mapped[str] = mapped_column(String(32), default="")  # the kind's word for where it is
    done: Mapped[int] = mapped_column(BigInteger, default=0)  # units done (rows, steps)
    total: Mapped[int | None] = mapped_column(BigInteger)  # of how many, when known
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the kind's counters
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # where to resume
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # incl. file ids
    failure: Mapped[str] = mapped_column(Text, default="")
    runner: Mapped[str] = mapped_column(String(300), default="")  # "host:pid" of the attempt
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its last sign of life
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class StoredFile(Base):
    """A file kept in the database (its bytes in ``file_chunk``), with its expiry."""

    __tablename__ = "stored_file"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("job.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))  # what a download is called
    media_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")  # of the bytes as given
    # Its chunks are sealed (AES-GCM, a key derived from the pepper, bound to the file
    # and the chunk): an upload that holds national IDs in clear is stored so.
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    # An input of its job, deleted when the job ends, whatever the end (an upload of
    # national IDs must not outlive the work it was uploaded for).
    is_input: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class FileChunk(Base):
    __tablename__ = "file_chunk"

    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class JobClock(Base):
    """The last minute (``YYYY-MM-DDTHH:MM`` UTC) whose periodic work a process claimed:
    every consumer wakes each minute, and the one whose update wins does the work."""

    __tablename__ = "job_clock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_slot: Mapped[str] = mapped_column(String(16), default="")
    detail: Mapped[str] = mapped_column(Text, default="")  # what the last tick did
