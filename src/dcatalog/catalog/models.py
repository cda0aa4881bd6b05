from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dcatalog.agencies.models import Agency
from dcatalog.db import Base, Bilingual, UTCDateTime, new_id, str_enum, utcnow
from dcatalog.review import Reviewed, ReviewStatus


class Virtue(Bilingual, Base):
    """A group of deed types: the four core virtues of the national moral
    promotion plan plus health. The list is data, not code."""

    __tablename__ = "virtue"
    __table_args__ = (CheckConstraint("code = lower(code)", name="code_lowercase"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    description_th: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class VerificationPolicy(StrEnum):
    AGENCY_ATTESTED = "agency_attested"  # the recording agency vouches: verified at once
    VERIFIER = "verifier"  # pending until a verifier of the agency approves it
    SELF_DECLARED = "self_declared"  # declared by the citizen, then verified by an agency


class DeedType(Base):
    """A D-Catalog entry: a stable code and its versions. ``current_version`` is
    the approved version in force (None until the first approval)."""

    __tablename__ = "deed_type"
    __table_args__ = (CheckConstraint("code = lower(code)", name="code_lowercase"),)

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    current_version: Mapped[int | None] = mapped_column(Integer)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[Agency] = relationship(lazy="joined")
    versions: Mapped[list[DeedTypeVersion]] = relationship(
        back_populates="deed_type", order_by="DeedTypeVersion.version", lazy="selectin"
    )

    @property
    def in_force(self) -> DeedTypeVersion | None:
        if self.current_version is None or self.retired_at is not None:
            return None
        return next((v for v in self.versions if v.version == self.current_version), None)

    @property
    def open_version(self) -> DeedTypeVersion | None:
        """The draft or submitted version being worked on, if any (at most one)."""
        return next(
            (v for v in self.versions if v.status in (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED)),
            None,
        )


class DeedTypeVersion(Reviewed, Bilingual, Base):
    """One version of a deed type's rules. Never edited once submitted: a change to
    an approved entry is a new version, and every deed keeps the one it was
    recorded under."""

    __tablename__ = "deed_type_version"
    __table_args__ = (
        UniqueConstraint("deed_type_code", "version"),
        CheckConstraint("credits_per_unit >= 0", name="credits_not_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    deed_type_code: Mapped[str] = mapped_column(ForeignKey("deed_type.code"))
    version: Mapped[int] = mapped_column(Integer)
    virtue_code: Mapped[str] = mapped_column(ForeignKey("virtue.code"))
    unit: Mapped[str] = mapped_column(String(16))
    credits_per_unit: Mapped[int] = mapped_column(Integer)
    verification_policy: Mapped[VerificationPolicy] = mapped_column(str_enum(VerificationPolicy))
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    max_per_record: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    max_per_day: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    min_days_between: Mapped[int | None] = mapped_column(Integer)
    yearly_cap: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    health_related: Mapped[bool] = mapped_column(Boolean, default=False)  # PDPA s.26
    recorders: Mapped[list[str]] = mapped_column(JSON, default=list)
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_th: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    evidence_th: Mapped[str] = mapped_column(Text, default="")
    evidence_en: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deed_type: Mapped[DeedType] = relationship(back_populates="versions")
    virtue: Mapped[Virtue] = relationship(lazy="joined")
