"""Consent: which agency may read which part of a citizen's record, and why.

Granting and withdrawing are one click each (withdrawing is never harder than
granting). A grant names an agency, a purpose and a scope (deed types and/or
virtues, as tallies name them: ``type:<code>``, ``virtue:<code>``).
Health-related deed types (PDPA s.26) are shared only with a separate,
explicit tick. A minor's record is shared only once a guardian's consent is
recorded as well (PDPA s.20).

The purpose is never typed by the citizen: it is a benefit (the agency asks for
exactly what the benefit's rule reads: ``offer``, the contract behind
``/me/consents?benefit=<code>``) or one of ``PURPOSES``, with an optional note.
Messages are message ids: each problem carries its Thai too (``detail_th``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency, AgencyStatus
from dcatalog.audit import service as audit
from dcatalog.catalog.models import DeedType, Virtue
from dcatalog.citizens.models import Consent, GuardianConsent
from dcatalog.db import transactional, utcnow
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen
from dcatalog.identity.national_id import InvalidNationalId
from dcatalog.identity.sessions import CitizenPrincipal, is_minor
from dcatalog.problems import FieldError, Forbidden, NotFound, ValidationProblem
from dcatalog.web.i18n import N_, in_thai, translated

# Purposes a citizen may choose on the bare form (a benefit is the other way).
PURPOSES: dict[str, str] = {
    "eligibility": N_("checking whether I can receive its benefits"),
    "recognition": N_("thanking or honouring me for my good deeds"),
    "studies": N_("my studies or applying for work"),
}
NOTE_LENGTH = 120


def _invalid(pointer: str, message: str) -> ValidationProblem:
    """``message`` is marked ``N_``: the problem says it in English and, for Thai
    pages and partners, in Thai."""
    return ValidationProblem(
        message, errors=[FieldError(message, pointer=pointer, detail_th=in_thai(message))]
    )


def _invalid_id(pointer: str, exc: InvalidNationalId) -> ValidationProblem:
    error = FieldError(exc.message_en, pointer=pointer, detail_th=exc.message_th)
    return ValidationProblem(exc.message_en, errors=[error])


class OfferedBenefit(Protocol):
    """A benefit as a consent's purpose: what the consent needs of it."""

    code: str
    agency: Agency

    def name(self, lang: str) -> str: ...


# The benefit ``code`` on offer now, and the subjects its rule reads; None when it
# is not offered. Benefits sit above citizens in the layers, so the lookup is
# theirs, connected in dcatalog.assembly.
BenefitLookup = Callable[[Session, str], tuple[OfferedBenefit, list[str]] | None]
_lookup: list[BenefitLookup] = []  # the one lookup, once assembled


def look_up_benefits_with(lookup: BenefitLookup) -> None:
    _lookup[:] = [lookup]


def _offered(session: Session, code: str) -> tuple[OfferedBenefit, list[str]]:
    if not _lookup:
        raise RuntimeError("no benefit lookup in this process: call dcatalog.assembly.assemble()")
    found = _lookup[0](session, code.strip())
    if found is None:
        raise _invalid("#/benefit", N_("This benefit is not offered (any more)."))
    return found


@dataclass(frozen=True)
class Offer:
    """A consent filled in for a benefit: its agency, the benefit as the purpose,
    and as the scope what its rule reads (deed types and virtues, as tallies name
    them); ``health`` lists the health-related types among them, which need the
    separate tick."""

    benefit: OfferedBenefit
    scope: list[str]
    health: list[str]


def offer(session: Session, code: str) -> Offer:
    """What consent the benefit ``code`` needs (``ValidationProblem`` if it is not offered)."""
    benefit, subjects = _offered(session, code)
    scope = sorted(set(subjects))
    health = health_types(session)
    return Offer(benefit, scope, [s for s in scope if s.removeprefix("type:") in health])


def purpose_text(
    session: Session,
    *,
    benefit_code: str | None,
    purpose_code: str,
    purpose: str,
    note: str,
    language: str,
) -> tuple[OfferedBenefit | None, str]:
    """The purpose as stored and shown (in the language the citizen read it in):
    the benefit's name, or a chosen purpose, or (older clients) a text, and the
    note after it."""
    note = " ".join(note.split())
    if len(note) > NOTE_LENGTH:
        raise _invalid("#/note", N_("A note has at most %(n)s characters.", n=NOTE_LENGTH))
    benefit: OfferedBenefit | None = None
    if benefit_code:
        benefit, _subjects = _offered(session, benefit_code)
        text = benefit.name(language)
    elif purpose_code:
        if purpose_code not in PURPOSES:
            raise _invalid("#/purpose", N_("Choose what the agency may use it for."))
        text = translated(PURPOSES[purpose_code], language)
    else:
        text = purpose.strip()
    if not text:
        raise _invalid("#/purpose", N_("Choose what the agency may use it for."))
    if note:
        text = f"{text} ({note})"
    if len(text) > 200:
        raise _invalid("#/purpose", N_("The purpose is too long (at most 200 characters)."))
    return benefit, text


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
        raise _invalid("#/scope", N_("Choose at least one kind of good deed to share."))
    types = set(session.scalars(select(DeedType.code)))
    virtues = set(session.scalars(select(Virtue.code)))
    health = health_types(session)
    for subject in wanted:
        kind, _, code = subject.partition(":")
        if not ((kind == "type" and code in types) or (kind == "virtue" and code in virtues)):
            raise _invalid(
                "#/scope", N_("%(subject)s is not a deed type or a virtue.", subject=subject)
            )
        if kind == "type" and code in health and not includes_health:
            raise _invalid(
                "#/includes_health",
                N_("%(code)s is health information: tick the separate box to share it.", code=code),
            )
    return wanted


