"""What a deed type version says, as the API and the forms send it."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dcatalog.amounts import Amount
from dcatalog.catalog.models import VerificationPolicy

# Units of quantity, with how pages say them.
UNITS: dict[str, tuple[str, str]] = {
    "hour": ("ชั่วโมง", "hours"),
    "time": ("ครั้ง", "times"),
    "day": ("วัน", "days"),
    "activity": ("กิจกรรม", "activities"),
    "km": ("กิโลเมตร", "km"),
}

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Limit = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


class DeedTypeFields(BaseModel):
    """The rules and texts of one version of a deed type."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    virtue: str = Field(
        description="Virtue code: sufficiency, discipline, honesty, volunteering or health."
    )
    unit: str = Field(description=f"Unit of quantity: {', '.join(UNITS)}.")
    credits_per_unit: int = Field(ge=0, le=1000, description="Whole credits per unit.")
    verification_policy: VerificationPolicy
    evidence_required: bool = False
    max_per_record: Limit | None = Field(default=None, description="Most quantity in one record.")
    max_per_day: Limit | None = Field(
        default=None, description="Most quantity per citizen per day."
    )
    min_days_between: int | None = Field(
        default=None, ge=1, le=3650, description="Least days between two records of a citizen."
    )
    yearly_cap: Limit | None = Field(
        default=None, description="Most quantity per citizen per year."
    )
    health_related: bool = Field(default=False, description="Sensitive health data (PDPA s.26).")
    recorders: list[
        Annotated[str, StringConstraints(pattern=r"^(kind:)?[a-z][a-z0-9_]{1,31}$")]
    ] = Field(
        default_factory=list,
        description="Besides the owner, who may record it: agency codes or `kind:school` etc.",
    )
    name_th: Text200
    name_en: Text200
    description_th: LongText = ""
    description_en: LongText = ""
    evidence_th: LongText = ""
    evidence_en: LongText = ""


class NewDeedType(DeedTypeFields):
    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,40}$",
        description="The part after the agency code: `volunteer_activity` → `kys.volunteer_activity`.",
    )


class AgencyRef(BaseModel):
    code: str
    name_th: str
    name_en: str


class DeedTypeOut(BaseModel):
    """One version of a catalog entry, as the API shows it."""

    code: str
    owner: AgencyRef
    version: int
    status: str
    virtue: str
    unit: str
    credits_per_unit: int
    verification_policy: VerificationPolicy
    evidence_required: bool
    max_per_record: Amount | None
    max_per_day: Amount | None
    min_days_between: int | None
    yearly_cap: Amount | None
    health_related: bool
    recorders: list[str]
    name_th: str
    name_en: str
    description_th: str
    description_en: str
    evidence_th: str
    evidence_en: str


class DeedTypePage(BaseModel):
    items: list[DeedTypeOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class VirtueOut(BaseModel):
    code: str
    name_th: str
    name_en: str
    description_th: str
    description_en: str
