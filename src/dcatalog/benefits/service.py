"""Benefits: defining and approving them, a citizen's progress toward each, and
partners' eligibility checks (only with the citizen's consent, logged).

Lifecycle (``dcatalog.review``, as for deed types and campaigns): an agency
defines a draft, edits it, submits it; the programme office approves it (then it
is offered) or sends it back to draft with a note; the agency or the office
retires an approved one (no longer offered; codes already issued can still be
redeemed until they expire).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog import review
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency
from dcatalog.audit import service as audit
from dcatalog.audit.models import AuditEvent
from dcatalog.benefits import rules
from dcatalog.benefits.evaluation import (
    Ahead,
    Verdict,
    ahead,
    check_references,
    evaluate,
    read_tallies,
)
from dcatalog.benefits.models import Award, AwardStatus, Benefit, BenefitKind, Claim
from dcatalog.calendars.periods import MonthDay
from dcatalog.citizens import consent as consents
from dcatalog.citizens.disclosure import checked_purpose, key_of, log_access
from dcatalog.citizens.models import AccessOutcome
from dcatalog.db import transactional
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.problems import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationProblem,
    missing_permission,
    required_text,
)
from dcatalog.review import ReviewStatus


@transactional
def define(
    session: Session,
    actor: Actor,
    agency: Agency,
    *,
    code: str,
    kind: BenefitKind,
    rule: Any,
    name_th: str,
    name_en: str,
    description_th: str = "",
    description_en: str = "",
    thanks_th: str = "",
    thanks_en: str = "",
    quota: int | None = None,
    per_citizen_limit: int = 1,
    valid_from: date | None = None,
    valid_until: date | None = None,
    awarded_automatically: bool = False,
) -> Benefit:
    """A new benefit (a draft until the programme office approves it)."""
    if not _may_author(actor, agency.id):
        raise Forbidden("An agency defines its own benefits.")
    code = code.strip().lower()
    if not code or len(code) > 64:
        raise ValidationProblem(
            "A benefit's code has 1 to 64 characters.",
            errors=[FieldError("1 to 64 characters", pointer="#/code")],
        )
    values = _checked(
        session,
        kind=kind,
        rule=rule,
        name_th=name_th,
        name_en=name_en,
        description_th=description_th,
        description_en=description_en,
        thanks_th=thanks_th,
        thanks_en=thanks_en,
        quota=quota,
        per_citizen_limit=per_citizen_limit,
        valid_from=valid_from,
        valid_until=valid_until,
        awarded_automatically=awarded_automatically,
    )
    if session.scalar(select(Benefit.id).where(Benefit.code == code)):
        raise Conflict(f"A benefit {code} exists already.")
    benefit = Benefit(
        code=code,
        agency_id=agency.id,
        status=ReviewStatus.DRAFT,
        created_by=actor.label,
        **values,
    )
    session.add(benefit)
    audit.record(session, actor, "benefit.define", benefit, agency_id=agency.id)
    return benefit


def _may_author(actor: Actor, agency_id: uuid.UUID) -> bool:
    """An agency's own benefits are drafted by its catalog writers (the programme
    office may draft for any agency)."""
    return actor.is_program_office or (actor.can(Scope.CATALOG_WRITE) and actor.acts_for(agency_id))


def _checked(
    session: Session,
    *,
    kind: BenefitKind,
    rule: Any,
    name_th: str,
    name_en: str,
    description_th: str,
    description_en: str,
    thanks_th: str,
    thanks_en: str,
    quota: int | None,
    per_citizen_limit: int,
    valid_from: date | None,
    valid_until: date | None,
    awarded_automatically: bool,
) -> dict[str, Any]:
    """A benefit's fields, checked (the rule first: ``RuleError`` says where and why)."""
    parsed = rules.parse(rule)
    check_references(session, parsed)
    errors = [
        FieldError("1 to 200 characters", pointer=f"#/{name}")
        for name, value in (("name_th", name_th), ("name_en", name_en))
        if not value.strip() or len(value) > 200
    ]
    if quota is not None and quota < 1:
        errors.append(FieldError("at least 1, or none for no limit", pointer="#/quota"))
    if per_citizen_limit < 1:
        errors.append(FieldError("at least 1", pointer="#/per_citizen_limit"))
    if errors:
        raise ValidationProblem(
            "Some fields of the benefit are not valid; see errors.", errors=errors
        )
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationProblem(
            "The benefit ends before it starts.",
            errors=[FieldError("before valid_from", pointer="#/valid_until")],
        )
    if awarded_automatically and kind is not BenefitKind.RECOGNITION:
        raise ValidationProblem(
            "Only a recognition can be awarded automatically (a milestone).",
            errors=[FieldError("needs kind recognition", pointer="#/awarded_automatically")],
        )
    return {
        "kind": kind,
        "rule": rules.to_json(parsed),
        "name_th": name_th.strip(),
        "name_en": name_en.strip(),
        "description_th": description_th,
        "description_en": description_en,
        "thanks_th": thanks_th,
        "thanks_en": thanks_en,
        "quota": quota,
        "per_citizen_limit": per_citizen_limit,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "awarded_automatically": awarded_automatically,
    }


