"""The credentials API: anyone may check a credential."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from dcatalog.access import public
from dcatalog.credentials.pages import check_stored_or_submitted
from dcatalog.web import throttle
from dcatalog.web.deps import SessionDep

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


class VerificationOut(BaseModel):
    outcome: str = Field(
        description="valid, revoked, expired, tampered, unknown_issuer or malformed"
    )
    valid: bool
    reason: str = Field(description="Why, in English, for people and logs.")
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
    credential: Annotated[
        dict[str, Any],
        Body(description="The credential (a JSON object, as issued, proof included)."),
    ],
) -> VerificationOut:
    """Answers 200 with the outcome for any JSON object: a tampered or foreign
    credential is an answer, not an error. Only credentials signed with this
    service's published keys (current or retired) can be valid."""
    return VerificationOut.model_validate(check_stored_or_submitted(session, credential).as_dict())