@transactional
def grant(
    session: Session,
    citizen: CitizenPrincipal,
    *,
    agency_code: str = "",
    purpose: str = "",
    scope: Sequence[str] = (),
    includes_health: bool = False,
    benefit_code: str | None = None,
    purpose_code: str = "",
    note: str = "",
    language: str = "th",
) -> Consent:
    """A consent for a benefit (``benefit_code``: its agency, and by default the
    scope its rule reads), or for an agency and a chosen purpose (``purpose_code``;
    a ``purpose`` text is still taken from older clients)."""
    benefit, text = purpose_text(
        session,
        benefit_code=benefit_code,
        purpose_code=purpose_code,
        purpose=purpose,
        note=note,
        language=language,
    )
    if benefit is not None:
        if agency_code and agency_code != benefit.agency.code:
            raise _invalid("#/agency", N_("This benefit is offered by another agency."))
        agency_code = benefit.agency.code
        scope = scope or offer(session, benefit.code).scope
    agency = session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None or agency.status is not AgencyStatus.ACTIVE:
        raise _invalid("#/agency", N_("Choose an agency that takes part in D-Catalog."))
    consent = Consent(
        citizen_key=citizen.citizen_key,
        agency_id=agency.id,
        purpose=text,
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
        raise _invalid_id("#/minor_national_id", exc) from exc
    try:
        guardian_key = keyer.key(guardian_national_id)
    except InvalidNationalId as exc:
        raise _invalid_id("#/guardian_national_id", exc) from exc
    if minor_key == guardian_key:
        raise _invalid("#/guardian_national_id", N_("A guardian is another person."))
    minor = session.get(Citizen, minor_key)
    if minor is None:
        raise _invalid("#/minor_national_id", N_("The young person has not signed in yet."))
    if not is_minor(minor.born_on, today):
        raise _invalid("#/minor_national_id", N_("This person is 20 or older: no guardian needed."))
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


class Coverage:
    """Whether consents cover what a benefit's rule reads (its ``subjects``:
    ``type:<code>`` and ``virtue:<code>``): every deed type in the scope itself
    or through its virtue, health-related types only with the explicit tick, and
    a virtue only with the tick when some of its deed types are health-related
    (its total would include them). The one copy of the PDPA rule: an agency's
    eligibility check and an eligibility report both ask it, the report once per
    distinct scope."""

    def __init__(self, session: Session, subjects: Iterable[str]) -> None:
        self.subjects = list(subjects)
        self.health = health_types(session)
        self.virtue_of = {
            entry.code: entry.in_force.virtue_code
            for entry in session.scalars(select(DeedType))
            if entry.in_force is not None
        }
        self._memo: dict[tuple[frozenset[str], bool], bool] = {}

    def covers(self, scope: frozenset[str], includes_health: bool) -> bool:
        known = self._memo.get((scope, includes_health))
        if known is None:
            known = self._memo[(scope, includes_health)] = self._covers(scope, includes_health)
        return known

    def covered_now(self, session: Session, citizen_key: str, agency_id: uuid.UUID | None) -> bool:
        """By the citizen's consents to this agency in force now (none, or no agency:
        not covered)."""
        active = active_for(session, citizen_key, agency_id) if agency_id else []
        if not active:
            return False
        scope = frozenset(s for c in active for s in c.scope)
        return self.covers(scope, any(c.includes_health for c in active))

    def _covers(self, scope: frozenset[str], includes_health: bool) -> bool:
        for subject in self.subjects:
            kind, _, code = subject.partition(":")
            if kind == "type":
                if subject not in scope and f"virtue:{self.virtue_of.get(code)}" not in scope:
                    return False
                if code in self.health and not includes_health:
                    return False
            elif subject not in scope:
                return False
            elif not includes_health and any(self.virtue_of.get(t) == code for t in self.health):
                return False  # a virtue's total would include health-related deeds
        return True
