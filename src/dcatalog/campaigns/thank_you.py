"""The public thank-you page's figures: national counters of this year's verified
good deeds, and the recognitions citizens chose to show.

National counters (``national_counters``) are totals of verified deeds in the
calendar year, one set-based query, kept for a minute like campaign progress.
Which deed types a counter adds up is data (``COUNTERS``), resolved against the
catalog: a counter names a virtue and a unit, or deed types by code. A figure
counting fewer than ten people is not shown (``MIN_CITIZENS``).

Public recognitions are opt-in, per award: the citizen chooses the name shown
(``benefits.awards.set_public_name``), nothing is public by default, and withdrawing the choice —
or the award being withdrawn, or the citizen's erasure — takes it off the page
at once (the list is read fresh on every visit, never cached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from dcatalog.agencies.models import Agency
from dcatalog.benefits.models import Award, AwardStatus, Benefit
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.campaigns.cache import figures
from dcatalog.campaigns.models import GoalMeasure
from dcatalog.campaigns.service import MIN_CITIZENS, VERIFIED, as_decimal
from dcatalog.catalog.models import DeedType, DeedTypeVersion
from dcatalog.db import utcnow
from dcatalog.deeds.models import Deed

NEWEST = 12


@dataclass(frozen=True)
class CounterSpec:
    """One national counter: which deed types it adds up, and how."""

    key: str
    measure: GoalMeasure
    virtue: str | None = None
    unit: str | None = None
    deed_types: tuple[str, ...] = ()

    def selects(self, code: str, virtue: str, unit: str) -> bool:
        if self.deed_types:
            return code in self.deed_types
        return (self.virtue is None or self.virtue == virtue) and (
            self.unit is None or self.unit == unit
        )


COUNTERS = (
    CounterSpec("volunteer_hours", GoalMeasure.QUANTITY, virtue="volunteering", unit="hour"),
    CounterSpec(
        "blood_donations",
        GoalMeasure.COUNT,
        deed_types=(
            "redcross.blood_donation",
            "redcross.platelet_donation",
            "redcross.plasma_donation",
        ),
    ),
    CounterSpec("active_days", GoalMeasure.QUANTITY, virtue="health", unit="day"),
    CounterSpec("citizens", GoalMeasure.CITIZENS),  # everyone with a verified deed
)


@dataclass(frozen=True)
class Figure:
    key: str
    value: Decimal
    citizens: int

    @property
    def shown(self) -> bool:
        return self.citizens >= MIN_CITIZENS


@dataclass(frozen=True)
class NationalFigures:
    year: int  # Christian Era; pages show the Buddhist Era
    starts_on: date
    ends_on: date
    figures: tuple[Figure, ...]
    as_of: datetime

    def __getitem__(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def _catalog(session: Session) -> list[tuple[str, str, str]]:
    """(code, virtue, unit) of every deed type that has been approved (retired ones
    too: their deeds of this year still count)."""
    query = select(DeedType.code, DeedTypeVersion.virtue_code, DeedTypeVersion.unit).join(
        DeedTypeVersion,
        (DeedTypeVersion.deed_type_code == DeedType.code)
        & (DeedTypeVersion.version == DeedType.current_version),
    )
    return [(code, virtue, unit) for code, virtue, unit in session.execute(query)]


def national_counters(
    session: Session, today: date | None = None, *, fresh: bool = False
) -> NationalFigures:
    """This calendar year's national totals of verified deeds (cached a minute)."""
    today = today or today_in_thailand()
    cache = figures(session)
    key = ("national", today.year, today)
    hit = None if fresh else cache.peek(key)
    if isinstance(hit, NationalFigures):
        return hit
    counted = _count(session, date(today.year, 1, 1), date(today.year, 12, 31))
    cache.put(key, counted)
    return counted


def _count(session: Session, starts_on: date, ends_on: date) -> NationalFigures:
    catalog = _catalog(session)
    every = [code for code, _virtue, _unit in catalog]
    columns: list[Any] = [func.count(distinct(Deed.citizen_key))]
    for spec in COUNTERS:
        if spec.measure is GoalMeasure.CITIZENS:
            continue
        codes = [code for code, virtue, unit in catalog if spec.selects(code, virtue, unit)]
        chosen = Deed.deed_type_code.in_(codes)
        if spec.measure is GoalMeasure.QUANTITY:
            columns.append(func.sum(case((chosen, Deed.quantity))))
        else:
            columns.append(func.count(case((chosen, 1))))
        columns.append(func.count(distinct(case((chosen, Deed.citizen_key)))))
    row: Any = None
    if every:
        # Every code of the catalog, not "any type": the (deed_type_code, occurred_on)
        # index then serves this query too (the catalog is a small reference table).
        query = select(*columns).where(
            VERIFIED,
            Deed.deed_type_code.in_(every),
            Deed.occurred_on >= starts_on,
            Deed.occurred_on <= ends_on,
        )
        row = session.execute(query).one()
    values = list(row) if row is not None else [0] * len(columns)
    total = int(values[0] or 0)
    found: list[Figure] = []
    position = 1
    for spec in COUNTERS:
        if spec.measure is GoalMeasure.CITIZENS:
            found.append(Figure(spec.key, Decimal(total), total))
            continue
        amount, people = values[position], int(values[position + 1] or 0)
        position += 2
        found.append(Figure(spec.key, as_decimal(amount), people))
    return NationalFigures(starts_on.year, starts_on, ends_on, tuple(found), utcnow())


# --- recognitions citizens chose to show ----------------------------------------------


@dataclass(frozen=True)
class Recognition:
    """What the public page shows of an award: nothing but what the citizen chose."""

    name: str
    milestone_th: str
    milestone_en: str
    partner_th: str
    partner_en: str
    province: str
    month: date  # the first day of the month it was reached

    def milestone(self, lang: str) -> str:
        return self.milestone_th if lang == "th" else self.milestone_en

    def partner(self, lang: str) -> str:
        return self.partner_th if lang == "th" else self.partner_en


def newest_recognitions(session: Session, limit: int = NEWEST) -> list[Recognition]:
    """Awards in force whose citizen chose to show them, the newest choice first."""
    query = (
        select(
            Award.public_name,
            Award.province,
            Award.reached_on,
            Benefit.name_th,
            Benefit.name_en,
            Agency.name_th,
            Agency.name_en,
        )
        .join(Benefit, Benefit.id == Award.benefit_id)
        .join(Agency, Agency.id == Benefit.agency_id)
        .where(Award.public_name.is_not(None), Award.status == AwardStatus.AWARDED)
        .order_by(Award.public_since.desc(), Award.id.desc())
        .limit(limit)
    )
    return [
        Recognition(str(name), m_th, m_en, p_th, p_en, province, reached.replace(day=1))
        for name, province, reached, m_th, m_en, p_th, p_en in session.execute(query)
    ]
