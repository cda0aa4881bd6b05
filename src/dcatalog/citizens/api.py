"""Partners read a citizen's record over the API, as far as the citizen's consent
allows; every read is logged and shown to the citizen."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency
from dcatalog.amounts import Amount
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens.disclosure import read_record
from dcatalog.deeds import tallies
from dcatalog.deeds.service import counted
from dcatalog.identity.deps import KeyerDep
from dcatalog.web.deps import DatabaseDep, SettingsDep

router = APIRouter(prefix="/api/v1/citizens", tags=["citizens"])
READ = require(Scope.CITIZENS_READ)


class RecordQuery(BaseModel):
    national_id: str = Field(description="Sent in the body, never in the URL; never stored.")
    purpose: str = Field(max_length=200, description="Why you read it: the citizen sees it.")


class SharedDeed(BaseModel):
    """A verified deed as another agency may see it (no evidence, no external id)."""

    id: uuid.UUID
    deed_type: str
    virtue: str
    quantity: Amount
    occurred_on: date
    province: str
    credits: int
    recorded_by: str = Field(description="Code of the agency that recorded it.")


class Total(BaseModel):
    subject: str = Field(description="type:<deed type> or virtue:<virtue>")
    period: str = Field(
        description="lifetime, calendar_year:2569, fiscal_year:2570, academic_year:2569"
    )
    count: int
    quantity: Amount
    credits: int


class RecordOut(BaseModel):
    outcome: Literal["allowed", "refused"] = Field(
        description="refused: no active consent (or a minor without a guardian's consent); "
        "only the deeds your agency recorded itself are given."
    )
    reason: str
    scope: list[str] = Field(description="What the citizen's consent covers.")
    deeds: list[SharedDeed]
    totals: list[Total] = Field(description="Of the deeds given, per subject and period.")


@router.post("/record", summary="A citizen's verified deeds, as far as their consent allows")
def citizen_record(
    request: Request,
    keyer: KeyerDep,
    body: RecordQuery,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, READ],
) -> RecordOut:
    with database.write_session() as session:
        found = read_record(
            session,
            actor,
            keyer,
            national_id=body.national_id,
            purpose=body.purpose,
            today=today_in_thailand(),
        )
        codes: dict[uuid.UUID, str] = dict(session.execute(select(Agency.id, Agency.code)).all())
        deeds = [
            SharedDeed(
                id=d.id,
                deed_type=d.deed_type_code,
                virtue=d.virtue_code,
                quantity=d.quantity,
                occurred_on=d.occurred_on,
                province=d.province,
                credits=d.credits or 0,
                recorded_by=codes.get(d.agency_id, ""),
            )
            for d in found.deeds
        ]
        sums = tallies.aggregate(
            [counted(d) for d in found.deeds], settings.academic_year_start_month_day
        )
    totals = [
        Total(subject=subject, period=period, count=n, quantity=q, credits=k)
        for (_key, subject, period), (n, q, k) in sorted(sums.items())
    ]
    return RecordOut(
        outcome=found.outcome.value,
        reason=found.reason,
        scope=found.scope,
        deeds=deeds,
        totals=totals,
    )
