"""What citizens decide about their record (the citizen themselves is in
``identity.models``).

Consent, the
access log, disputes and erasure requests are kept with their times so the
citizen (and an auditor) can see the whole history, not only the present state.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dcatalog.agencies.models import Agency
from dcatalog.db import Base, UTCDateTime, new_id, str_enum, utcnow


class Consent(Base):
    """A citizen lets one agency read part of their record, for one purpose.
    ``scope`` lists subjects as tallies name them (``type:<code>`` or
    ``virtue:<code>``). Withdrawing sets ``withdrawn_at``; a new grant is a new
    row, so the history stays."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_citizen_agency", "citizen_key", "agency_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    citizen_key: Mapped[str] = mapped_column(ForeignKey("citizen.citizen_key"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    purpose: Mapped[str] = mapped_column(String(200))
    scope: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Health-related deed types (PDPA s.26) are read only when the citizen ticked
    # the separate, explicit box for them.
    includes_health: Mapped[bool] = mapped_column(default=False)
    granted_by: Mapped[str] = mapped_column(String(80))  # "self" or "guardian:<key…>"
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship(lazy="joined")


class GuardianConsent(Base):
    """A parent or guardian's consent that partners may read a minor's record
    (needed as well as the minor's own consent, until the minor turns 20)."""

    __tablename__ = "guardian_consent"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    citizen_key: Mapped[str] = mapped_column(ForeignKey("citizen.citizen_key"), index=True)
    guardian_key: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccessOutcome(StrEnum):
    ALLOWED = "allowed"
    REFUSED = "refused"  # no consent: shown to the citizen too


class AccessLog(Base):
    """Every read of a citizen's record by anyone but the citizen."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_citizen_at", "citizen_key", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    citizen_key: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    actor: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(200))
    what: Mapped[str] = mapped_column(Text)
    outcome: Mapped[AccessOutcome] = mapped_column(str_enum(AccessOutcome))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency | None] = relationship(lazy="joined")


class DisputeStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the agency agreed and corrected the record
    DISMISSED = "dismissed"  # the agency kept the record, with its reason


class Dispute(Base):
    """A citizen says a record is wrong; the recording agency answers."""

    __tablename__ = "dispute"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    deed_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deed.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    citizen_key: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(str_enum(DisputeStatus))
    answer: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ErasureStatus(StrEnum):
    REQUESTED = "requested"
    DONE = "done"


class ErasureRequest(Base):
    """A citizen asks to be forgotten. The programme office carries it out: deeds
    are detached from the citizen key (national figures stay right), sessions,
    consents and the access log of that key are deleted. This row keeps only a
    one-way reference (a hash of the key) to prove it was done."""

    __tablename__ = "erasure_request"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    citizen_key: Mapped[str | None] = mapped_column(String(64), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    status: Mapped[ErasureStatus] = mapped_column(str_enum(ErasureStatus))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(300))
