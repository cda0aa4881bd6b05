"""The former small-cell suppression (the disclosure benchmark's reference), property-tested on random small tables (rows × columns
with row, column and grand totals, each inner cell a group of different people)
and on random hierarchies (totals of parts of parts, like a year, its quarters
and months). No figure under 10 people is shown; in every group what can be
worked out is a sum of two or more cells over 10 or more people; and in a
hierarchy no small figure can be worked out at all, however the totals'
equations are combined. (In a cross-table a small cell can, in rare patterns,
still be pinned down by combining rows and columns: see docs/dashboard.md.)"""

from __future__ import annotations

from fractions import Fraction

from benchmarks.former_suppression import THRESHOLD, label, suppress
from hypothesis import given, settings
from hypothesis import strategies as st

from dcatalog.stats.models import CellStatus

Cell = tuple[
    str, int, int
]  # ("in", row, column), ("row", row, -1), ("col", -1, column), ("all", -1, -1)


def table(counts: list[list[int]]) -> tuple[dict[Cell, int], list[tuple[Cell, list[Cell]]]]:
    """A two-way table of people (each inner cell different people) and its groups."""
    rows, columns = len(counts), len(counts[0])
    citizens: dict[Cell, int] = {}
    for r in range(rows):
        for c in range(columns):
            if counts[r][c]:
                citizens[("in", r, c)] = counts[r][c]
    for r in range(rows):
        citizens[("row", r, -1)] = sum(counts[r])
    for c in range(columns):
        citizens[("col", -1, c)] = sum(counts[r][c] for r in range(rows))
    citizens[("all", -1, -1)] = sum(map(sum, counts))
    citizens = {k: v for k, v in citizens.items() if v}
    groups: list[tuple[Cell, list[Cell]]] = []
    for r in range(rows):
        groups.append((("row", r, -1), [("in", r, c) for c in range(columns)]))
    for c in range(columns):
        groups.append((("col", -1, c), [("in", r, c) for r in range(rows)]))
    groups.append((("all", -1, -1), [("row", r, -1) for r in range(rows)]))
    groups.append((("all", -1, -1), [("col", -1, c) for c in range(columns)]))
    return citizens, groups


def determined(
    citizens: dict[Cell, int], groups: list[tuple[Cell, list[Cell]]], status: dict[Cell, CellStatus]
) -> set[Cell]:
    """The hidden cells whose value follows from the shown ones and the equations
    total = sum of parts (exact rational elimination)."""
    hidden = sorted(k for k, s in status.items() if s is not CellStatus.SHOWN)
    index = {k: i for i, k in enumerate(hidden)}
    equations = []
    for total, parts in groups:
        row = [Fraction(0)] * len(hidden)
        for cell, sign in [(total, 1), *((p, -1) for p in parts)]:
            if cell in index:
                row[index[cell]] += sign
        if any(row):
            equations.append(row)

    def rank(matrix: list[list[Fraction]]) -> int:
        m = [r[:] for r in matrix]
        found = 0
        for col in range(len(hidden)):
            pivot = next((i for i in range(found, len(m)) if m[i][col] != 0), None)
            if pivot is None:
                continue
            m[found], m[pivot] = m[pivot], m[found]
            for i in range(len(m)):
                if i != found and m[i][col] != 0:
                    factor = m[i][col] / m[found][col]
                    m[i] = [a - factor * b for a, b in zip(m[i], m[found], strict=True)]
            found += 1
        return found

    base = rank(equations)
    out = set()
    for cell, i in index.items():
        unit = [Fraction(0)] * len(hidden)
        unit[i] = Fraction(1)
        if rank([*equations, unit]) == base:
            out.add(cell)
    return out


