"""Milestones: recognitions awarded by themselves, and their ceremonies.

A benefit marked ``awarded_automatically`` (a milestone, such as the Red Cross
pins at 7, 16, 24, 36 … donations) is awarded in the transaction that counts
the deed making the citizen meet its rule: ``award_reached`` runs right after
the tallies are updated, when a deed is recorded verified or is verified later.
It evaluates the rule with the same evaluator the citizen's page uses, on the
day of the deed, so a calendar-year milestone reached in December stays
December's. Revoking a deed re-checks the awards it could stand behind
(``withdraw_unmet``): an award the citizen no longer meets — neither on the day
it was reached nor today — is withdrawn with the agency's reason, and its
credential is revoked. Reaching the milestone again makes a new award.

Partners hold ceremonies by province: a partner lists the citizens who reached
a milestone in a period, but only those who asked to be listed, under the name
they chose; staff mark each pin as handed over. Every listing is in the listed
citizens' access log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dcatalog import snapshots
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.benefits import rules
from dcatalog.benefits.evaluation import evaluate, evaluate_many, first_met, read_tallies
from dcatalog.benefits.models import Award, AwardStatus, Benefit
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import MonthDay
from dcatalog.citizens.disclosure import log_access
from dcatalog.citizens.models import AccessOutcome
from dcatalog.credentials import service as credentials
from dcatalog.db import new_id, transactional, utcnow
from dcatalog.deeds.counted import CountedChange, field
from dcatalog.deeds.models import Deed
from dcatalog.identity.names import given_name
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.problems import Conflict, FieldError, Forbidden, NotFound, ValidationProblem
from dcatalog.review import ReviewStatus

CEREMONY_NAME_MAX = 200
_CHUNK = 500


@dataclass(frozen=True)
class Milestone:
    """What the hot path needs of a milestone benefit (a snapshot: plain values)."""

    id: uuid.UUID
    code: str
    rule: rules.Rule
    subjects: frozenset[str]  # type:<code> / virtue:<code> its conditions read
    valid_from: date | None
    valid_until: date | None

    def reads(self, deed_type_code: str, virtue_code: str) -> bool:
        return f"type:{deed_type_code}" in self.subjects or f"virtue:{virtue_code}" in self.subjects

    def open_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


def milestones(session: Session) -> tuple[Milestone, ...]:
    """Approved milestone benefits; read on every recording, so kept as a snapshot
    (a change to a benefit in this process clears it at once)."""

    def load() -> tuple[Milestone, ...]:
        query = select(Benefit).where(
            Benefit.status == ReviewStatus.APPROVED, Benefit.awarded_automatically.is_(True)
        )
        found = []
        for benefit in session.scalars(query):
            rule = rules.parse(benefit.rule)
            subjects = frozenset(c.subject for c in rules.conditions(rule))
            found.append(
                Milestone(
                    benefit.id,
                    benefit.code,
                    rule,
                    subjects,
                    benefit.valid_from,
                    benefit.valid_until,
                )
            )
        return tuple(found)

    return snapshots.of(session).get(("milestones",), load) or ()


@dataclass(frozen=True, slots=True)
class Reaching:
    """A deed just counted, which may make its citizen reach a milestone."""

    deed_id: uuid.UUID
    citizen_key: str
    deed_type_code: str
    virtue_code: str
    occurred_on: date
    province: str


def reaching(deed: Deed | dict[str, Any]) -> Reaching:
    """What a milestone check needs of a just-counted deed (stored or just written)."""
    return Reaching(
        field(deed, "id"),
        field(deed, "citizen_key"),
        field(deed, "deed_type_code"),
        field(deed, "virtue_code"),
        field(deed, "occurred_on"),
        field(deed, "province"),
    )


def after_counted(session: Session, change: CountedChange) -> None:
    """Milestones follow every counted change (``deeds.counted``): deeds just
    counted may reach one; a deed taken out may leave one unmet."""
    if change.sign > 0:
        award_reached(session, [reaching(d) for d in change.deeds], change.academic_start)
        return
    for deed in change.deeds:
        withdraw_unmet(
            session,
            change.actor,
            field(deed, "citizen_key"),
            field(deed, "deed_type_code"),
            field(deed, "virtue_code"),
            change.reason,
            change.academic_start,
        )


def award_reached(
    session: Session, counted: Iterable[Reaching], academic_start: MonthDay
) -> list[dict[str, Any]]:
    """Award every milestone that the just-counted deeds make their citizens meet
    (in the caller's transaction, after the tallies were updated). Returns the
    award rows written."""
    found = milestones(session)
    if not found:
        return []
    deeds = [d for d in counted if any(m.reads(d.deed_type_code, d.virtue_code) for m in found)]
    if not deeds:
        return []
    # Two queries for all the milestones: who holds which already, and the
    # citizens' tallies of every subject the milestones read.
    citizens = sorted({d.citizen_key for d in deeds})
    held = _held(session, [m.id for m in found], citizens)
    subjects = {c.subject for m in found for c in rules.conditions(m.rule) if c.from_tallies}
    tallies = read_tallies(session, subjects, citizens)
    written: list[dict[str, Any]] = []
    for milestone in found:
        mine: dict[str, list[Reaching]] = {}  # per citizen, the deeds it reads
        for deed in deeds:
            if milestone.reads(deed.deed_type_code, deed.virtue_code):
                mine.setdefault(deed.citizen_key, []).append(deed)
        days = {
            key: max(d.occurred_on for d in found_deeds)
            for key, found_deeds in mine.items()
            if (milestone.id, key) not in held
        }
        if not days:
            continue
        verdicts = evaluate_many(session, milestone.rule, days, academic_start, tallies)
        rows = []
        for key, verdict in verdicts.items():
            if not verdict.met:
                continue
            reached = _reaching_deed(session, milestone, key, mine[key], academic_start)
            if reached is not None and milestone.open_on(reached.occurred_on):
                rows.append(_award_row(milestone, reached))
        if rows:
            _insert_new(session, rows)
            written.extend(rows)
    return written


def _reaching_deed(
    session: Session,
    milestone: Milestone,
    citizen_key: str,
    new: list[Reaching],
    academic_start: MonthDay,
) -> Reaching | None:
    """Which of the citizen's new deeds made the rule true: the only one, or (a
    batch of history, e.g. a donor card imported at once) the first day on which
    the deeds done by then met it."""
    if len(new) == 1:
        return new[0]
    day = first_met(
        session, milestone.rule, citizen_key, (d.occurred_on for d in new), academic_start
    )
    if day is None:
        return max(new, key=lambda d: d.occurred_on)
    return next(d for d in new if d.occurred_on == day)


def _award_row(milestone: Milestone, deed: Reaching) -> dict[str, Any]:
    return {
        "id": new_id(),
        "benefit_id": milestone.id,
        "citizen_key": deed.citizen_key,
        "status": AwardStatus.AWARDED,
        "deed_id": deed.deed_id,
        "reached_on": deed.occurred_on,
        "province": deed.province,
        "awarded_at": utcnow(),
        "withdrawal_reason": "",
    }


def _held(
    session: Session, benefit_ids: Sequence[uuid.UUID], keys: Sequence[str]
) -> set[tuple[uuid.UUID, str]]:
    """(milestone, citizen) pairs with an award in force."""
    held: set[tuple[uuid.UUID, str]] = set()
    for start in range(0, len(keys), _CHUNK):
        query = select(Award.benefit_id, Award.citizen_key).where(
            Award.benefit_id.in_(benefit_ids),
            Award.status == AwardStatus.AWARDED,
            Award.citizen_key.in_(keys[start : start + _CHUNK]),
        )
        held.update((benefit_id, key) for benefit_id, key in session.execute(query))
    return held


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert awards, skipping any a concurrent transaction just made (the partial
    unique index allows one award in force per citizen and milestone)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Award)
        .values(rows)
        .on_conflict_do_nothing(
            index_elements=["benefit_id", "citizen_key"],
            index_where=text("status = 'awarded'"),
        )
    )
    session.execute(statement)


def withdraw_unmet(
    session: Session,
    actor: Actor,
    citizen_key: str,
    deed_type_code: str,
    virtue_code: str,
    reason: str,
    academic_start: MonthDay,
) -> list[Award]:
    """After a deed was revoked (tallies already updated): withdraw the citizen's
    milestones that no longer hold, keeping the agency's reason."""
    reading = {m.id: m for m in milestones(session) if m.reads(deed_type_code, virtue_code)}
    if not reading:
        return []
    query = select(Award).where(
        Award.citizen_key == citizen_key,
        Award.status == AwardStatus.AWARDED,
        Award.benefit_id.in_(list(reading)),
    )
    withdrawn = []
    today = today_in_thailand()
    for award in session.scalars(query):
        rule = reading[award.benefit_id].rule
        still = evaluate(session, rule, citizen_key, award.reached_on, academic_start).met or (
            evaluate(session, rule, citizen_key, today, academic_start).met
        )
        if still:
            continue
        before = audit.snapshot(award)
        award.status, award.withdrawn_at = AwardStatus.WITHDRAWN, utcnow()
        award.withdrawal_reason = reason
        # Nothing left to show or call out: the public and ceremony choices go too.
        award.public_name = award.public_since = None
        award.ceremony_name = award.ceremony_consented_at = None
        audit.record(
            session,
            actor,
            "award.withdraw",
            award,
            before=before,
            reason=reason,
            agency_id=award.benefit.agency_id,
        )
        if award.credential_id is not None:
            credential = credentials.get_credential(session, award.credential_id)
            if credential is not None:
                credentials.revoke(session, credential, reason)
        withdrawn.append(award)
    return withdrawn


