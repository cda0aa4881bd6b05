"""Issuing, revoking and sharing credentials, and the published status lists.

A **transcript** attests one of a citizen's totals (a kind of good deed or a
virtue, over a period) as an Open Badges 3.0 ``OpenBadgeCredential`` signed
with ``eddsa-rdfc-2022``. It rests on the verified deeds behind the total
(``citizens.service.explain``, the same figures the citizen sees); revoking any
of them revokes it (``revoke_resting_on``, which follows ``deeds.counted``).

Revocation is published as W3C Bitstring Status Lists of 131,072 entries:
each credential gets a random, never reused index in the newest list; a list's
bits are computed from the ``revoked_at`` of its credentials and signed when
served.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dcatalog.calendars.buddhist_era import format_date
from dcatalog.calendars.periods import MonthDay, PeriodKind, period_from_key
from dcatalog.catalog.models import DeedType, Virtue
from dcatalog.catalog.schemas import UNITS
from dcatalog.citizens import service as citizens
from dcatalog.credentials import status_list
from dcatalog.credentials.cryptosuites import EDDSA_RDFC_2022
from dcatalog.credentials.data_integrity import create_proof
from dcatalog.credentials.keystore import Issuer, publish
from dcatalog.credentials.models import IssuedCredential
from dcatalog.credentials.open_badges import (
    AchievementDefinition,
    Bilingual,
    IssuerProfile,
    hash_identity,
    open_badge_credential,
)
from dcatalog.credentials.status_list import MIN_ENTRIES, StatusListPointer
from dcatalog.db import transactional, utcnow
from dcatalog.deeds.counted import CountedChange, field
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.problems import Conflict, NotFound, ValidationProblem

SUITE = EDDSA_RDFC_2022
BANGKOK = timezone(timedelta(hours=7))
SHORT_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud, typed
SHORT_ID_LENGTH = 12  # 31^12 ≈ 2^59: not guessable
# Open Badges achievement types by virtue; anything else is a plain Achievement.
ACHIEVEMENT_TYPE_BY_VIRTUE = {"volunteering": "CommunityService"}


# --- what a transcript says -----------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What a transcript is about, in both languages."""

    key: str  # type:<code> | virtue:<code>
    name: Bilingual
    achievement_type: str
    unit: Bilingual | None  # None for a virtue (its deed types have different units)


def describe_subject(session: Session, key: str) -> Subject:
    kind, _, code = key.partition(":")
    if kind == "type":
        deed_type = session.get(DeedType, code)
        version = None
        if deed_type is not None:
            version = deed_type.in_force or (deed_type.versions[-1] if deed_type.versions else None)
        if version is None:
            raise NotFound(f"There is no kind of good deed {code!r}.")
        unit_th, unit_en = UNITS.get(version.unit, (version.unit, version.unit))
        return Subject(
            key,
            Bilingual(version.name_th, version.name_en),
            ACHIEVEMENT_TYPE_BY_VIRTUE.get(version.virtue_code, "Achievement"),
            Bilingual(unit_th, unit_en),
        )
    if kind == "virtue":
        virtue = session.get(Virtue, code)
        if virtue is None:
            raise NotFound(f"There is no virtue {code!r}.")
        return Subject(
            key,
            Bilingual(virtue.name_th, virtue.name_en),
            ACHIEVEMENT_TYPE_BY_VIRTUE.get(virtue.code, "Achievement"),
            None,
        )
    raise NotFound(f"not a subject: {key!r}")


def period_names(period_key: str, academic_start: MonthDay) -> Bilingual:
    """``academic_year:2568`` → ปีการศึกษา 2568 / academic year 2568 B.E. (16 May 2025 – 15 May 2026)."""
    period = period_from_key(period_key, academic_start)
    if period.kind is PeriodKind.LIFETIME or period.start is None or period.end is None:
        return Bilingual("ตลอดเวลาที่บันทึกไว้", "all time")
    thai = {
        PeriodKind.CALENDAR_YEAR: f"ปี พ.ศ. {period.year}",
        PeriodKind.FISCAL_YEAR: f"ปีงบประมาณ พ.ศ. {period.year}",
        PeriodKind.ACADEMIC_YEAR: f"ปีการศึกษา {period.year}",
    }[period.kind]
    english = {
        PeriodKind.CALENDAR_YEAR: "calendar year",
        PeriodKind.FISCAL_YEAR: "fiscal year",
        PeriodKind.ACADEMIC_YEAR: "academic year",
    }[period.kind]
    bounds = f"{format_date(period.start, 'en', 'long')} – {format_date(period.end, 'en', 'long')}"
    return Bilingual(thai, f"{english} {period.year} B.E. ({bounds})")


