"""The figures of the programme office's dashboard, and for anyone who reports them
(the progress report, the public page's national counters).

Every figure comes from the snapshot (``stats_cell``) as published, perturbed or
marked small (``stats.perturbation``): a small figure is ``None`` here and never reaches a page, a
CSV file or a chart. ``figures`` answers one table (a total and its rows by one
dimension) for a period and filters; ``dashboard`` all the tables of the page;
``national_counters`` a fiscal year's national totals, live from the rollup.

One rule for adding up across deed types (``quantities``): counts add up —
verified deeds, donations, citizens, credits (the programme's own unit) and
claims — but a quantity adds up only within its unit (hours with hours, days
with days), so a figure of several deed types has one quantity per unit and
never one sum of hours, times and kilometres.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.orm import Session

from dcatalog.agencies.models import Agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import fiscal_year
from dcatalog.catalog.models import DeedType, DeedTypeVersion, Virtue
from dcatalog.catalog.schemas import UNITS
from dcatalog.db import utcnow
from dcatalog.geo.provinces import PROVINCES
from dcatalog.problems import FieldError, ValidationProblem
from dcatalog.stats import periods
from dcatalog.stats.models import CellStatus, RefreshStatus, StatsCell, StatsRefresh, StatsRollup
from dcatalog.stats.snapshot import STALE_AFTER, Kind, deed_kinds
from dcatalog.stats.suppression import label
from dcatalog.web.i18n import N_

GroupBy = Literal["month", "virtue", "deed_type", "agency", "province"]
GROUP_BYS: tuple[GroupBy, ...] = ("month", "virtue", "deed_type", "agency", "province")
_COLUMN = {
    "virtue": StatsCell.virtue_code,
    "deed_type": StatsCell.deed_type_code,
    "agency": StatsCell.agency,
    "province": StatsCell.province,
}
MEASURES = ("deeds", "donations", "credits", "citizens")  # counts: they add up across deed types
FUTURE = "—"  # what a month still to come shows instead of figures (never 0)


@dataclass(frozen=True)
class Filters:
    """A period key (``fy:2570``, ``q:2570-1``, ``m:2026-10``) and filters, each
    ``''`` for all."""

    period: str
    virtue: str = ""
    deed_type: str = ""
    agency: str = ""
    province: str = ""

    @property
    def claims_apply(self) -> bool:
        """Claims are counted by agency and time only."""
        return not (self.virtue or self.deed_type or self.province)

    def values(self) -> dict[str, str]:
        return {
            "virtue": self.virtue,
            "deed_type": self.deed_type,
            "agency": self.agency,
            "province": self.province,
        }


@dataclass(frozen=True)
class Figure:
    """One cell as it may be shown. Hidden figures are None; ``shown_as`` says
    what to show instead ("<10", or "—" for a month still to come)."""

    value: str  # the row's code (a month's key for the trend); "" for the total
    status: CellStatus = CellStatus.SHOWN
    deeds: int | None = 0
    # Quantity per unit (``hour`` → 12.5), each summed within its unit only; None if hidden.
    quantities: dict[str, Decimal] | None = field(default_factory=dict)
    donations: int | None = 0
    credits: int | None = 0
    citizens: int | None = 0
    claims_status: CellStatus = CellStatus.SHOWN
    claims: int | None = 0
    claimants: int | None = 0
    claims_apply: bool = True
    future: bool = False  # a month still to come: nothing to count yet, which is not zero

    @property
    def hidden(self) -> bool:
        return self.status is not CellStatus.SHOWN

    @property
    def shown_as(self) -> str:
        if self.future:
            return FUTURE
        return label(self.status) if self.hidden else ""

    def quantity(self, unit: str) -> Decimal | None:
        """The quantity in one unit (0 when none of its deed types counts here)."""
        return None if self.quantities is None else self.quantities.get(unit, Decimal(0))

    @property
    def claims_hidden(self) -> bool:
        return self.claims_apply and self.claims_status is not CellStatus.SHOWN

    @property
    def claims_shown_as(self) -> str:
        if self.future:
            return FUTURE
        if not self.claims_apply:
            return ""
        return label(self.claims_status) if self.claims_hidden else ""


@dataclass(frozen=True)
class Table:
    group_by: GroupBy
    filters: Filters
    total: Figure
    rows: list[Figure]
    claims_apply: bool
    units: tuple[str, ...] = ()  # the units of the deed types counted, in catalog order
    kinds: dict[str, Kind] = field(default_factory=dict)  # deed type → its unit

    def row(self, value: str) -> Figure:
        return next((r for r in self.rows if r.value == value), _empty(value, self.claims_apply))


@dataclass(frozen=True)
class Freshness:
    as_of: datetime | None  # when the shown figures were read from the deeds
    running_since: datetime | None  # a refresh in progress, if any
    failed: str = ""  # the last refresh's failure, when it failed after the last success


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    total: Figure
    tables: dict[str, Table]
    freshness: Freshness
    fiscal_years: list[int]
    periods: list[str] = field(default_factory=list)  # the chosen year, its quarters, months


def _empty(value: str, claims_apply: bool) -> Figure:
    return Figure(value, claims_apply=claims_apply)


def _future(value: str) -> Figure:
    return Figure(
        value,
        deeds=None,
        quantities=None,
        donations=None,
        credits=None,
        citizens=None,
        claims=None,
        claimants=None,
        future=True,
    )


def _figure(
    cell: StatsCell | None,
    value: str,
    claims_apply: bool,
    quantities: dict[str, Decimal] | None = None,
) -> Figure:
    """A cell as it may be shown: hidden measures become None."""
    if cell is None:
        return _empty(value, claims_apply)
    figure = Figure(
        value,
        status=cell.status,
        deeds=int(cell.deeds),
        quantities=dict(quantities or {}),
        donations=int(cell.donations),
        credits=int(cell.credits),
        citizens=int(cell.citizens),
        claims_status=cell.claims_status,
        claims=int(cell.claims),
        claimants=int(cell.claimants),
        claims_apply=claims_apply,
    )
    if figure.hidden:
        figure = replace(
            figure,
            deeds=None,
            quantities=None,
            donations=None,
            credits=None,
            citizens=None,
        )
    if not claims_apply or figure.claims_status is not CellStatus.SHOWN:
        figure = replace(figure, claims=None, claimants=None)
    return figure


def check_filters(filters: Filters) -> periods.Period:
    period = periods.parse(filters.period)
    errors = []
    if period is None:
        errors.append(FieldError("not a period", pointer="#/period"))
    if filters.province and filters.province not in PROVINCES:
        errors.append(FieldError("not a province", pointer="#/province"))
    for name, value in filters.values().items():
        if len(value) > 64:
            errors.append(FieldError("too long", pointer=f"#/{name}"))
    if errors or period is None:
        raise ValidationProblem(N_("These filters name no figures."), errors=errors)
    return period


def units_of(kinds: dict[str, Kind], deed_type: str = "") -> tuple[str, ...]:
    """The units of the catalog's deed types (or of one), in the catalog's order."""
    present = {k.unit for code, k in kinds.items() if not deed_type or code == deed_type}
    return tuple(u for u in UNITS if u in present) + tuple(sorted(present - set(UNITS)))


def quantities(
    session: Session,
    filters: Filters,
    group_by: GroupBy | None,
    kinds: dict[str, Kind],
    months: list[str] | None = None,
) -> dict[str, dict[str, Decimal]]:
    """Quantity per unit of each row of a table (by the row's code; of the total,
    under ``''`` with no ``group_by``): the cells of each deed type inside it,
    summed within their unit. The one place quantities are added up."""
    values = filters.values()
    where: list[ColumnElement[bool]] = []
    for name, column in _COLUMN.items():
        chosen = values[name]
        if name in (group_by, "deed_type"):  # each deed type (or the one chosen)
            where.append(column == chosen if chosen else column != "")
        else:
            where.append(column == chosen)
    if group_by == "month":
        key: Any = StatsCell.period
        where.append(StatsCell.period.in_(months or []))
    else:
        key = _COLUMN[group_by] if group_by else literal("")
        where.append(StatsCell.period == filters.period)
    found: dict[str, dict[str, Decimal]] = {}
    query = select(key, StatsCell.deed_type_code, StatsCell.quantity).where(*where)
    for value, code, amount in session.execute(query):
        kind = kinds.get(code)
        if kind is None or not amount:
            continue
        units = found.setdefault(str(value), {})
        units[kind.unit] = units.get(kind.unit, Decimal(0)) + Decimal(amount)
    return found


def figures(
    session: Session, filters: Filters, group_by: GroupBy, today: date | None = None
) -> Table:
    """A total and its rows by one dimension, for a period and filters, with the
    suppression applied. Rows are the cells that have anything (the trend: every
    month of the period, empty ones as zeros, months still to come as "—")."""
    period = check_filters(filters)
    values = filters.values()
    kinds = deed_kinds(session)
    units = units_of(kinds, filters.deed_type)
    claims_apply = filters.claims_apply and group_by in ("month", "agency")
    where = [
        StatsCell.virtue_code == values["virtue"],
        StatsCell.deed_type_code == values["deed_type"],
        StatsCell.agency == values["agency"],
        StatsCell.province == values["province"],
    ]
    total_cell = session.get(
        StatsCell,
        (filters.period, filters.virtue, filters.deed_type, filters.agency, filters.province),
    )
    total = _figure(
        total_cell, "", filters.claims_apply, quantities(session, filters, None, kinds).get("")
    )
    if group_by == "month":
        keys = periods.inside(period)
        by_month = {
            c.period: c
            for c in session.scalars(select(StatsCell).where(StatsCell.period.in_(keys), *where))
        }
        amounts = quantities(session, filters, "month", kinds, keys)
        this_month = periods.month_key((today or today_in_thailand()).replace(day=1))
        rows = [
            _future(key)
            if key > this_month  # (keys are m:YYYY-MM: they sort as the months do)
            else _figure(by_month.get(key), key, claims_apply, amounts.get(key))
            for key in keys
        ]
        return Table(group_by, filters, total, rows, claims_apply, units, kinds)
    column = _COLUMN[group_by]
    where = [
        condition
        for name, condition in zip(
            ("virtue", "deed_type", "agency", "province"), where, strict=True
        )
        if name != group_by
    ]
    chosen = values[group_by]
    query = select(StatsCell).where(
        StatsCell.period == filters.period,
        *where,
        column == chosen if chosen else column != "",
    )
    cells = list(session.scalars(query.order_by(column)))
    amounts = quantities(session, filters, group_by, kinds)
    rows = []
    for cell in cells:
        code = str(getattr(cell, column.key))
        rows.append(_figure(cell, code, claims_apply, amounts.get(code)))
    return Table(group_by, filters, total, rows, claims_apply, units, kinds)


def freshness(session: Session) -> Freshness:
    done = session.scalars(
        select(StatsRefresh)
        .where(StatsRefresh.status == RefreshStatus.DONE)
        .order_by(StatsRefresh.started_at.desc())
        .limit(1)
    ).first()
    latest = session.scalars(
        select(StatsRefresh).order_by(StatsRefresh.started_at.desc()).limit(1)
    ).first()
    running = (
        latest.started_at
        if latest is not None
        and latest.status is RefreshStatus.RUNNING
        and latest.started_at > utcnow() - STALE_AFTER
        else None
    )
    failed = (
        latest.failure or "failed"
        if latest is not None and latest.status is RefreshStatus.FAILED
        else ""
    )
    return Freshness(done.as_of if done else None, running, failed)


@dataclass(frozen=True)
class RefreshOutcome:
    """What one refresh did, for the confirmation the office reads after the button."""

    status: RefreshStatus
    fiscal_years: list[int]  # BE, the years recomputed
    as_of: datetime | None


def refresh_outcome(session: Session, refresh_id: uuid.UUID) -> RefreshOutcome | None:
    found = session.get(StatsRefresh, refresh_id)
    if found is None:
        return None
    years = [int(y) for y in found.fiscal_years.split()]
    return RefreshOutcome(found.status, years, found.as_of)


def fiscal_years(session: Session) -> list[int]:
    """The fiscal years the snapshot has figures for, newest first."""
    query = select(StatsCell.fiscal_year).distinct().order_by(StatsCell.fiscal_year.desc())
    return [int(y) for y in session.scalars(query)]


def default_period(session: Session, today: date | None = None) -> str:
    """This fiscal year, or the latest with figures."""
    current = fiscal_year(today or today_in_thailand())
    years = fiscal_years(session)
    return f"fy:{current if current in years or not years else years[0]}"


def dashboard(session: Session, filters: Filters, today: date | None = None) -> Dashboard:
    """Everything the dashboard page shows for a period and filters."""
    period = check_filters(filters)
    tables: dict[str, Table] = {name: figures(session, filters, name, today) for name in GROUP_BYS}
    total = tables["month"].total
    year_keys = [f"fy:{period.fiscal_year}"]
    whole = periods.fiscal_year_period(period.fiscal_year)
    quarters = [f"q:{period.fiscal_year}-{q}" for q in range(1, 5)]
    return Dashboard(
        filters,
        total,
        tables,
        freshness(session),
        fiscal_years(session),
        [*year_keys, *quarters, *periods.inside(whole)],
    )


# --- for other pages and reports ---------------------------------------------------------


@dataclass(frozen=True)
class NationalCounters:
    """A fiscal year's national totals. Deeds, hours, donations and credits are
    live (the rollup, current with every verified deed); citizens and claims are
    the snapshot's (distinct people cannot be kept current cheaply), as of
    ``as_of``. All are None while the year counts fewer than 10 citizens."""

    fiscal_year: int  # BE
    deeds: int | None
    hours: Decimal | None
    donations: int | None
    credits: int | None
    citizens: int | None
    claims: int | None
    as_of: datetime | None


def national_counters(session: Session, year: int) -> NationalCounters:
    period = periods.fiscal_year_period(year)
    cell = session.get(StatsCell, (period.key, "", "", "", ""))
    snapshot = _figure(cell, "", True)
    fresh = freshness(session)
    if cell is None or snapshot.hidden:
        return NationalCounters(year, None, None, None, None, None, None, fresh.as_of)
    kinds = deed_kinds(session)
    deeds, hours, donations, credits = 0, Decimal(0), 0, 0
    query = (
        select(
            StatsRollup.deed_type_code,
            func.sum(StatsRollup.deeds),
            func.sum(StatsRollup.quantity),
            func.sum(StatsRollup.credits),
        )
        .where(and_(StatsRollup.month >= period.start, StatsRollup.month < period.end))
        .group_by(StatsRollup.deed_type_code)
    )
    for code, n, quantity, k in session.execute(query):
        kind = kinds.get(code)
        deeds += int(n or 0)
        credits += int(k or 0)
        if kind is not None and kind.unit == "hour":
            hours += Decimal(quantity or 0)
        if kind is not None and kind.donation:
            donations += int(n or 0)
    return NationalCounters(
        year, deeds, hours, donations, credits, snapshot.citizens, snapshot.claims, fresh.as_of
    )


def as_text(value: Any) -> str:
    """A figure for a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


