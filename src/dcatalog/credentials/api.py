"""The credentials API: anyone may check a credential."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from dcatalog.access import public
from dcatalog.credentials.issuer import check_stored_or_submitted
from dcatalog.web import throttle
from dcatalog.web.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/credentials", tags=["credentials"])


class ResultLine(BaseModel):
    label: str
    value: str


class IssuerOut(BaseModel):
    id: str | None
    name: str | None


class Attests(BaseModel):
    name: str
    achievement: str
    achievement_en: str | None
    achievement_type: str | None
    term: str | None
    results: list[ResultLine]
    issuer: IssuerOut
    valid_from: str | None
    activity_start: str | None
    activity_end: str | None
    creator: str | None = Field(
        None, description="Who set the achievement and thanks for it (a partner), if named."
    )


class CheckOut(BaseModel):
    check: str = Field(
        description="structure, signature, issuer, data_model, endorsements, dates or status"
    )
    result: str = Field(
        description="passed, failed, unknown (could not be checked) or not_applicable"
    )
    detail: str
    problem: str | None
    errors: list[dict[str, str]] = Field(
        description=(
            "For data_model: each JSON Schema error, with its JSON Pointer; for endorsements: "
            "each endorsement (or each of its errors), with its JSON Pointer."
        )
    )


class VerificationOut(BaseModel):
    outcome: str = Field(
        description=(
            "valid, invalid (a check failed), revoked, or unknown (a check could not be "
            "made: never reported as valid)"
        )
    )
    valid: bool
    problem: str | None = Field(
        description=(
            "What went wrong, in a word: malformed, too_complex, tampered, issuer_mismatch, "
            "data_model, endorsement, endorsement_unknown, not_yet_valid, expired, "
            "unknown_issuer, status_unknown, revoked, suspended; null when valid."
        )
    )
    reason: str = Field(description="Why, in English, for people and logs.")
    checks: list[CheckOut] = Field(description="Every check made, with its result.")
    status_checked: bool = Field(description="Whether the revocation status was read.")
    verification_method: str | None
    attests: Attests | None = Field(description="What the credential says (as it says it).")
    notes: list[str]


@router.post(
    "/verify",
    summary="Check a credential: signature, issuer, dates and revocation",
    dependencies=[public, throttle.per_client("verify")],
)
def verify(
    session: SessionDep,
    settings: SettingsDep,
    credential: Annotated[
        dict[str, Any],
        Body(description="The credential (a JSON object, as issued, proof included)."),
    ],
) -> VerificationOut:
    """Answers 200 with the outcome for any JSON object: a tampered, foreign or
    too deeply nested credential is an answer, not an error. Only credentials
    signed with this service's published keys (current or retired) can be valid."""
    check = check_stored_or_submitted(session, credential, settings)
    return VerificationOut.model_validate(check.as_dict())