def _number(value: Decimal | int) -> str:
    return format(Decimal(value).normalize(), "f")


def _day_start(day: date) -> str:
    return datetime.combine(day, time(0, 0), BANGKOK).isoformat()


def day_end(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), BANGKOK).isoformat()


# --- issuing ----------------------------------------------------------------------


def new_short_id() -> str:
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(SHORT_ID_LENGTH))


def short_url(issuer: Issuer, credential: IssuedCredential) -> str:
    return issuer.url(f"/c/{credential.short_id}")


def status_list_url(issuer: Issuer, number: int) -> str:
    return issuer.url(f"/credentials/status/{number}")


@transactional
def issue_transcript(
    session: Session,
    citizen: CitizenPrincipal,
    issuer: Issuer,
    *,
    subject: str,
    period: str,
    academic_start: MonthDay,
) -> IssuedCredential:
    """Sign a transcript of one of the citizen's totals. Asking again for the same
    total, unchanged and not revoked, gives the credential already issued."""
    described = describe_subject(session, subject)
    explanation = citizens.explain(session, citizen, subject, period, academic_start)
    if not explanation.lines:
        raise ValidationProblem(
            "There is no counted good deed in this total yet, so there is nothing to attest."
        )
    deed_ids = sorted(str(line.deed.id) for line in explanation.lines)
    for existing in credentials_of(session, citizen):
        if (
            existing.kind == "transcript"
            and existing.subject == subject
            and existing.period == period
            and not existing.revoked
            and sorted(existing.deed_ids) == deed_ids
        ):
            return existing

    days = sorted(line.deed.occurred_on for line in explanation.lines)
    bounds = explanation.period
    start = bounds.start or days[0]
    end = bounds.end or days[-1]
    period_text = period_names(period, academic_start)
    quantity = _number(explanation.quantity)

    def document(credential_url: str, status: StatusListPointer, now: datetime) -> dict[str, Any]:
        return _transcript_document(
            issuer=issuer,
            credential_url=credential_url,
            subject=described,
            period_text=period_text,
            citizen_key=citizen.citizen_key,
            count=explanation.count,
            quantity=quantity,
            credits=explanation.credits,
            start=start,
            end=end,
            issued_at=now,
            status=status,
        )

    return sign_and_keep(
        session,
        issuer,
        document,
        citizen_key=citizen.citizen_key,
        kind="transcript",
        subject=subject,
        period=period,
        deed_ids=deed_ids,
    )


DocumentMaker = Callable[[str, StatusListPointer, datetime], dict[str, Any]]


