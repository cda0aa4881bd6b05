"""What a campaign says, as the forms send it and the API shows it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dcatalog.amounts import Amount
from dcatalog.campaigns.models import GoalMeasure

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class CampaignFields(BaseModel):
    """Everything of a campaign the agency writes, but its code."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title_th: Text200
    title_en: Text200
    description_th: LongText = ""
    description_en: LongText = ""
    deed_types: list[str] = Field(min_length=1, max_length=50, description="Deed type codes.")
    provinces: list[str] = Field(
        default_factory=list, max_length=77, description="ISO 3166-2:TH codes; none: nationwide."
    )
    starts_on: date
    ends_on: date
    goal_measure: GoalMeasure
    goal: int = Field(ge=1, le=1_000_000_000)


class NewCampaign(CampaignFields):
    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,47}$",
        description="Lowercase letters, digits and _; the code is <agency>.<name>.",
    )


class AgencyRef(BaseModel):
    code: str
    name_th: str
    name_en: str


class ProgressOut(BaseModel):
    value: Amount | None = Field(
        description="Towards the goal, in its measure; null while fewer than 10 people count."
    )
    percent: int | None
    citizens: int | None = Field(
        description="People taking part; null (shown as <10) while fewer than 10."
    )
    suppressed: bool = Field(description="True while fewer than 10 people count (privacy).")
    as_of: datetime


class CampaignOut(BaseModel):
    code: str
    agency: AgencyRef
    title_th: str
    title_en: str
    description_th: str
    description_en: str
    deed_types: list[str]
    provinces: list[str]
    starts_on: date
    ends_on: date
    state: str = Field(description="upcoming, running or ended")
    goal_measure: GoalMeasure
    goal: int
    unit: str | None = Field(description="The unit of a quantity goal (hour, day …).")
    progress: ProgressOut
