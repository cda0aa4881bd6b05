"""Reporting periods of the Thai public sector, all named by Buddhist Era years.

- calendar year: 1 January - 31 December;
- fiscal year (ปีงบประมาณ): 1 October - 30 September, named by the BE year in
  which it ends (fiscal year 2570 runs 1 Oct 2026 - 30 Sep 2027); quarter 1 is
  October - December;
- academic year (ปีการศึกษา): from a configurable first day (16 May for Thai
  schools), named by the BE year in which it starts;
- lifetime: everything.

Bounds are inclusive dates. ``period_containing`` and ``period_bounds`` are
inverse to each other; property tests hold them to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from dcatalog.calendars.buddhist_era import be_year, ce_year

MonthDay = tuple[int, int]
DEFAULT_ACADEMIC_START: MonthDay = (5, 16)
FISCAL_START_MONTH = 10


class PeriodKind(StrEnum):
    LIFETIME = "lifetime"
    CALENDAR_YEAR = "calendar_year"
    FISCAL_YEAR = "fiscal_year"
    ACADEMIC_YEAR = "academic_year"


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    year: int | None  # BE year; None for lifetime
    start: date | None  # inclusive; None for lifetime
    end: date | None  # inclusive; None for lifetime

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if self.start is None or self.end is None:
            return True
        return self.start <= day <= self.end

    @property
    def key(self) -> str:
        """Stable text key used in tallies: ``lifetime``, ``fiscal_year:2570`` …"""
        return self.kind.value if self.year is None else f"{self.kind.value}:{self.year}"


def calendar_year(day: date) -> int:
    return be_year(day.year)


def fiscal_year(day: date) -> int:
    return be_year(day.year + 1 if day.month >= FISCAL_START_MONTH else day.year)


def fiscal_quarter(day: date) -> tuple[int, int]:
    """(fiscal year BE, quarter 1-4)."""
    months_in = (day.month - FISCAL_START_MONTH) % 12
    return fiscal_year(day), months_in // 3 + 1


def fiscal_quarter_bounds(fiscal_be: int, quarter: int) -> tuple[date, date]:
    if quarter not in (1, 2, 3, 4):
        raise ValueError("a fiscal quarter is 1, 2, 3 or 4")
    year_start = date(ce_year(fiscal_be) - 1, FISCAL_START_MONTH, 1)
    start = _first_of_month_after(year_start, 3 * (quarter - 1))
    return start, _first_of_month_after(year_start, 3 * quarter) - timedelta(days=1)


def _first_of_month_after(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def academic_year(day: date, start: MonthDay = DEFAULT_ACADEMIC_START) -> int:
    started = (day.month, day.day) >= start
    return be_year(day.year if started else day.year - 1)


def period_bounds(
    kind: PeriodKind, year: int | None = None, academic_start: MonthDay = DEFAULT_ACADEMIC_START
) -> Period:
    """The period of a kind named by a BE year."""
    if kind is PeriodKind.LIFETIME:
        return Period(kind, None, None, None)
    if year is None:
        raise ValueError(f"a {kind.value} period needs its Buddhist Era year")
    ce = ce_year(year)
    if kind is PeriodKind.CALENDAR_YEAR:
        start, next_start = date(ce, 1, 1), date(ce + 1, 1, 1)
    elif kind is PeriodKind.FISCAL_YEAR:
        start, next_start = date(ce - 1, FISCAL_START_MONTH, 1), date(ce, FISCAL_START_MONTH, 1)
    else:
        month, day = academic_start
        start, next_start = date(ce, month, day), date(ce + 1, month, day)
    return Period(kind, year, start, next_start - timedelta(days=1))


def period_containing(
    kind: PeriodKind, day: date, academic_start: MonthDay = DEFAULT_ACADEMIC_START
) -> Period:
    year = {
        PeriodKind.LIFETIME: None,
        PeriodKind.CALENDAR_YEAR: calendar_year(day),
        PeriodKind.FISCAL_YEAR: fiscal_year(day),
        PeriodKind.ACADEMIC_YEAR: academic_year(day, academic_start),
    }[kind]
    return period_bounds(kind, year, academic_start)


def periods_containing(
    day: date, academic_start: MonthDay = DEFAULT_ACADEMIC_START
) -> list[Period]:
    """Every period a deed on this day counts in (what a tally updates)."""
    return [period_containing(kind, day, academic_start) for kind in PeriodKind]


def period_from_key(key: str, academic_start: MonthDay = DEFAULT_ACADEMIC_START) -> Period:
    """The period a tally key names (``lifetime``, ``academic_year:2569`` …)."""
    kind, _, year = key.partition(":")
    try:
        return period_bounds(PeriodKind(kind), int(year) if year else None, academic_start)
    except ValueError as exc:
        raise ValueError(f"not a period: {key!r}") from exc
