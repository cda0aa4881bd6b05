"""Deeds as the API receives and returns them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dcatalog.amounts import Amount
from dcatalog.deeds.models import (
    EVIDENCE_MAX_CHARS,
    EXTERNAL_ID_MAX_CHARS,
    QUANTITY_DECIMALS,
    QUANTITY_DIGITS,
    DeedStatus,
)


class DeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    national_id: str = Field(
        description="13 digits; dashes, spaces and Thai digits are fine.", max_length=40
    )
    deed_type: str = Field(description="Catalog code, e.g. kys.volunteer_activity.", max_length=64)
    quantity: Decimal = Field(
        description="In the deed type's unit (hours, times, days …).",
        max_digits=QUANTITY_DIGITS,
        decimal_places=QUANTITY_DECIMALS,
    )
    occurred_on: date
    province: str = Field(
        description="ISO 3166-2:TH code (TH-10) or the province's name.", max_length=60
    )
    evidence: str = Field(
        default="", max_length=EVIDENCE_MAX_CHARS, description="Text, URL or document number."
    )
    external_id: str = Field(
        description="Your own id of this record: sending it again is safe.",
        max_length=EXTERNAL_ID_MAX_CHARS,
    )


class DeedBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deeds: list[DeedIn] = Field(min_length=1, max_length=1000)


class DeedOut(BaseModel):
    id: uuid.UUID
    external_id: str
    id_last4: str = Field(description="The last 4 digits of the national ID; nothing more is kept.")
    deed_type: str
    deed_type_version: int
    quantity: Amount
    occurred_on: date
    province: str
    evidence: str
    status: DeedStatus
    credits: int | None = Field(
        description="Fixed when verified: quantity × the version's credits per unit, rounded down."
    )
    status_reason: str = Field(
        description="Why it is pending, rejected or revoked; the citizen reads it too."
    )
    recorded_at: datetime


class ItemResult(BaseModel):
    index: int
    result: Literal["created", "unchanged", "rejected", "conflict"]
    deed: DeedOut | None = None
    errors: list[dict[str, str]] = Field(default_factory=list)


class BatchOut(BaseModel):
    results: list[ItemResult]
    created: int
    unchanged: int
    rejected: int
    conflict: int


class DeedPage(BaseModel):
    items: list[DeedOut]
    next_cursor: uuid.UUID | None


class VerifyIn(BaseModel):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="The citizen reads it.")


class ImportError_(BaseModel):
    row: int = Field(description="As the spreadsheet numbers it: the heading is row 1.")
    column: str
    reason: str
    external_id: str


class ImportOut(BaseModel):
    rows: int
    imported: int
    unchanged: int = Field(description="Rows sent before: not recorded twice.")
    rejected: int
    all_or_nothing: bool
    rolled_back: bool
    errors: list[ImportError_] = Field(
        description="The first errors by row (DCATALOG_IMPORT_ERRORS_LISTED, 1,000 by default)."
    )
    errors_total: int = Field(description="Errors in all: listed or not.")
    errors_not_listed: int = Field(
        description="Errors beyond those listed (…and this many more): fix and send again."
    )


class ImportJobOut(BaseModel):
    """An import as a job: its progress, then its result."""

    id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"]
    file_name: str
    all_or_nothing: bool
    rows_done: int
    rows_total: int | None = Field(description="Rows under the heading, when the file says.")
    created_at: datetime
    finished_at: datetime | None
    failure: str | None = Field(description="Why it failed (nothing was lost: send it again).")
    result: ImportOut | None = Field(description="When done: every row accounted for.")
