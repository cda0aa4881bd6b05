from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dcatalog.db import Base


class Virtue(Base):
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

    def name(self, lang: str) -> str:
        return self.name_th if lang == "th" else self.name_en

    def description(self, lang: str) -> str:
        return self.description_th if lang == "th" else self.description_en
