"""The cell-key perturbation's public table and its draws: every row sums to one
and is zero on average, a shown count never drops under 10 nor moves by more
than 2, the same key always gives the same figure, and no amount is published
exact because its step rounded to nothing."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dcatalog.stats import perturbation
from dcatalog.stats.suppression import THRESHOLD

keys = st.integers(0, perturbation.KEY_SPACE - 1)


def test_every_row_of_the_table_is_a_distribution_with_zero_mean() -> None:
    for count in (THRESHOLD, THRESHOLD + 1, THRESHOLD + 2, 1000):
        row = perturbation.row(count)
        assert abs(sum(row.values()) - 1) < 1e-9, count
        assert abs(sum(change * p for change, p in row.items())) < 1e-9, count
        assert all(count + change >= THRESHOLD for change in row), count
    amounts = perturbation.AMOUNT_TABLE
    assert abs(sum(c * p for c, p in amounts.items())) < 1e-9


@given(st.integers(THRESHOLD, 10**7), keys)
def test_a_shown_count_stays_shown_and_near(count: int, key: int) -> None:
    published = perturbation.count(count, key)
    assert published >= THRESHOLD
    assert abs(published - count) <= perturbation.MAX_DEVIATION
    assert perturbation.count(count, key) == published  # the same key, the same figure


@given(st.integers(1, THRESHOLD - 1), keys)
def test_a_small_count_is_not_moved_it_is_never_shown(count: int, key: int) -> None:
    assert perturbation.count(count, key) == count


def test_an_amount_few_people_add_to_still_moves() -> None:
    """4 donations among 200 people: the step of a draw of ±1 is 0.02 of a donation;
    rounded, it would publish 4 exactly whatever the key."""
    published = {perturbation.amount(4, 200, key) for key in range(2000)}
    assert published == {2, 3, 4, 5, 6}
    hours = {perturbation.amount(Decimal("12.5"), 20, key) for key in range(2000)}
    assert hours == {Decimal(h) for h in ("10.5", "11.5", "12.5", "13.5", "14.5")}


@given(st.integers(0, 10**9), st.integers(1, 10**6), keys)
def test_an_amount_is_never_negative_and_zero_stays_zero(value: int, people: int, key: int) -> None:
    published = perturbation.amount(value, people, key)
    assert published >= 0
    if value == 0:
        assert published == 0
