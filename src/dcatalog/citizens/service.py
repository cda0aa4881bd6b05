"""A citizen's record: what the citizen reads of it, and what the programme office
reads of it to review possible duplicates.

- The citizen's own record: their deeds, their totals, and where every figure
  comes from. Only ever called with the signed-in citizen's own key: there is no
  parameter by which one citizen could name another.
- The office's review of deeds that two agencies recorded for the same person on
  the same day (see dcatalog.deeds.service.held_pairs): it reads two agencies'
  records of a person, so every look is logged in that person's access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency
from dcatalog.calendars.periods import MonthDay, Period, period_from_key
from dcatalog.catalog.models import DeedTypeVersion
from dcatalog.citizens.disclosure import log_access
from dcatalog.citizens.models import AccessOutcome
from dcatalog.db import transactional
from dcatalog.deeds import service as deeds_service
from dcatalog.deeds.models import Deed, DeedStatus, Tally
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.problems import NotFound


@dataclass(frozen=True)
class DeedLine:
    """A deed with what explains it: the catalog version it was recorded under
    (its name, unit and rate) and the agency that recorded it."""

    deed: Deed
    version: DeedTypeVersion
    agency: Agency

    @property
    def counts(self) -> bool:
        return self.deed.status is DeedStatus.VERIFIED


def deeds(session: Session, citizen: CitizenPrincipal) -> list[DeedLine]:
    """All the citizen's deeds, newest first, whatever their status (a rejected or
    revoked one shows its reason)."""
    query = (
        select(Deed, DeedTypeVersion, Agency)
        .join(
            DeedTypeVersion,
            (DeedTypeVersion.deed_type_code == Deed.deed_type_code)
            & (DeedTypeVersion.version == Deed.deed_type_version),
        )
        .join(Agency, Agency.id == Deed.agency_id)
        .where(Deed.citizen_key == citizen.citizen_key)
        .order_by(Deed.occurred_on.desc(), Deed.id.desc())
    )
    return [DeedLine(*row) for row in session.execute(query)]


def tallies(session: Session, citizen: CitizenPrincipal) -> list[Tally]:
    query = (
        select(Tally)
        .where(Tally.citizen_key == citizen.citizen_key, Tally.count != 0)
        .order_by(Tally.subject, Tally.period)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Explanation:
    """Why a total is what it is: the verified deeds it adds up, each with its
    rate, so that the sum can be checked by hand."""

    subject: str
    period: Period
    lines: list[DeedLine]

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def quantity(self) -> Decimal:
        return sum((line.deed.quantity for line in self.lines), Decimal(0))

    @property
    def credits(self) -> int:
        return sum(line.deed.credits or 0 for line in self.lines)


def explain(
    session: Session,
    citizen: CitizenPrincipal,
    subject: str,
    period_key: str,
    academic_start: MonthDay,
) -> Explanation:
    """The deeds behind one of the citizen's totals (a subject and a period as the
    tallies name them)."""
    try:
        period = period_from_key(period_key, academic_start)
    except ValueError as exc:
        raise NotFound(str(exc)) from exc
    kind, _, code = subject.partition(":")
    if kind not in ("type", "virtue") or not code:
        raise NotFound(f"not a subject: {subject!r}")

    def inside(day: date) -> bool:
        return day in period

    lines = [
        line
        for line in deeds(session, citizen)
        if line.counts
        and inside(line.deed.occurred_on)
        and (line.deed.deed_type_code if kind == "type" else line.deed.virtue_code) == code
    ]
    return Explanation(subject, period, lines)


# --- the office's review of possible duplicates ---------------------------------

REVIEW_PURPOSE = "review of a possible duplicate recorded by two agencies"


@transactional
def held_pairs_for_review(session: Session, actor: Actor) -> list[deeds_service.HeldPair]:
    """The held deeds beside the other agency's records; each person whose records
    are shown gets a line in their access log."""
    pairs = deeds_service.held_pairs(session, actor)
    for citizen_key in sorted({pair.held.citizen_key for pair in pairs}):
        log_access(session, actor, citizen_key, REVIEW_PURPOSE, "deeds", AccessOutcome.ALLOWED)
    return pairs