# --- the citizen's side ---------------------------------------------------------


def awards_of(session: Session, citizen: CitizenPrincipal) -> list[Award]:
    """The citizen's milestones, the latest reached first; several reached on one day
    (one deed of many hours can reach three) the highest step first."""
    query = select(Award).where(Award.citizen_key == citizen.citizen_key)
    found = sorted(session.scalars(query), key=lambda a: a.benefit.sort_key, reverse=True)
    return sorted(found, key=lambda a: a.reached_on, reverse=True)  # stable: keeps the above


def own_award(session: Session, citizen: CitizenPrincipal, award_id: uuid.UUID) -> Award:
    award = session.get(Award, award_id)
    if award is None or award.citizen_key != citizen.citizen_key:
        raise NotFound("You have no such award.")
    return award


@transactional
def set_ceremony_name(
    session: Session, citizen: CitizenPrincipal, award_id: uuid.UUID, name: str | None
) -> Award:
    """The citizen agrees to be listed at the partner's ceremony under ``name``
    (None: not listed, the default; agreeing again replaces the name)."""
    award = own_award(session, citizen, award_id)
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > CEREMONY_NAME_MAX:
            raise ValidationProblem(
                "Give the name to be called by at the ceremony.",
                errors=[FieldError(f"1 to {CEREMONY_NAME_MAX} characters", pointer="#/name")],
            )
    award.ceremony_name = name
    award.ceremony_consented_at = utcnow() if name is not None else None
    return award


