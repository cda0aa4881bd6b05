"""Benefits: defining and approving them, a citizen's progress toward each, and
partners' eligibility checks (only with the citizen's consent, logged)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency
from dcatalog.audit import service as audit
from dcatalog.benefits import rules
from dcatalog.benefits.evaluation import Verdict, check_references, evaluate
from dcatalog.benefits.models import Benefit, BenefitKind, BenefitStatus
from dcatalog.calendars.periods import MonthDay
from dcatalog.catalog.models import DeedType
from dcatalog.citizens import consent as consents
from dcatalog.citizens.disclosure import checked_purpose, key_of, log_access
from dcatalog.citizens.models import AccessOutcome
from dcatalog.db import transactional, utcnow
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.problems import Conflict, FieldError, Forbidden, NotFound, ValidationProblem


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
    if not (actor.is_program_office or actor.acts_for(agency.id)):
        raise Forbidden("An agency defines its own benefits.")
    parsed = rules.parse(rule)
    check_references(session, parsed)
    code = code.strip().lower()
    if session.scalar(select(Benefit.id).where(Benefit.code == code)):
        raise Conflict(f"A benefit {code} exists already.")
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
    benefit = Benefit(
        code=code,
        agency_id=agency.id,
        kind=kind,
        status=BenefitStatus.DRAFT,
        name_th=name_th,
        name_en=name_en,
        description_th=description_th,
        description_en=description_en,
        thanks_th=thanks_th,
        thanks_en=thanks_en,
        rule=rules.to_json(parsed),
        quota=quota,
        per_citizen_limit=per_citizen_limit,
        valid_from=valid_from,
        valid_until=valid_until,
        awarded_automatically=awarded_automatically,
        created_by=actor.label,
    )
    session.add(benefit)
    audit.record(session, actor, "benefit.define", benefit, agency_id=agency.id)
    return benefit


@transactional
def approve(session: Session, actor: Actor, benefit: Benefit) -> Benefit:
    if not actor.can(Scope.CATALOG_APPROVE):
        raise Forbidden("Benefits are approved by the programme office.")
    if benefit.status is not BenefitStatus.DRAFT:
        raise Conflict(f"{benefit.code} is {benefit.status.value}, not a draft.")
    before = audit.snapshot(benefit)
    benefit.status = BenefitStatus.APPROVED
    benefit.decided_by, benefit.decided_at = actor.label, utcnow()
    audit.record(
        session, actor, "benefit.approve", benefit, before=before, agency_id=benefit.agency_id
    )
    return benefit


def offered(session: Session, today: date) -> list[Benefit]:
    """Approved benefits open today."""
    query = select(Benefit).where(Benefit.status == BenefitStatus.APPROVED).order_by(Benefit.code)
    return [b for b in session.scalars(query) if b.open_on(today)]


def get(session: Session, code: str) -> Benefit:
    benefit = session.scalar(select(Benefit).where(Benefit.code == code))
    if benefit is None or benefit.status is not BenefitStatus.APPROVED:
        raise NotFound(f"No benefit {code!r} is offered.")
    return benefit


@dataclass(frozen=True)
class Progress:
    benefit: Benefit
    verdict: Verdict


def progress(
    session: Session, citizen_key: str, today: date, academic_start: MonthDay
) -> list[Progress]:
    """Where the citizen stands toward every benefit on offer: reached ones first."""
    found = [
        Progress(b, evaluate(session, rules.parse(b.rule), citizen_key, today, academic_start))
        for b in offered(session, today)
    ]
    return sorted(found, key=lambda p: (not p.verdict.met, p.benefit.code))


# --- partners' eligibility checks ----------------------------------------------------


@dataclass(frozen=True)
class Check:
    outcome: AccessOutcome
    reason: str
    verdict: Verdict | None


def _consented(session: Session, citizen_key: str, agency_id: Any, rule: rules.Rule) -> bool:
    """An active consent of the citizen covers every deed type or virtue the rule
    reads (health-related types only with the explicit tick)."""
    active = consents.active_for(session, citizen_key, agency_id)
    scope = {s for c in active for s in c.scope}
    includes_health = any(c.includes_health for c in active)
    health = consents.health_types(session)
    virtue_of = {
        entry.code: entry.in_force.virtue_code
        for entry in session.scalars(select(DeedType))
        if entry.in_force is not None
    }
    for condition in rules.conditions(rule):
        kind, _, code = condition.subject.partition(":")
        if kind == "type":
            if condition.subject not in scope and f"virtue:{virtue_of.get(code)}" not in scope:
                return False
            if code in health and not includes_health:
                return False
        elif condition.subject not in scope:
            return False
        elif not includes_health and any(virtue_of.get(t) == code for t in health):
            return False  # a virtue's total would include health-related deeds
    return bool(active)


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
    if not actor.can(Scope.ELIGIBILITY_READ) or actor.agency_id is None:
        raise Forbidden("Eligibility checks need the permission eligibility:read.")
    purpose = checked_purpose(purpose)
    benefit = get(session, benefit_code)
    citizen_key = key_of(keyer, national_id)
    rule = rules.parse(benefit.rule)
    if not _consented(session, citizen_key, actor.agency_id, rule):
        check = Check(AccessOutcome.REFUSED, "no consent covering what the rule reads", None)
    elif consents.needs_guardian(session, citizen_key, today):
        check = Check(AccessOutcome.REFUSED, "minor without a guardian's consent", None)
    else:
        verdict = evaluate(session, rule, citizen_key, today, academic_start)
        check = Check(AccessOutcome.ALLOWED, "", verdict)
    what = f"eligibility for {benefit.code}: "
    what += check.reason if check.verdict is None else ("met" if check.verdict.met else "not met")
    log_access(session, actor, citizen_key, purpose, what, check.outcome)
    return check