def _step(session: Session, actor: Actor, benefit: Benefit, step: str, note: str = "") -> None:
    review.move(
        session, actor, benefit, step, name=benefit.code, action=f"benefit.{step}",
        agency_id=benefit.agency_id, note=note,
    )  # fmt: skip


@transactional
def approve(session: Session, actor: Actor, benefit: Benefit, note: str = "") -> Benefit:
    if not actor.can(Scope.CATALOG_APPROVE):
        raise Forbidden("Benefits are approved by the programme office.")
    _step(session, actor, benefit, "approve", note)
    return benefit


@transactional
def update_draft(session: Session, actor: Actor, benefit: Benefit, **fields: Any) -> Benefit:
    """Change a draft (every field but the code and the agency). A draft with the
    programme office waits for its decision first."""
    _require_author(actor, benefit)
    if benefit.waiting:
        raise Conflict(f"{benefit.code} is with the programme office; wait for its decision.")
    if benefit.status is not ReviewStatus.DRAFT:
        raise Conflict(f"{benefit.code} is {benefit.status.value}: only a draft can be changed.")
    current = {name: getattr(benefit, name) for name in _FIELDS}
    unknown = set(fields) - set(_FIELDS)
    if unknown:
        raise TypeError(f"not a field of a benefit's draft: {sorted(unknown)}")
    values = _checked(session, **{**current, **fields})
    before = audit.snapshot(benefit)
    for name, value in values.items():
        setattr(benefit, name, value)
    audit.record(
        session, actor, "benefit.update", benefit, before=before, agency_id=benefit.agency_id
    )
    return benefit


_FIELDS = (
    "kind",
    "rule",
    "name_th",
    "name_en",
    "description_th",
    "description_en",
    "thanks_th",
    "thanks_en",
    "quota",
    "per_citizen_limit",
    "valid_from",
    "valid_until",
    "awarded_automatically",
)


@transactional
def submit(session: Session, actor: Actor, benefit: Benefit) -> Benefit:
    """Send a draft to the programme office for approval."""
    _require_author(actor, benefit)
    if benefit.waiting:
        raise Conflict(f"{benefit.code} is with the programme office already.")
    _step(session, actor, benefit, "submit")
    return benefit


@transactional
def send_back(session: Session, actor: Actor, benefit: Benefit, note: str) -> Benefit:
    """Return a submitted draft to its agency, saying what to change."""
    if not actor.can(Scope.CATALOG_APPROVE):
        raise Forbidden("Benefits are reviewed by the programme office.")
    _step(session, actor, benefit, "send_back", note)
    return benefit


@transactional
def retire(session: Session, actor: Actor, benefit: Benefit, reason: str) -> Benefit:
    """No longer offered: nobody reaches or claims it from now on. Claims and awards
    already made stay (a code issued can still be redeemed until it expires)."""
    if not (actor.can(Scope.CATALOG_APPROVE) or _may_author(actor, benefit.agency_id)):
        raise Forbidden("A benefit is retired by its agency or the programme office.")
    required_text(reason, "reason", "Say why it is retired.")
    _step(session, actor, benefit, "retire", reason)
    return benefit


def _require_author(actor: Actor, benefit: Benefit) -> None:
    if not _may_author(actor, benefit.agency_id):
        raise NotFound(f"Your agency has no benefit {benefit.code!r}.")


# --- managing: what agencies and the programme office see -------------------------------


@dataclass(frozen=True)
class Managed:
    """A benefit as the people who manage it see it."""

    benefit: Benefit
    claims: int = 0  # issued or redeemed: what uses up the quota
    awards: int = 0  # milestones awarded and in force


