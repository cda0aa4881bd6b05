from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from dcatalog.db import Base, UTCDateTime, new_id, str_enum, utcnow

# What one deed may hold: the API's schema, the file import and the service check
# the same limits (the service is where they are enforced for both).
QUANTITY_DIGITS = 12  # in all, of which
QUANTITY_DECIMALS = 2
EVIDENCE_MAX_CHARS = 2000
EXTERNAL_ID_MAX_CHARS = 100


class DeedStatus(StrEnum):
    PENDING = "pending"  # waiting for a verifier (policy, or a possible duplicate)
    VERIFIED = "verified"  # counts: credits fixed, tallies updated
    REJECTED = "rejected"  # never counted; the reason is shown to the citizen
    REVOKED = "revoked"  # counted once, taken back with a reason (a correction)


class Deed(Base):
    """One good deed of one citizen. Never edited in place: a correction revokes
    it (with a reason) and records anew. ``citizen_key`` is the keyed hash of the
    national ID (the distribution column at national scale)."""

    __tablename__ = "deed"
    __table_args__ = (
        UniqueConstraint("agency_id", "external_id"),
        Index("ix_deed_citizen_type_day", "citizen_key", "deed_type_code", "occurred_on"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    citizen_key: Mapped[str] = mapped_column(String(64))
    id_last4: Mapped[str] = mapped_column(String(4))  # the only part of the ID kept, for display
    deed_type_code: Mapped[str] = mapped_column(ForeignKey("deed_type.code"))
    deed_type_version: Mapped[int] = mapped_column(Integer)
    virtue_code: Mapped[str] = mapped_column(String(32))  # fixed by the version
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    occurred_on: Mapped[date] = mapped_column(Date)
    province: Mapped[str] = mapped_column(String(5))
    evidence: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DeedStatus] = mapped_column(str_enum(DeedStatus), index=True)
    credits: Mapped[int | None] = mapped_column(Integer)  # fixed when verified
    status_reason: Mapped[str] = mapped_column(Text, default="")
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    recorded_by: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Tally(Base):
    """Running totals of verified deeds: per citizen, per subject (a deed type or a
    virtue) and per period. Kept current in the transaction that verifies or
    revokes a deed; ``dcatalog tallies rebuild`` recomputes them from the deeds."""

    __tablename__ = "tally"

    citizen_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(80), primary_key=True)  # type:<code> | virtue:<code>
    period: Mapped[str] = mapped_column(
        String(32), primary_key=True
    )  # lifetime | fiscal_year:2570 …
    count: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    credits: Mapped[int] = mapped_column(Integer, default=0)
