"""Partners check a citizen's eligibility for a benefit over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.amounts import Amount
from dcatalog.benefits import claims, service
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.identity.deps import KeyerDep
from dcatalog.web import throttle
from dcatalog.web.deps import DatabaseDep, SettingsDep

router = APIRouter(prefix="/api/v1/eligibility", tags=["benefits"])
CHECK = require(Scope.ELIGIBILITY_READ)


class EligibilityQuery(BaseModel):
    national_id: str = Field(description="Sent in the body, never in the URL; never stored.")
    benefit: str = Field(description="The benefit's code, e.g. kys.loan_renewal")
    purpose: str = Field(max_length=200, description="Why you check: the citizen sees it.")


class ConditionResult(BaseModel):
    subject: str = Field(description="type:<deed type> or virtue:<virtue>")
    measure: Literal["count", "quantity", "credits"]
    period: str = Field(description="e.g. academic_year:2568, lifetime, rolling_days:365")
    have: Amount
    need: Amount
    missing: Amount
    met: bool


class EligibilityOut(BaseModel):
    outcome: Literal["allowed", "refused"] = Field(
        description="refused: no consent covering what the rule reads (or a minor "
        "without a guardian's consent); nothing about the citizen is given."
    )
    reason: str
    benefit: str
    met: bool | None = Field(description="Whether the citizen meets the rule; null if refused.")
    conditions: list[ConditionResult]


@router.post(
    "",
    summary="Does a citizen meet a benefit's rule? (with their consent)",
    responses={404: {"description": "No such benefit is offered."}},
)
def check(
    request: Request,
    keyer: KeyerDep,
    body: EligibilityQuery,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, CHECK],
) -> EligibilityOut:
    with database.write_session() as session:
        found = service.check_eligibility(
            session,
            actor,
            keyer,
            national_id=body.national_id,
            benefit_code=body.benefit,
            purpose=body.purpose,
            today=today_in_thailand(),
            academic_start=settings.academic_year_start_month_day,
        )
    verdict = found.verdict
    return EligibilityOut(
        outcome=found.outcome.value,
        reason=found.reason,
        benefit=body.benefit,
        met=verdict.met if verdict else None,
        conditions=[
            ConditionResult(
                subject=f.condition.subject,
                measure=f.condition.measure,
                period=f.window.key,
                have=f.have,
                need=f.condition.at_least,
                missing=f.missing,
                met=f.met,
            )
            for f in (verdict.figures if verdict else [])
        ],
    )


claims_router = APIRouter(prefix="/api/v1/claims", tags=["benefits"])
REDEEM = require(Scope.BENEFITS_REDEEM)


class RedeemIn(BaseModel):
    code: str = Field(description="The 10-character code (or the QR code's text)")


class RedeemOut(BaseModel):
    outcome: Literal["redeemed", "used", "expired", "unknown"] = Field(
        description="redeemed: now, by you; used: earlier (at `at`); expired; "
        "unknown: no such code for your agency's benefits"
    )
    benefit: str | None
    at: datetime | None


@claims_router.post("/redeem", summary="Redeem a claim code once (race-safe)")
def redeem(
    request: Request, body: RedeemIn, database: DatabaseDep, actor: Annotated[Actor, REDEEM]
) -> RedeemOut:
    attempts = throttle.claim_code_attempts(request, actor.label)
    with database.write_session() as session:
        found = claims.redeem(session, actor, body.code, attempts)
        return RedeemOut(
            outcome=found.outcome,
            benefit=found.claim.benefit.code if found.claim else None,
            at=found.at,
        )