@dataclass(frozen=True)
class Labels:
    """Names of what the dashboard's rows are, in one language."""

    virtues: dict[str, str]
    deed_types: dict[str, str]
    units: dict[str, str]  # deed type → its unit code
    agencies: dict[str, str]


def labels(session: Session, lang: str) -> Labels:
    english = lang != "th"
    virtues = {
        v.code: v.name(lang) for v in session.scalars(select(Virtue).order_by(Virtue.position))
    }
    last = (
        select(DeedTypeVersion.deed_type_code, func.max(DeedTypeVersion.version).label("v"))
        .group_by(DeedTypeVersion.deed_type_code)
        .subquery()
    )
    query = (
        select(
            DeedType.code,
            DeedTypeVersion.name_en if english else DeedTypeVersion.name_th,
            DeedTypeVersion.unit,
        )
        .join(last, last.c.deed_type_code == DeedType.code)
        .join(
            DeedTypeVersion,
            (DeedTypeVersion.deed_type_code == DeedType.code)
            & (DeedTypeVersion.version == func.coalesce(DeedType.current_version, last.c.v)),
        )
        .order_by(DeedType.code)
    )
    deed_types: dict[str, str] = {}
    units: dict[str, str] = {}
    for code, name, unit in session.execute(query):
        deed_types[code], units[code] = name, unit
    agencies = {a.code: a.name(lang) for a in session.scalars(select(Agency).order_by(Agency.code))}
    return Labels(virtues, deed_types, units, agencies)