def forget_holder(session: Session, citizen_key: str, pseudonym: str) -> None:
    """Erasure: awards move to the pseudonym (national counts stay right) and the
    chosen ceremony and public names go."""
    for award in session.scalars(select(Award).where(Award.citizen_key == citizen_key)):
        award.citizen_key = pseudonym
        award.ceremony_name = None
        award.ceremony_consented_at = None
        award.public_name, award.public_since = None, None  # off the public thank-you page


# --- the partner's ceremony -----------------------------------------------------


@dataclass(frozen=True)
class CeremonyList:
    benefit: Benefit
    awards: list[Award]  # listed: in force and the citizen agreed
    not_listed: int  # reached it but did not ask to be listed


def _own_milestone(session: Session, actor: Actor, code: str) -> Benefit:
    if not actor.can(Scope.BENEFITS_REDEEM):
        raise Forbidden("Ceremony lists need the permission benefits:redeem.")
    benefit = session.scalar(select(Benefit).where(Benefit.code == code))
    if benefit is None or not actor.acts_for(benefit.agency_id):
        raise NotFound(f"Your agency offers no milestone {code!r}.")
    return benefit


def own_milestones(session: Session, actor: Actor) -> list[Benefit]:
    if not actor.can(Scope.BENEFITS_REDEEM) or actor.agency_id is None:
        raise Forbidden("Ceremony lists need the permission benefits:redeem.")
    query = select(Benefit).where(
        Benefit.agency_id == actor.agency_id, Benefit.awarded_automatically.is_(True)
    )
    return sorted(session.scalars(query), key=lambda b: b.sort_key)