def get_own(session: Session, actor: Actor, code: str) -> Benefit:
    """A benefit of the actor's agency, in any status (any agency's for the
    programme office); another agency's are "not found": none of its business."""
    benefit = session.scalar(select(Benefit).where(Benefit.code == code.strip().lower()))
    if benefit is None or not (actor.is_program_office or actor.acts_for(benefit.agency_id)):
        raise NotFound(f"Your agency has no benefit {code!r}.")
    return benefit


def _counted(session: Session, benefits: Sequence[Benefit]) -> list[Managed]:
    ids = [b.id for b in benefits]
    if not ids:
        return []
    claims = dict(
        session.execute(
            select(Claim.benefit_id, func.count(Claim.id))
            .where(Claim.benefit_id.in_(ids))
            .group_by(Claim.benefit_id)
        ).all()
    )
    awards = dict(
        session.execute(
            select(Award.benefit_id, func.count(Award.id))
            .where(Award.benefit_id.in_(ids), Award.status == AwardStatus.AWARDED)
            .group_by(Award.benefit_id)
        ).all()
    )
    return [Managed(b, claims.get(b.id, 0), awards.get(b.id, 0)) for b in benefits]


def managed(session: Session, actor: Actor) -> list[Managed]:
    """The agency's own benefits (every agency's for the programme office), with
    the claims and awards each has and where its draft stands."""
    if not (actor.can(Scope.CATALOG_WRITE) or actor.can(Scope.CATALOG_APPROVE)):
        raise missing_permission("catalog:write")
    query = select(Benefit)
    if not actor.is_program_office:
        query = query.where(Benefit.agency_id == actor.agency_id)
    return _counted(session, sorted(session.scalars(query), key=lambda b: b.sort_key))


def managed_one(session: Session, actor: Actor, code: str) -> Managed:
    return _counted(session, [get_own(session, actor, code)])[0]


def waiting(session: Session, actor: Actor) -> list[Managed]:
    """Drafts submitted to the programme office, the longest waiting first."""
    if not actor.can(Scope.CATALOG_APPROVE):
        raise missing_permission("catalog:approve")
    query = select(Benefit).where(Benefit.status == ReviewStatus.SUBMITTED)
    found = _counted(session, session.scalars(query).all())
    return sorted(found, key=lambda m: (m.benefit.submitted_at, m.benefit.sort_key))


