"""Benefits: what partners give for good deeds, reached by thresholds (credits are
never spent). A benefit's rule is data (see dcatalog.benefits.rules)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dcatalog.agencies.models import Agency
from dcatalog.db import Base, Bilingual, UTCDateTime, new_id, str_enum, utcnow
from dcatalog.review import Reviewed


class BenefitKind(StrEnum):
    THANKS = "thanks"  # a thank-you, nothing to claim
    RECOGNITION = "recognition"  # an honour (a pin, a certificate), e.g. a milestone
    PRIVILEGE = "privilege"  # something given: a discount, a fast lane
    ELIGIBILITY = "eligibility"  # an attestation a partner checks, e.g. loan renewal


class Benefit(Reviewed, Bilingual, Base):
    __tablename__ = "benefit"
    __table_args__ = (
        CheckConstraint("code = lower(code)", name="code_lowercase"),
        CheckConstraint("quota IS NULL OR quota > 0", name="quota_positive"),
        CheckConstraint("per_citizen_limit > 0", name="limit_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    kind: Mapped[BenefitKind] = mapped_column(str_enum(BenefitKind))
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_th: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # What the citizen reads when they reach it: thanks come first.
    thanks_th: Mapped[str] = mapped_column(Text, default="")
    thanks_en: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    quota: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    per_citizen_limit: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # A milestone: awarded by itself the moment a verified deed makes a citizen
    # meet the rule, and withdrawn (with the reason) if that deed is revoked.
    awarded_automatically: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")

    def open_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    @property
    def sort_key(self) -> tuple[str | int, ...]:
        """The one order of benefits on every list: by code, with the numbers in it
        read as numbers, so a ladder of milestones (``redcross.donor_16``, ``_72``,
        ``_108``) runs 16, 72, 108 and not 108, 16, 72 as text would."""
        return code_sort_key(self.code)


_DIGITS = re.compile(r"(\d+)")


def code_sort_key(code: str) -> tuple[str | int, ...]:
    """Text and numbers alternate (text at even places, numbers at odd ones), so two
    keys always compare like with like."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(code)))


class ClaimStatus(StrEnum):
    ISSUED = "issued"  # the citizen holds a code to show
    REDEEMED = "redeemed"  # the partner has used it: once, never again


class Claim(Base):
    """A citizen's claim of a benefit: a single-use redemption code (shown as a QR
    code) that the partner redeems. It uses up the benefit's quota, never credits.
    Only a digest of the code is kept, like any bearer secret."""

    __tablename__ = "claim"
    __table_args__ = (Index("ix_claim_benefit_citizen", "benefit_id", "citizen_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    benefit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("benefit.id"))
    citizen_key: Mapped[str] = mapped_column(String(64))
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_by: Mapped[str | None] = mapped_column(String(300))

    benefit: Mapped[Benefit] = relationship(lazy="joined")


class AwardStatus(StrEnum):
    AWARDED = "awarded"
    WITHDRAWN = "withdrawn"  # a deed behind it was revoked: the reason is kept


class Award(Base):
    """A milestone a citizen reached, awarded automatically in the transaction
    that verified the deed (``deed_id``) that made the rule true. At most one
    award in force per citizen and benefit; a withdrawn one stays, with its
    reason, and reaching the milestone again makes a new award.

    For the partner's ceremony the citizen may agree to be listed, under the name
    they choose to give (``ceremony_name``; nothing else about them is shown).
    """

    __tablename__ = "award"
    __table_args__ = (
        Index(
            "ux_award_in_force",
            "benefit_id",
            "citizen_key",
            unique=True,
            sqlite_where=text("status = 'awarded'"),
            postgresql_where=text("status = 'awarded'"),
        ),
        Index("ix_award_citizen", "citizen_key"),
        Index("ix_award_benefit_reached", "benefit_id", "reached_on"),
        # The public thank-you page reads the newest shown ones (dcatalog.campaigns.thank_you).
        Index(
            "ix_award_public",
            "public_since",
            sqlite_where=text("public_name IS NOT NULL"),
            postgresql_where=text("public_name IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    benefit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("benefit.id"))
    citizen_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[AwardStatus] = mapped_column(str_enum(AwardStatus))
    deed_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the deed that reached it
    reached_on: Mapped[date] = mapped_column(Date)  # the day that deed happened
    province: Mapped[str] = mapped_column(String(5))  # where: ceremonies are regional
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")
    ceremony_name: Mapped[str | None] = mapped_column(String(200))  # None: not listed
    ceremony_consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_by: Mapped[str | None] = mapped_column(String(300))
    credential_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # its signed credential
    # Shown on the public thank-you page only if the citizen chose it, under the name
    # they chose (None: not shown, the default); see dcatalog.campaigns.thank_you.
    public_name: Mapped[str | None] = mapped_column(String(200))
    public_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    benefit: Mapped[Benefit] = relationship(lazy="joined")
