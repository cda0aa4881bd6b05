"""Small cells: no figure of fewer than ``THRESHOLD`` (10) distinct citizens is
shown. Such a cell is marked small and shows "<10" instead of any of its
figures; every other figure is perturbed (``dcatalog.stats.perturbation``), so
that a small one cannot be worked out from a total and the other figures.

(The method before, which hid complementary cells as "x", is kept as the
reference of the disclosure benchmark: ``benchmarks/former_suppression.py``.)
"""

from __future__ import annotations

from dcatalog.stats.models import CellStatus

THRESHOLD = 10
SMALL_LABEL = "<10"
HIDDEN_LABEL = "x"  # a cell hidden by the former method, until the next refresh


def label(status: CellStatus) -> str:
    """What a hidden figure shows instead of its value."""
    return SMALL_LABEL if status is CellStatus.SMALL else HIDDEN_LABEL