def history(session: Session, benefit: Benefit) -> list[AuditEvent]:
    """What happened to a benefit, oldest first, as the audit trail has it."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == Benefit.__tablename__,
            AuditEvent.entity_id == str(benefit.id),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(session.scalars(query))


def offered_for_consent(session: Session, code: str) -> tuple[Benefit, list[str]] | None:
    """The benefit ``code`` if it is on offer, with the subjects its rule reads: a
    consent for it covers exactly those (``citizens.consent.offer``)."""
    benefit = session.scalar(select(Benefit).where(Benefit.code == code))
    if benefit is None or benefit.status is not ReviewStatus.APPROVED:
        return None
    return benefit, sorted({c.subject for c in rules.conditions(rules.parse(benefit.rule))})


def reached_through(session: Session, subjects: Collection[str], today: date) -> list[Benefit]:
    """Benefits on offer whose rule reads any of these subjects (``type:<code>``,
    ``virtue:<code>``): what a deed type leads to."""
    wanted = set(subjects)
    return [
        b
        for b in offered(session, today)
        if wanted & {c.subject for c in rules.conditions(rules.parse(b.rule))}
    ]


def offered(session: Session, today: date) -> list[Benefit]:
    """Approved benefits open today."""
    query = select(Benefit).where(Benefit.status == ReviewStatus.APPROVED)
    found = [b for b in session.scalars(query) if b.open_on(today)]
    return sorted(found, key=lambda b: b.sort_key)


def get(session: Session, code: str) -> Benefit:
    benefit = session.scalar(select(Benefit).where(Benefit.code == code))
    if benefit is None or benefit.status is not ReviewStatus.APPROVED:
        raise NotFound(f"No benefit {code!r} is offered.")
    return benefit


@dataclass(frozen=True)
class Progress:
    benefit: Benefit
    verdict: Verdict
    # What today's deeds count toward, where the rule looks back at a closed year.
    ahead: list[Ahead] = field(default_factory=list)
    # She has had at least one deed of a kind the rule counts: otherwise the
    # benefit cannot concern her yet, and her page folds it away.
    concerns: bool = True


def progress(
    session: Session, citizen_key: str, today: date, academic_start: MonthDay
) -> list[Progress]:
    """Where the citizen stands toward every benefit on offer: those that concern
    her first (reached ones first, then the nearest), then the others."""
    offers = [(b, rules.parse(b.rule)) for b in offered(session, today)]
    subjects = {c.subject for _b, rule in offers for c in rules.conditions(rule)}
    # Her tallies of every subject any offer reads, every period: once for them all.
    tallies = read_tallies(session, subjects, [citizen_key])
    had = {
        subject for (_k, subject, period), t in tallies.items() if period == "lifetime" and t.count
    }
    found = []
    for benefit, rule in offers:
        verdict = evaluate(session, rule, citizen_key, today, academic_start, tallies)
        concerns = any(c.subject in had for c in rules.conditions(rule))
        found.append(
            Progress(
                benefit,
                verdict,
                ahead(session, verdict, citizen_key, today, academic_start, tallies),
                concerns,
            )
        )
    return sorted(
        found,
        key=lambda p: (
            not p.concerns,
            not p.verdict.met,
            -_closeness(p.verdict),
            p.benefit.sort_key,
        ),
    )


def _closeness(verdict: Verdict) -> Decimal:
    """How far along the conditions are, 0 to 1 on average: the nearest benefit first."""
    shares = [min(f.have / f.condition.at_least, Decimal(1)) for f in verdict.figures]
    return sum(shares, Decimal(0)) / len(shares) if shares else Decimal(0)


# --- partners' eligibility checks ----------------------------------------------------


NO_CONSENT = "no consent covering what the rule reads"
NO_GUARDIAN = "minor without a guardian's consent"


@dataclass(frozen=True)
class Check:
    outcome: AccessOutcome
    reason: str
    verdict: Verdict | None
    citizen_key: str = ""  # whom it was about (the counter seals it to check again)


@transactional
def check_eligibility(
    session: Session,
    actor: Actor,
    keyer: CitizenKeyer,
    *,
    national_id: str,
    benefit_code: str,
    purpose: str,
    today: date,
    academic_start: MonthDay,
) -> Check:
    """Does a citizen meet a benefit's rule? Answered only with the citizen's
    consent (and a guardian's for a minor); every check is in the access log."""
    _checked_request(session, actor, purpose, benefit_code)  # before the ID is read
    return check_eligibility_of(
        session,
        actor,
        key_of(keyer, national_id),
        benefit_code=benefit_code,
        purpose=purpose,
        today=today,
        academic_start=academic_start,
    )


def _checked_request(
    session: Session, actor: Actor, purpose: str, benefit_code: str
) -> tuple[str, Benefit]:
    if not actor.can(Scope.ELIGIBILITY_READ) or actor.agency_id is None:
        raise Forbidden("Eligibility checks need the permission eligibility:read.")
    return checked_purpose(purpose), get(session, benefit_code)


@transactional
def check_eligibility_of(
    session: Session,
    actor: Actor,
    citizen_key: str,
    *,
    benefit_code: str,
    purpose: str,
    today: date,
    academic_start: MonthDay,
) -> Check:
    """``check_eligibility`` of a citizen known by their key: the counter's "check
    again" once the citizen has answered its consent request (it keeps the key, sealed,
    so the ID is not typed or shown a second time)."""
    purpose, benefit = _checked_request(session, actor, purpose, benefit_code)
    rule = rules.parse(benefit.rule)
    subjects = [c.subject for c in rules.conditions(rule)]
    if not consents.Coverage(session, subjects).covered_now(session, citizen_key, actor.agency_id):
        check = Check(AccessOutcome.REFUSED, NO_CONSENT, None, citizen_key)
    elif consents.needs_guardian(session, citizen_key, today):
        check = Check(AccessOutcome.REFUSED, NO_GUARDIAN, None, citizen_key)
    else:
        verdict = evaluate(session, rule, citizen_key, today, academic_start)
        check = Check(AccessOutcome.ALLOWED, "", verdict, citizen_key)
    what = f"eligibility for {benefit.code}: "
    what += check.reason if check.verdict is None else ("met" if check.verdict.met else "not met")
    log_access(session, actor, citizen_key, purpose, what, check.outcome)
    return check
