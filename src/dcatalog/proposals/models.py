from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dcatalog.catalog.models import Virtue
from dcatalog.db import Base, UTCDateTime, new_id, str_enum, utcnow


class ProposalStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # became a draft deed type of a partner
    DECLINED = "declined"  # with a reason shown publicly


class Proposal(Base):
    """A good deed someone thinks the catalog should recognise.

    ``*_ref`` columns identify people for uniqueness and their own view
    (``staff:<email>`` now, a citizen key later) and are never shown; pages
    show only the name they chose.
    """

    __tablename__ = "proposal"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    virtue_code: Mapped[str | None] = mapped_column(ForeignKey("virtue.code"))
    status: Mapped[ProposalStatus] = mapped_column(
        str_enum(ProposalStatus), default=ProposalStatus.OPEN, index=True
    )
    proposer_ref: Mapped[str] = mapped_column(String(300))
    proposer_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    deed_type_code: Mapped[str | None] = mapped_column(ForeignKey("deed_type.code"))

    virtue: Mapped[Virtue | None] = relationship(lazy="joined")
    supports: Mapped[list[ProposalSupport]] = relationship(lazy="selectin")
    comments: Mapped[list[ProposalComment]] = relationship(
        lazy="selectin", order_by="ProposalComment.created_at"
    )


class ProposalSupport(Base):
    __tablename__ = "proposal_support"
    __table_args__ = (UniqueConstraint("proposal_id", "supporter_ref"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id"), index=True)
    supporter_ref: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalComment(Base):
    __tablename__ = "proposal_comment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id"), index=True)
    author_ref: Mapped[str] = mapped_column(String(300))
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
