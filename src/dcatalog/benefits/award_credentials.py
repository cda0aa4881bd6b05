"""A milestone award as an Open Badges 3.0 credential, signed by this service's
issuer (``credentials``, a layer below: it signs and verifies, and knows nothing
of benefits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dcatalog.benefits.models import Award, AwardStatus, Benefit
from dcatalog.credentials import service as credentials
from dcatalog.credentials.keystore import Issuer
from dcatalog.credentials.models import IssuedCredential
from dcatalog.credentials.open_badges import (
    AchievementDefinition,
    Bilingual,
    IssuerProfile,
)
from dcatalog.credentials.status_list import StatusListPointer
from dcatalog.db import transactional
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.problems import NotFound, ValidationProblem


@transactional
def issue_award(
    session: Session, citizen: CitizenPrincipal, issuer: Issuer, award: Award
) -> IssuedCredential:
    """Sign the credential of a milestone award (once: asking again gives it back).
    It rests on the award, not on single deeds: a revoked deed revokes it only if
    the award is withdrawn (``awards.withdraw_unmet``)."""
    if award.citizen_key != citizen.citizen_key:
        raise NotFound("You have no such award.")
    if award.status is not AwardStatus.AWARDED:
        raise ValidationProblem("This award was withdrawn, so there is nothing to certify.")
    if award.credential_id is not None:
        existing = session.get(IssuedCredential, award.credential_id)
        if existing is not None:
            return existing
    benefit = award.benefit

    def document(credential_url: str, status: StatusListPointer, now: datetime) -> dict[str, Any]:
        return _document(issuer, credential_url, benefit, award, citizen.citizen_key, now, status)

    issued = credentials.sign_and_keep(
        session,
        issuer,
        document,
        citizen_key=citizen.citizen_key,
        kind="award",
        subject=f"award:{benefit.code}"[:80],
        period="lifetime",
        deed_ids=[],
    )
    award.credential_id = issued.id
    return issued


def _document(
    issuer: Issuer,
    credential_url: str,
    benefit: Benefit,
    award: Award,
    citizen_key: str,
    issued_at: datetime,
    status: StatusListPointer,
) -> dict[str, Any]:
    achievement = AchievementDefinition(
        id=f"urn:dcatalog:benefit:{benefit.code}",
        english_edition_id=f"urn:dcatalog:benefit:{benefit.code}:en",
        achievement_type="Award",
        name=Bilingual(benefit.name_th, benefit.name_en),
        description=Bilingual(
            benefit.description_th or benefit.name_th, benefit.description_en or benefit.name_en
        ),
        criteria=Bilingual(
            f"มอบโดยอัตโนมัติเมื่อความดีที่ได้รับการยืนยันครบตามเกณฑ์ของ{benefit.agency.name_th} "
            "หากความดีที่นับถูกเพิกถอนจนไม่ครบเกณฑ์ การมอบนี้และใบรับรองจะถูกเพิกถอน",
            f"Awarded automatically when verified good deeds meet {benefit.agency.name_en}'s "
            "criteria. If revoked deeds leave the criteria unmet, the award and this "
            "credential are revoked.",
        ),
        # The partner who thanks for it (its Thai and English names: a certificate
        # is bilingual), as the Achievement's creator.
        creator=IssuerProfile(
            f"urn:dcatalog:agency:{benefit.agency.code}",
            f"{benefit.agency.name_th} ({benefit.agency.name_en})"
            if benefit.agency.name_en and benefit.agency.name_en != benefit.agency.name_th
            else benefit.agency.name_th,
        ),
    )
    document = credentials.badge(
        issuer, credential_url, achievement, citizen_key, issued_at, status, award.reached_on
    )
    if benefit.thanks_th:
        document["description"] = f"{benefit.name_th}: {benefit.thanks_th}"
    return document
