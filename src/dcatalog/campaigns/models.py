"""A campaign: a partner's time-bound drive (which deed types, where, when, what
goal), approved by the programme office. Its progress is never stored: it is
counted from the verified deeds (see ``service.progress``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dcatalog.agencies.models import Agency
from dcatalog.db import Base, Bilingual, UTCDateTime, new_id, str_enum, utcnow
from dcatalog.deeds.models import Deed
from dcatalog.review import Reviewed


class GoalMeasure(StrEnum):
    COUNT = "count"  # how many verified deeds
    QUANTITY = "quantity"  # their quantity, in the deed types' one unit (hours, days …)
    CITIZENS = "citizens"  # how many different people took part


class Campaign(Reviewed, Bilingual, Base):
    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("code = lower(code)", name="code_lowercase"),
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # <agency>.<name>
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    title_th: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_th: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    deed_types: Mapped[list[str]] = mapped_column(JSON)  # deed type codes it counts
    provinces: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO codes; [] = all
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # inclusive
    goal_measure: Mapped[GoalMeasure] = mapped_column(str_enum(GoalMeasure))
    goal: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")

    def title(self, lang: str) -> str:
        return self.text("title", lang)

    def state_on(self, day: date) -> str:
        """upcoming, running or ended (for an approved campaign)."""
        if day < self.starts_on:
            return "upcoming"
        return "ended" if day > self.ends_on else "running"


# Campaign progress and the national counters read verified deeds by type and day
# ("these types, in this period"); the deed table's own indexes start with the
# citizen. Partial (verified deeds only): pending, rejected and revoked records never
# count, and recording a pending deed does not write it. Declared here, beside the
# queries that need it (dcatalog.campaigns.service, .public).
Index(
    "ix_deed_verified_type_day",
    Deed.deed_type_code,
    Deed.occurred_on,
    sqlite_where=text("status = 'verified'"),
    postgresql_where=text("status = 'verified'"),
)
