"""The periods of the dashboard, as the keys of its cells: a Thai fiscal year
(``fy:2570``, October to September, named by its Buddhist-Era year of ending),
one of its quarters (``q:2570-1`` is October to December) or a month
(``m:2026-10``, by its Christian-Era year and month, as dates are stored).

Only these, not any range of months: a citizen counted in two months is one
citizen in both, so distinct citizens of a range cannot be added up from its
months, and free ranges would let one range minus another single out a month's
few people. These three nest (months in quarters in years) and suppression
treats each as the total of the ones inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

from babel.dates import get_month_names

from dcatalog.calendars.buddhist_era import be_year
from dcatalog.calendars.periods import FISCAL_START_MONTH, fiscal_quarter, fiscal_year

_PATTERN = re.compile(r"^(?:fy:(\d{4})|q:(\d{4})-([1-4])|m:(\d{4})-(\d{2}))$")


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # "fy" | "q" | "m"
    key: str
    fiscal_year: int  # BE
    months: tuple[date, ...]  # first days of its months, in order

    @property
    def start(self) -> date:
        return self.months[0]

    @property
    def end(self) -> date:
        """The first day after the period."""
        last = self.months[-1]
        return date(last.year + last.month // 12, last.month % 12 + 1, 1)


def month_key(month: date) -> str:
    return f"m:{month.year:04d}-{month.month:02d}"


def quarter_key(month: date) -> str:
    year, quarter = fiscal_quarter(month)
    return f"q:{year}-{quarter}"


def fiscal_key(month: date) -> str:
    return f"fy:{fiscal_year(month)}"


def keys_of_month(month: date) -> tuple[str, str, str]:
    """The month's own key, its quarter's and its fiscal year's."""
    return month_key(month), quarter_key(month), fiscal_key(month)


def _months_from(first: date, count: int) -> tuple[date, ...]:
    index = first.year * 12 + first.month - 1
    return tuple(date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(count))


@lru_cache(maxsize=1024)
def parse(key: str) -> Period | None:
    """The period a key names, or None when it names none."""
    match = _PATTERN.match(key.strip())
    if match is None:
        return None
    fy, q_year, quarter, year, month = match.groups()
    if fy:
        first = date(int(fy) - 543 - 1, FISCAL_START_MONTH, 1)
        return Period("fy", key, int(fy), _months_from(first, 12))
    if q_year:
        first = _months_from(date(int(q_year) - 543 - 1, FISCAL_START_MONTH, 1), 12)[
            3 * (int(quarter) - 1)
        ]
        return Period("q", key, int(q_year), _months_from(first, 3))
    if not 1 <= int(month) <= 12:
        return None
    first = date(int(year), int(month), 1)
    return Period("m", key, fiscal_year(first), (first,))


def fiscal_year_period(year: int) -> Period:
    period = parse(f"fy:{year}")
    assert period is not None
    return period


def previous(key: str) -> str:
    """The period of the same kind just before: the fiscal year before, the quarter
    before (Q4 of the year before Q1), the month before."""
    period = parse(key)
    if period is None:
        return key
    if period.kind == "fy":
        return f"fy:{period.fiscal_year - 1}"
    if period.kind == "q":
        quarter = int(key.rsplit("-", 1)[1])
        return (
            f"q:{period.fiscal_year}-{quarter - 1}"
            if quarter > 1
            else f"q:{period.fiscal_year - 1}-4"
        )
    return month_key(_month_before(period.start))


def _month_before(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def inside(period: Period) -> list[str]:
    """The keys of the periods inside one, for its trend: months of a year or a
    quarter (a month has itself)."""
    return [month_key(m) for m in period.months]


def label(key: str, lang: str, style: str = "long") -> str:
    """``ปีงบประมาณ 2570``, ``ไตรมาส 1/2570``, ``ต.ค. 2569`` (Thai, BE); English
    ``Fiscal year 2570``, ``Q1 of FY 2570``, ``Oct 2026``."""
    period = parse(key)
    if period is None:
        return key
    if period.kind == "fy":
        return (
            f"ปีงบประมาณ {period.fiscal_year}"
            if lang == "th"
            else f"Fiscal year {period.fiscal_year}"
        )
    if period.kind == "q":
        quarter = key.rsplit("-", 1)[1]
        return (
            f"ไตรมาส {quarter}/{period.fiscal_year}"
            if lang == "th"
            else f"Q{quarter} of FY {period.fiscal_year}"
        )
    month = period.start
    width: Literal["wide", "abbreviated"] = "wide" if style == "long" else "abbreviated"
    if lang == "th":
        name = get_month_names(width, locale="th")[month.month]
        year = be_year(month.year)
        return f"{name} {year if style == 'long' else str(year)[2:]}"
    name = get_month_names(width, locale="en_GB")[month.month]
    return f"{name} {month.year if style == 'long' else str(month.year)[2:]}"


def month_name(key: str, lang: str) -> str:
    """A month's short name alone (``ต.ค.``, ``Oct``): a chart's tick."""
    period = parse(key)
    if period is None:
        return key
    names = get_month_names("abbreviated", locale="th" if lang == "th" else "en_GB")
    return str(names[period.start.month])


def year_of(key: str, lang: str) -> str:
    """A month's year as Thai pages write it (BE in Thai)."""
    period = parse(key)
    if period is None:
        return ""
    return str(be_year(period.start.year) if lang == "th" else period.start.year)
