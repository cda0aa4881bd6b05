from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from dcatalog.db import Base, Bilingual, UTCDateTime, new_id, str_enum, utcnow


class AgencyKind(StrEnum):
    GOVERNMENT = "government"
    SCHOOL = "school"
    NGO = "ngo"
    BUSINESS = "business"


class AgencyStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Agency(Bilingual, Base):
    __tablename__ = "agency"
    __table_args__ = (CheckConstraint("code = lower(code)", name="code_lowercase"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AgencyKind] = mapped_column(str_enum(AgencyKind))
    status: Mapped[AgencyStatus] = mapped_column(
        str_enum(AgencyStatus), default=AgencyStatus.ACTIVE
    )
    website: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(300), default="")  # who the office talks to
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def short_name(self, lang: str) -> str:
        """The abbreviation a name ends with in brackets ("… (กยศ.)" → "กยศ.",
        "… (SLF)" → "SLF"), for a button that has little room; else the whole name
        (a bracket that is not an abbreviation, such as "(ร้านค้าสมมติ)", stays)."""
        name = self.name(lang).strip()
        if name.endswith(")") and "(" in name:
            inner = name[name.rindex("(") + 1 : -1].strip()
            if inner and " " not in inner and (inner.endswith(".") or inner.isupper()):
                return inner
        return name
