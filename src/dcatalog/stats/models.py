"""The tables behind the dashboard (see docs/dashboard.md).

- ``stats_rollup``: running totals of verified deeds per month × province ×
  virtue × deed type × agency, kept current in the transaction that verifies or
  revokes a deed (like the tallies); exact, rebuildable from the deeds.
- ``stats_cell``: the snapshot every dashboard view reads: each combination of a
  period (fiscal year, fiscal quarter, month) and of the filters (virtue, deed
  type, agency, province, each possibly "all", stored as ``''``) with its
  figures as published (perturbed by its cell key, or marked small), computed together
  by ``stats refresh`` from one consistent read of the deeds.
- ``stats_refresh``: each refresh, its time (the figures' freshness) and what it did.
- ``programme_target``: the office's yearly targets, one per headline figure.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Date, Enum, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from dcatalog.db import Base, UTCDateTime, new_id, str_enum, utcnow


class StatsRollup(Base):
    """Verified deeds of one month, province, virtue, deed type and recording
    agency. ``deeds`` goes down when a deed is revoked; ``changes`` only ever goes
    up (one per deed counted or taken out): a refresh compares it with what it saw
    last time to know which fiscal years changed."""

    __tablename__ = "stats_rollup"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    province: Mapped[str] = mapped_column(String(5), primary_key=True)
    virtue_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    deed_type_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    deeds: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal(0))
    credits: Mapped[int] = mapped_column(BigInteger, default=0)
    changes: Mapped[int] = mapped_column(BigInteger, default=0)


class CellStatus(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # fewer than 10 citizens: shown as "<10"
    # Hidden so that a small cell could not be worked out: the method before cell-key
    # perturbation (migration 0024). No refresh writes it any more; a cell refreshed
    # before the upgrade may still hold it until the next refresh.
    COMPLEMENTARY = "complementary"


def _claims_status() -> Enum:
    """The same values as ``status``, under a constraint name of its own."""
    return Enum(
        CellStatus,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in CellStatus),
        values_callable=lambda members: [member.value for member in members],
        name="claims_cellstatus",
    )


class StatsCell(Base):
    """One cell of the dashboard's snapshot. ``''`` in a dimension means all of it.
    Claims have no virtue, deed type or province: they are in the cells whose
    virtue, deed type and province are all ``''``."""

    __tablename__ = "stats_cell"

    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # fy:2570 q:2570-1 m:2026-10
    virtue_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    deed_type_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), primary_key=True)  # the agency's code
    province: Mapped[str] = mapped_column(String(5), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)  # BE: what a refresh replaces
    deeds: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal(0))
    hours: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal(0))
    donations: Mapped[int] = mapped_column(BigInteger, default=0)
    credits: Mapped[int] = mapped_column(BigInteger, default=0)
    citizens: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[CellStatus] = mapped_column(str_enum(CellStatus), default=CellStatus.SHOWN)
    claims: Mapped[int] = mapped_column(BigInteger, default=0)
    claimants: Mapped[int] = mapped_column(BigInteger, default=0)
    claims_status: Mapped[CellStatus] = mapped_column(_claims_status(), default=CellStatus.SHOWN)
    # The cell keys the figures were perturbed with (stats.perturbation): never shown.
    cell_key: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    claims_key: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class RefreshStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class StatsRefresh(Base):
    """One refresh of the snapshot. ``as_of`` is when the deeds were read: the
    dashboard shows it as the figures' freshness. ``changes`` remembers, per fiscal
    year, the rollup's change counter seen then ({"2570": 123, …})."""

    __tablename__ = "stats_refresh"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    status: Mapped[RefreshStatus] = mapped_column(str_enum(RefreshStatus))
    started_by: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fiscal_years: Mapped[str] = mapped_column(Text, default="")  # refreshed, e.g. "2569 2570"
    changes: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    cells: Mapped[int] = mapped_column(Integer, default=0)
    milliseconds: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str] = mapped_column(Text, default="")


class ProgrammeTarget(Base):
    """A yearly target the programme office set for one headline figure
    (``indicator``: ``deeds``, ``unit:hour``, ``donations``, ``citizens``,
    ``credits``, ``claims``), which the progress report measures the year against."""

    __tablename__ = "programme_target"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)  # BE
    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    set_by: Mapped[str] = mapped_column(String(300))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
