"""Consent: which agency may read which part of a citizen's record, and why.

Granting and withdrawing are one click each (withdrawing is never harder than
granting). A grant names an agency, a purpose and a scope (deed types and/or
virtues, as tallies name them: ``type:<code>``, ``virtue:<code>``).
Health-related deed types (PDPA s.26) are shared only with a separate,
explicit tick. A minor's record is shared only once a guardian's consent is
recorded as well (PDPA s.20).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency, AgencyStatus
from dcatalog.audit import service as audit
from dcatalog.catalog.models import DeedType, Virtue
from dcatalog.citizens.models import Citizen, Consent, GuardianConsent
from dcatalog.citizens.sessions import CitizenPrincipal, is_minor
from dcatalog.db import transactional, utcnow
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import InvalidNationalId
from dcatalog.problems import FieldError, Forbidden, NotFound, ValidationProblem


def _invalid(pointer: str, message: str) -> ValidationProblem:
    return ValidationProblem(message, errors=[FieldError(message, pointer=pointer)])


def health_types(session: Session) -> set[str]:
    """Deed types whose version in force is health-related."""
    return {
        entry.code
        for entry in session.scalars(select(DeedType))
        if entry.in_force is not None and entry.in_force.health_related
    }


def _checked_scope(session: Session, scope: Sequence[str], includes_health: bool) -> list[str]:
    wanted = sorted({s.strip() for s in scope if s.strip()})
    if not wanted:
        raise _invalid("#/scope", "Choose at least one kind of good deed to share.")
    types = set(session.scalars(select(DeedType.code)))
    virtues = set(session.scalars(select(Virtue.code)))
    health = health_types(session)
    for subject in wanted:
        kind, _, code = subject.partition(":")
        if not ((kind == "type" and code in types) or (kind == "virtue" and code in virtues)):
            raise _invalid("#/scope", f"{subject!r} is not a deed type or a virtue.")
        if kind == "type" and code in health and not includes_health:
            raise _invalid(
                "#/includes_health",
                f"{code} is health information: tick the separate box to share it.",
            )
    return wanted


@transactional
def grant(
    session: Session,
    citizen: CitizenPrincipal,
    *,
    agency_code: str,
    purpose: str,
    scope: Sequence[str],
    includes_health: bool = False,
) -> Consent:
    agency = session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None or agency.status is not AgencyStatus.ACTIVE:
        raise _invalid("#/agency", "Choose an agency that takes part in D-Catalog.")
    purpose = purpose.strip()
    if not purpose or len(purpose) > 200:
        raise _invalid("#/purpose", "Say what the agency may use it for (up to 200 characters).")
    consent = Consent(
        citizen_key=citizen.citizen_key,
        agency_id=agency.id,
        purpose=purpose,
        scope=_checked_scope(session, scope, includes_health),
        includes_health=includes_health,
        granted_by="self",
    )
    session.add(consent)
    session.flush()
    return consent


@transactional
def withdraw(session: Session, citizen: CitizenPrincipal, consent_id: uuid.UUID) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None or consent.citizen_key != citizen.citizen_key:
        raise NotFound("You have no such consent.")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = utcnow()
    return consent


def history(session: Session, citizen: CitizenPrincipal) -> list[Consent]:
    """Every consent the citizen ever gave, newest first (withdrawn ones too)."""
    query = (
        select(Consent)
        .where(Consent.citizen_key == citizen.citizen_key)
        .order_by(Consent.granted_at.desc())
    )
    return list(session.scalars(query))


def active_for(session: Session, citizen_key: str, agency_id: uuid.UUID) -> list[Consent]:
    query = select(Consent).where(
        Consent.citizen_key == citizen_key,
        Consent.agency_id == agency_id,
        Consent.withdrawn_at.is_(None),
    )
    return list(session.scalars(query))


def guardian_consent(session: Session, citizen_key: str) -> GuardianConsent | None:
    query = select(GuardianConsent).where(
        GuardianConsent.citizen_key == citizen_key, GuardianConsent.withdrawn_at.is_(None)
    )
    return session.scalars(query).first()


def needs_guardian(session: Session, citizen_key: str, today: date) -> bool:
    """A minor without a guardian's consent on record: nothing is shared."""
    citizen = session.get(Citizen, citizen_key)
    minor = citizen is not None and is_minor(citizen.born_on, today)
    return minor and guardian_consent(session, citizen_key) is None


@transactional
def record_guardian_consent(
    session: Session,
    actor: Actor,
    keyer: CitizenKeyer,
    *,
    minor_national_id: str,
    guardian_national_id: str,
    relation: str,
    today: date,
) -> GuardianConsent:
    """The programme office records a guardian's consent after checking the signed
    form and the household registration (we cannot check kinship ourselves)."""
    if not actor.is_program_office:
        raise Forbidden("Guardians' consent is recorded by the programme office.")
    try:
        minor_key = keyer.key(minor_national_id)
    except InvalidNationalId as exc:
        raise _invalid("#/minor_national_id", exc.message_en) from exc
    try:
        guardian_key = keyer.key(guardian_national_id)
    except InvalidNationalId as exc:
        raise _invalid("#/guardian_national_id", exc.message_en) from exc
    if minor_key == guardian_key:
        raise _invalid("#/guardian_national_id", "A guardian is another person.")
    minor = session.get(Citizen, minor_key)
    if minor is None:
        raise _invalid("#/minor_national_id", "The young person has not signed in yet.")
    if not is_minor(minor.born_on, today):
        raise _invalid("#/minor_national_id", "This person is 20 or older: no guardian needed.")
    relation = relation.strip() or "guardian"
    record = GuardianConsent(
        citizen_key=minor_key,
        guardian_key=guardian_key,
        relation=relation[:40],
        recorded_by=actor.label,
    )
    session.add(record)
    session.flush()
    audit.record(session, actor, "guardian_consent.record", record)
    return record
