"""The former disclosure control of the dashboard, kept as the reference of
``python -m benchmarks disclosure`` (the dashboard now perturbs figures:
``dcatalog.stats.perturbation``). Small-cell suppression: no figure shown may single people out.

- **Primary**: a cell counting fewer than ``THRESHOLD`` (10) distinct citizens is
  hidden and shown as "<10".
- **Complementary (secondary)**: where a total is the sum of its parts (a
  group), one hidden figure could be worked out from the others. So in every
  group with a shown total, the hidden parts must be none, or at least two of
  which at least one counts 10 citizens or more: then what can be worked out is
  a sum over two or more cells and over 10 or more people. And a hidden total
  must have a hidden part (else it is the sum of its shown parts). Until that
  holds, the smallest shown part is hidden too (shown as "x"); if no part is
  left to hide, the total is hidden instead. Repeated until nothing changes:
  hiding a cell in one group can leave another group with one hidden figure.

The groups are every "total → its parts" relation of the dashboard: a figure
for all virtues and its figures per virtue, all provinces and each province, a
fiscal year and its quarters or months, and so on. Because statuses are decided
once over all of them, a figure is hidden or shown the same way in every view,
which also covers differences between filters (a province's figure for all
virtues minus its figure for one virtue is the rest of that group).

What this does not cover (see docs/dashboard.md): a cell can in rare patterns
still be pinned down by combining many groups' equations (a "bridge" between
two otherwise separate sets of hidden cells); differences of the same cell
between two refreshes over time.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from dcatalog.stats.models import CellStatus
from dcatalog.stats.suppression import THRESHOLD, label

__all__ = ["THRESHOLD", "label", "suppress"]
K = TypeVar("K", bound=Hashable)


def suppress(
    citizens: Mapping[K, int],
    groups: Iterable[tuple[K, Sequence[K]]],
    threshold: int = THRESHOLD,
) -> dict[K, CellStatus]:
    """The status of every cell, given its distinct citizens and the groups
    (total, parts) whose additive figures add up. Parts absent from ``citizens``
    are empty (zero everywhere) and never need hiding."""
    status = {
        key: CellStatus.SMALL if 0 < count < threshold else CellStatus.SHOWN
        for key, count in citizens.items()
    }

    def order(cell: K) -> tuple[int, str]:
        return citizens[cell], repr(cell)

    listed: list[tuple[K, list[K]]] = []
    member: dict[K, list[int]] = {}  # cell → the groups it is the total or a part of
    for total, parts in groups:
        if total not in status:
            continue
        kept = sorted({p for p in parts if p in status and p != total}, key=order)
        listed.append((total, kept))
    # One order whatever the order given: the same figures hide the same cells.
    listed.sort(key=lambda group: (repr(group[0]), [repr(p) for p in group[1]]))
    for index, (total, kept) in enumerate(listed):
        for cell in (total, *kept):
            member.setdefault(cell, []).append(index)
    # A work list: a group is checked again only when one of its cells changed.
    pending = list(range(len(listed)))
    queued = set(pending)
    while pending:
        index = pending.pop()
        queued.discard(index)
        total, parts = listed[index]
        hidden = [p for p in parts if status[p] is not CellStatus.SHOWN]
        if status[total] is CellStatus.SHOWN:
            # total − shown parts = the hidden parts' sum: two or more, 10 or more people
            if not hidden or (len(hidden) >= 2 and any(citizens[p] >= threshold for p in hidden)):
                continue
        elif hidden or not parts:
            continue  # a hidden total with a hidden part: neither can be worked out
        # (else: a hidden total whose parts are all shown would be their sum)
        # parts are sorted smallest first: the first shown one is the next smallest
        spare = next((p for p in parts if status[p] is CellStatus.SHOWN and citizens[p] > 0), None)
        if spare is None and status[total] is not CellStatus.SHOWN:
            continue
        changed = total if spare is None else spare
        status[changed] = CellStatus.COMPLEMENTARY
        for other in member.get(changed, ()):
            if other not in queued:
                queued.add(other)
                pending.append(other)
        if index not in queued:
            queued.add(index)
            pending.append(index)
    return status
