"""Report jobs: one eligibility report asked for by an agency, with its progress
and counts. The uploaded list of national IDs is deleted when the job ends; the
result files hold masked IDs only (see dcatalog.reports.service)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from dcatalog.db import Base, UTCDateTime, new_id, str_enum, utcnow


class ReportStatus(StrEnum):
    QUEUED = "queued"  # the upload is saved; the report has not begun
    RUNNING = "running"
    DONE = "done"  # every row answered: the result files are ready
    FAILED = "failed"  # the file could not be read, or the job was interrupted


class ReportJob(Base):
    """An eligibility report of one agency for one of its benefits and an academic
    year. ``as_of`` is the day the rule was evaluated on: the day that makes the
    rule's academic-year conditions count ``academic_year``."""

    __tablename__ = "report_job"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    benefit_code: Mapped[str] = mapped_column(String(64))
    academic_year: Mapped[int] = mapped_column(Integer)  # Buddhist Era
    as_of: Mapped[date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(String(200))  # shown to the citizens in their log
    language: Mapped[str] = mapped_column(String(2))  # of the result's headings and words
    file_name: Mapped[str] = mapped_column(String(255))  # the upload's name, for the pages
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus))
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)  # counted before starting
    met: Mapped[int] = mapped_column(Integer, default=0)
    not_met: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)  # no consent, or a minor's
    invalid: Mapped[int] = mapped_column(Integer, default=0)  # not a national ID
    failure: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(300))  # the actor's label
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The process running the job ("host:pid") and its last sign of life, as for
    # import jobs: how a job left behind by a process that died is found.
    runner: Mapped[str] = mapped_column(String(300), default="")
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the downloads are called (the files are stored under the job's id).
    result_name: Mapped[str] = mapped_column(String(255), default="")