@transactional
def ceremony_list(
    session: Session,
    actor: Actor,
    *,
    benefit_code: str,
    reached_from: date | None,
    reached_until: date | None,
    province: str | None,
) -> CeremonyList:
    """Who reached the milestone in the period (and province) and asked to be
    listed. Each listed citizen's access log shows that the partner read it."""
    benefit = _own_milestone(session, actor, benefit_code)
    query = select(Award).where(Award.benefit_id == benefit.id, Award.status == AwardStatus.AWARDED)
    if reached_from is not None:
        query = query.where(Award.reached_on >= reached_from)
    if reached_until is not None:
        query = query.where(Award.reached_on <= reached_until)
    if province:
        query = query.where(Award.province == province)
    found = list(session.scalars(query.order_by(Award.province, Award.reached_on, Award.id)))
    listed = [a for a in found if a.ceremony_name is not None]
    for award in listed:
        log_access(
            session,
            actor,
            award.citizen_key,
            f"ceremony list: {benefit.code}",
            "the name chosen for the ceremony, province and day the milestone was reached",
            AccessOutcome.ALLOWED,
        )
    return CeremonyList(benefit, listed, len(found) - len(listed))


@transactional
def mark_handed_over(session: Session, actor: Actor, award_id: uuid.UUID) -> Award:
    """The pin (or medal) was handed over; marking twice keeps the first time."""
    award = session.get(Award, award_id)
    if (
        award is None
        or not actor.can(Scope.BENEFITS_REDEEM)
        or not actor.acts_for(award.benefit.agency_id)
        or award.ceremony_name is None  # a partner only sees listed awards
    ):
        raise NotFound("Your agency has no such award on a ceremony list.")
    if award.status is not AwardStatus.AWARDED:
        raise ValidationProblem("This award was withdrawn: there is nothing to hand over.")
    if award.handed_over_at is None:
        before = audit.snapshot(award)
        award.handed_over_at, award.handed_over_by = utcnow(), actor.label
        audit.record(
            session, actor, "award.hand_over", award, before=before, agency_id=actor.agency_id
        )
    return award


@transactional
def set_public_name(
    session: Session, citizen: CitizenPrincipal, award_id: uuid.UUID, name: str | None
) -> Award:
    """The citizen shows an award on the public page under ``name`` (None: not
    shown, the default). Only an award in force can be shown; hiding always works."""
    award = own_award(session, citizen, award_id)
    if name is None:
        award.public_name, award.public_since = None, None
        return award
    name = given_name(
        name, pointer="#/public_name", message="Give the name to show on the public page."
    )
    if award.status is not AwardStatus.AWARDED:
        raise Conflict("A withdrawn award cannot be shown.")
    if award.public_name is None:
        award.public_since = utcnow()
    award.public_name = name
    return award