def sign_and_keep(
    session: Session,
    issuer: Issuer,
    document: DocumentMaker,
    *,
    citizen_key: str,
    kind: str,
    subject: str,
    period: str,
    deed_ids: list[str],
) -> IssuedCredential:
    """Sign a new credential with a fresh short id and revocation entry, and keep it."""
    signing_key = issuer.signing_key()
    publish(session, issuer.public_key())
    now = utcnow()
    for _attempt in range(5):  # a random index or short id taken meanwhile: draw again
        short_id = new_short_id()
        number, index = _allocate_status_index(session)
        unsigned = document(
            issuer.url(f"/c/{short_id}"),
            StatusListPointer(status_list_url(issuer, number), index),
            now,
        )
        # proof as a list: the Open Badges 3.0 JSON Schema requires one.
        signed = create_proof(unsigned, signing_key, SUITE, created=now, as_list=True)
        row = IssuedCredential(
            short_id=short_id,
            citizen_key=citizen_key,
            kind=kind,
            subject=subject,
            period=period,
            deed_ids=deed_ids,
            status_list=number,
            status_index=index,
            issued_at=now,
            document=json.dumps(signed, ensure_ascii=False, indent=2),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return row
    raise Conflict("Could not allocate a revocation entry; please try again.")


def badge(
    issuer: Issuer,
    credential_url: str,
    achievement: AchievementDefinition,
    citizen_key: str,
    issued_at: datetime,
    status: StatusListPointer,
    ended_on: date,
) -> dict[str, Any]:
    """An Open Badges 3.0 credential of ``achievement`` for the citizen (by the
    hash of their key), issued now, ending on the day the deeds reached it."""
    document = open_badge_credential(
        credential_id=credential_url,
        issuer=IssuerProfile(id=issuer.did, name=issuer.name, url=issuer.base_url),
        achievement=achievement,
        recipient=hash_identity(citizen_key),
        valid_from=issued_at,
        status=status,
    )
    document["credentialSubject"]["activityEndDate"] = day_end(ended_on)
    return document


def _transcript_document(
    *,
    issuer: Issuer,
    credential_url: str,
    subject: Subject,
    period_text: Bilingual,
    citizen_key: str,
    count: int,
    quantity: str,
    credits: int,
    start: date,
    end: date,
    issued_at: datetime,
    status: StatusListPointer,
) -> dict[str, Any]:
    kind, _, code = subject.key.partition(":")
    page = f"/catalog/{code}" if kind == "type" else f"/catalog?virtue={code}"
    achievement_id = issuer.url(page) + "#transcript"
    english_id = issuer.url(page) + ("&" if "?" in page else "?") + "lang=en#transcript"
    achievement = AchievementDefinition(
        id=achievement_id,
        english_edition_id=english_id,
        achievement_type=subject.achievement_type,
        name=Bilingual(subject.name.th, subject.name.en),
        description=Bilingual(
            f"ผลรวมความดีที่หน่วยงานผู้บันทึกยืนยันแล้วในระบบ D-Catalog: {subject.name.th}",
            f"The verified total of good deeds recorded in D-Catalog: {subject.name.en}",
        ),
        criteria=Bilingual(
            "นับเฉพาะความดีที่หน่วยงานผู้บันทึกยืนยันแล้ว ตามบัญชีความดีฉบับที่ใช้ ณ วันที่บันทึก "
            "ความดีที่ถูกเพิกถอนภายหลังทำให้ใบรับรองนี้ถูกเพิกถอนด้วย",
            "Only deeds verified by the recording agency count, under the catalog version "
            "in force when recorded. Revoking any of them revokes this credential.",
        ),
    )
    document = badge(issuer, credential_url, achievement, citizen_key, issued_at, status, end)
    # A transcript says how much, over which time: Open Badges' results, with
    # their descriptions on the achievement, the period as the subject's term.
    results = [("count", "จำนวนรายการ / records", str(count))]
    if subject.unit is not None:
        unit = f"{subject.unit.th} / {subject.unit.en}"
        results.insert(0, ("quantity", unit, quantity))
    results.append(("credits", "เครดิตความดี / credits", str(credits)))
    document["credentialSubject"]["achievement"]["resultDescription"] = [
        {
            "id": f"{achievement_id}-{name}",
            "type": ["ResultDescription"],
            "name": label,
            "resultType": f"ext:{name.capitalize()}",
        }
        for name, label, _value in results
    ]
    document["credentialSubject"]["result"] = [
        {"type": ["Result"], "resultDescription": f"{achievement_id}-{name}", "value": value}
        for name, _label, value in results
    ]
    document["credentialSubject"]["term"] = f"{period_text.th} / {period_text.en}"
    document["credentialSubject"]["activityStartDate"] = _day_start(start)
    amount = f"{quantity} {subject.unit.th}" if subject.unit else f"{count} รายการ"
    document["name"] = f"{subject.name.th} · {period_text.th}: {amount}"
    document["description"] = (
        f"{subject.name.th} {period_text.th} รวม {amount} ({credits} เครดิตความดี) "
        f"ตามบันทึกที่ได้รับการยืนยันในระบบ D-Catalog"
    )
    return document


def _allocate_status_index(session: Session) -> tuple[int, int]:
    """A random free index in the newest list (a new list when it is full)."""
    number = session.scalar(select(func.max(IssuedCredential.status_list))) or 1
    used = set(
        session.scalars(
            select(IssuedCredential.status_index).where(IssuedCredential.status_list == number)
        )
    )
    if len(used) >= MIN_ENTRIES:
        number, used = number + 1, set()
    return number, status_list.allocate_index(used, MIN_ENTRIES)


# --- reading ----------------------------------------------------------------------


def credentials_of(session: Session, citizen: CitizenPrincipal) -> list[IssuedCredential]:
    query = (
        select(IssuedCredential)
        .where(IssuedCredential.citizen_key == citizen.citizen_key)
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
    )
    return list(session.scalars(query))


def own_credential(
    session: Session, citizen: CitizenPrincipal, credential_id: uuid.UUID
) -> IssuedCredential:
    """One of the citizen's credentials; another citizen's is simply not found."""
    found = session.get(IssuedCredential, credential_id)
    if found is None or found.citizen_key != citizen.citizen_key:
        raise NotFound("You have no such credential.")
    return found


def by_short_id(session: Session, short_id: str) -> IssuedCredential | None:
    if len(short_id) != SHORT_ID_LENGTH or not set(short_id) <= set(SHORT_ID_ALPHABET):
        return None
    return session.scalar(select(IssuedCredential).where(IssuedCredential.short_id == short_id))


def signed_document(credential: IssuedCredential) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(credential.document)
    return document


# --- sharing ----------------------------------------------------------------------


@transactional
def set_shared(
    session: Session, citizen: CitizenPrincipal, credential_id: uuid.UUID, shared: bool
) -> IssuedCredential:
    """Open or withdraw the public link of one credential. Withdrawn, the link
    says it is not shared any more; sharing again opens the same link."""
    credential = own_credential(session, citizen, credential_id)
    now = utcnow()
    if shared and not credential.shared:
        credential.shared_at, credential.share_withdrawn_at = now, None
    elif not shared and credential.shared:
        credential.share_withdrawn_at = now
    return credential


# --- revocation -------------------------------------------------------------------


def get_credential(session: Session, credential_id: uuid.UUID) -> IssuedCredential | None:
    return session.get(IssuedCredential, credential_id)


def revoke(session: Session, credential: IssuedCredential, reason: str) -> IssuedCredential:
    """Set the credential's status bit (from now on the published list says
    revoked). The caller commits; revoking twice keeps the first time and reason."""
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        credential.revocation_reason = reason.strip()
    return credential


def after_counted(session: Session, change: CountedChange) -> None:
    """Credentials follow counted changes (``deeds.counted``): one resting on a
    deed that was taken out is revoked, with the agency's reason."""
    if change.sign < 0:
        for deed in change.deeds:
            revoke_resting_on(session, field(deed, "citizen_key"), field(deed, "id"), change.reason)


def revoke_resting_on(
    session: Session, citizen_key: str, deed_id: uuid.UUID, reason: str
) -> list[IssuedCredential]:
    """Revoke every credential that rests on the deed (in the transaction that
    revokes it), keeping the agency's reason for the citizen. Only the deed's
    citizen can hold such credentials."""
    query = select(IssuedCredential).where(
        IssuedCredential.citizen_key == citizen_key, IssuedCredential.revoked_at.is_(None)
    )
    wanted = str(deed_id)
    revoked = [
        revoke(session, credential, reason)
        for credential in session.scalars(query)
        if wanted in credential.deed_ids
    ]
    if revoked:
        session.flush()
    return revoked


def forget_holder(session: Session, citizen_key: str, pseudonym: str) -> int:
    """Erasure (see dcatalog.citizens.rights): the holder's credentials are revoked
    (their status bits stay set, so a copy someone kept reads as revoked), no
    longer shared, emptied of their content and moved to the pseudonym."""
    query = select(IssuedCredential).where(IssuedCredential.citizen_key == citizen_key)
    found = list(session.scalars(query))
    for credential in found:
        revoke(session, credential, "erased at the holder's request")
        if credential.shared_at and not credential.share_withdrawn_at:
            credential.share_withdrawn_at = utcnow()
        credential.document = "{}"
        credential.citizen_key = pseudonym
    return len(found)


def is_revoked(session: Session, number: int, index: int) -> bool | None:
    """The bit at ``index`` of list ``number``; None when no credential has it."""
    row = session.execute(
        select(IssuedCredential.revoked_at).where(
            IssuedCredential.status_list == number, IssuedCredential.status_index == index
        )
    ).first()
    return None if row is None else row.revoked_at is not None


# --- the published status lists -----------------------------------------------------


def list_numbers(session: Session) -> list[int]:
    numbers = session.scalars(select(IssuedCredential.status_list).distinct()).all()
    return sorted(set(numbers) | {1})


def status_bits(session: Session, number: int) -> bytes:
    revoked: Iterable[int] = session.scalars(
        select(IssuedCredential.status_index).where(
            IssuedCredential.status_list == number, IssuedCredential.revoked_at.is_not(None)
        )
    )
    return status_list.with_bits(status_list.empty_bitstring(MIN_ENTRIES), revoked)