counts = st.integers(2, 4).flatmap(
    lambda rows: st.integers(2, 4).flatmap(
        lambda columns: st.lists(
            st.lists(
                st.one_of(st.integers(0, 0), st.integers(1, 9), st.integers(10, 60)),
                min_size=columns,
                max_size=columns,
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


def check_groups(
    citizens: dict[Cell, int],
    groups: list[tuple[Cell, list[Cell]]],
    status: dict[Cell, CellStatus],
) -> None:
    for cell, n in citizens.items():
        if 0 < n < THRESHOLD:
            assert status[cell] is CellStatus.SMALL
    for total, parts in groups:
        present = [p for p in parts if p in citizens]
        if total not in citizens:
            continue
        hidden = [p for p in present if status[p] is not CellStatus.SHOWN]
        if status[total] is CellStatus.SHOWN:
            # what can be worked out is a sum of two or more cells, one of 10 or more
            assert not hidden or (
                len(hidden) >= 2 and any(citizens[p] >= THRESHOLD for p in hidden)
            )
        else:
            assert hidden or not present


@settings(max_examples=400)
@given(counts)
def test_no_small_figure_is_shown_in_a_cross_table(grid: list[list[int]]) -> None:
    citizens, groups = table(grid)
    check_groups(citizens, groups, suppress(citizens, groups))


people = st.one_of(st.integers(0, 0), st.integers(1, 9), st.integers(10, 60))
hierarchies = st.lists(
    st.lists(st.lists(people, min_size=1, max_size=3), min_size=1, max_size=4),
    min_size=1,
    max_size=4,
)


@settings(max_examples=400)
@given(hierarchies)
def test_no_small_figure_can_be_worked_out_in_a_hierarchy(tree: list[list[list[int]]]) -> None:
    """A total, its parts, their parts and their parts (a year, quarters, months…)."""
    citizens: dict[Cell, int] = {}
    groups: list[tuple[Cell, list[Cell]]] = []
    top: Cell = ("all", -1, -1)
    middles = []
    for i, middle in enumerate(tree):
        middle_key: Cell = ("row", i, -1)
        lows = []
        for j, leaves in enumerate(middle):
            low_key: Cell = ("col", i, j)
            leaf_keys: list[Cell] = [("in", i * 10 + j, k) for k in range(len(leaves))]
            for leaf, n in zip(leaf_keys, leaves, strict=True):
                citizens[leaf] = n
            citizens[low_key] = sum(leaves)
            groups.append((low_key, leaf_keys))
            lows.append(low_key)
        citizens[middle_key] = sum(citizens[k] for k in lows)
        groups.append((middle_key, lows))
        middles.append(middle_key)
    citizens[top] = sum(citizens[k] for k in middles)
    groups.append((top, middles))
    citizens = {k: n for k, n in citizens.items() if n}
    status = suppress(citizens, groups)
    check_groups(citizens, groups, status)
    small = {k for k, n in citizens.items() if n < THRESHOLD}
    assert not (determined(citizens, groups, status) & small), tree


@given(counts)
def test_suppression_is_decided_the_same_every_time(grid: list[list[int]]) -> None:
    citizens, groups = table(grid)
    assert suppress(citizens, groups) == suppress(dict(reversed(citizens.items())), groups[::-1])


def test_one_small_cell_takes_the_next_smallest_with_it() -> None:
    citizens, groups = table([[30, 3, 12, 40]])
    status = suppress(citizens, groups)
    assert status[("in", 0, 1)] is CellStatus.SMALL
    assert status[("in", 0, 2)] is CellStatus.COMPLEMENTARY  # 12: the next smallest
    assert status[("in", 0, 0)] is CellStatus.SHOWN
    assert status[("in", 0, 3)] is CellStatus.SHOWN
    assert label(status[("in", 0, 1)]) == "<10"
    assert label(status[("in", 0, 2)]) == "x"


def test_two_small_cells_still_take_a_large_one() -> None:
    """Their sum would be a group of fewer than 10 people: one large cell joins them."""
    citizens, groups = table([[4, 3, 20, 50]])
    status = suppress(citizens, groups)
    assert status[("in", 0, 2)] is CellStatus.COMPLEMENTARY
    assert status[("in", 0, 3)] is CellStatus.SHOWN


def test_a_total_with_nothing_left_to_hide_is_hidden_itself() -> None:
    citizens, groups = table([[5, 6]])  # 11 people, both parts small
    status = suppress(citizens, groups)
    assert status[("row", 0, -1)] is CellStatus.COMPLEMENTARY
    assert status[("all", -1, -1)] is CellStatus.COMPLEMENTARY
