import itertools
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dcatalog.calendars.periods import (
    PeriodKind,
    academic_year,
    fiscal_quarter,
    fiscal_quarter_bounds,
    fiscal_year,
    period_bounds,
    period_containing,
    period_from_key,
    periods_containing,
)

days = st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31))
year_kinds = st.sampled_from(
    [PeriodKind.CALENDAR_YEAR, PeriodKind.FISCAL_YEAR, PeriodKind.ACADEMIC_YEAR]
)


@st.composite
def academic_starts(draw: st.DrawFn) -> tuple[int, int]:
    month = draw(st.integers(1, 12))
    last = (date(2001 + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return month, draw(st.integers(1, last))


def test_thai_fiscal_year_is_named_by_the_be_year_it_ends_in() -> None:
    assert fiscal_year(date(2026, 9, 30)) == 2569
    assert fiscal_year(date(2026, 10, 1)) == 2570
    fy = period_bounds(PeriodKind.FISCAL_YEAR, 2570)
    assert (fy.start, fy.end) == (date(2026, 10, 1), date(2027, 9, 30))
    assert fy.key == "fiscal_year:2570"


def test_academic_year_is_named_by_the_be_year_it_starts_in() -> None:
    assert academic_year(date(2026, 5, 15)) == 2568
    assert academic_year(date(2026, 5, 16)) == 2569
    assert academic_year(date(2027, 3, 31)) == 2569
    year = period_bounds(PeriodKind.ACADEMIC_YEAR, 2569, academic_start=(6, 1))
    assert (year.start, year.end) == (date(2026, 6, 1), date(2027, 5, 31))


def test_fiscal_quarters() -> None:
    assert fiscal_quarter(date(2026, 12, 31)) == (2570, 1)
    assert fiscal_quarter(date(2027, 1, 1)) == (2570, 2)
    assert fiscal_quarter(date(2027, 9, 30)) == (2570, 4)
    assert fiscal_quarter_bounds(2570, 1) == (date(2026, 10, 1), date(2026, 12, 31))
    assert fiscal_quarter_bounds(2570, 2) == (date(2027, 1, 1), date(2027, 3, 31))
    with pytest.raises(ValueError, match="1, 2, 3 or 4"):
        fiscal_quarter_bounds(2570, 5)


def test_lifetime_holds_everything() -> None:
    lifetime = period_bounds(PeriodKind.LIFETIME)
    assert date(1900, 1, 1) in lifetime
    assert lifetime.key == "lifetime"


@given(days, year_kinds, academic_starts())
def test_a_day_lies_in_its_period_and_the_period_is_named_consistently(
    day: date, kind: PeriodKind, start: tuple[int, int]
) -> None:
    period = period_containing(kind, day, start)
    assert period.start is not None
    assert period.end is not None
    assert day in period
    assert period_bounds(kind, period.year, start) == period
    # Periods tile time: the next day after the end opens the next year's period.
    following = period_containing(kind, period.end + timedelta(days=1), start)
    assert following.year == period.year + 1  # type: ignore[operator]
    assert following.start == period.end + timedelta(days=1)
    assert 365 <= (period.end - period.start).days + 1 <= 366


@given(days)
def test_fiscal_quarters_tile_the_fiscal_year(day: date) -> None:
    assume(day.year < 2150)
    year, quarter = fiscal_quarter(day)
    start, end = fiscal_quarter_bounds(year, quarter)
    assert start <= day <= end
    quarters = [fiscal_quarter_bounds(year, q) for q in (1, 2, 3, 4)]
    fiscal = period_bounds(PeriodKind.FISCAL_YEAR, year)
    assert quarters[0][0] == fiscal.start
    assert quarters[-1][1] == fiscal.end
    for (_, end_a), (start_b, _) in itertools.pairwise(quarters):
        assert start_b == end_a + timedelta(days=1)


@given(days)
def test_a_deed_counts_in_one_period_of_each_kind(day: date) -> None:
    periods = periods_containing(day)
    assert [p.kind for p in periods] == list(PeriodKind)
    assert all(day in p for p in periods)


@given(days, academic_starts())
def test_a_tally_key_names_its_period_back(day: date, start: tuple[int, int]) -> None:
    for period in periods_containing(day, start):
        assert period_from_key(period.key, start) == period


@pytest.mark.parametrize("key", ["", "decade:2569", "fiscal_year:", "fiscal_year:x"])
def test_a_key_that_is_not_a_period(key: str) -> None:
    with pytest.raises(ValueError, match="not a period"):
        period_from_key(key)
