"""Server-rendered charts: the geometry of bar charts and the classes of the
choropleth map, computed here and drawn as SVG by the templates. A hidden figure
draws no bar and no colour: it shows its label ("<10") instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# ColorBrewer "Greens", 5 classes (light to dark): the brand's green.
PALETTE = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")


@dataclass(frozen=True)
class Item:
    label: str
    value: int | None  # None: hidden
    shown_as: str = ""  # what a hidden value shows
    note: str = ""  # a second line under the label (a month's year)
    future: bool = False  # a month still to come: "—", neither a bar nor a hidden figure


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as shown
    x: float
    y: float
    width: float
    height: float
    hidden: bool
    note: str = ""
    future: bool = False


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    maximum: int
    baseline: float  # y of the axis (columns) or x where bars start (rows)


def _text(item: Item) -> str:
    return item.shown_as if item.value is None else f"{item.value:,}"


def columns(items: Sequence[Item], width: int = 400, height: int = 200) -> Chart:
    """Vertical bars, one per item, left to right (a trend by month)."""
    top, bottom, left, right = 22, 40, 8, 8  # two lines of ticks under the axis
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = max([i.value for i in items if i.value] or [0])  # 0: nothing shown
    step = plot_w / max(len(items), 1)
    bars = []
    for n, item in enumerate(items):
        value = item.value or 0
        h = plot_h * value / max(maximum, 1)
        bars.append(
            Bar(
                item.label,
                _text(item),
                round(left + n * step + step * 0.15, 2),
                round(top + plot_h - h, 2),
                round(step * 0.7, 2),
                round(h, 2),
                item.value is None and not item.future,
                item.note,
                item.future,
            )
        )
    return Chart(width, height, bars, maximum, top + plot_h)


def rows(items: Sequence[Item], width: int = 400, row: int = 30) -> Chart:
    """Horizontal bars, one per item, top to bottom (figures by virtue)."""
    label_w, right = 130, 70
    plot_w = width - label_w - right
    maximum = max([i.value for i in items if i.value] or [0])
    bars = []
    for n, item in enumerate(items):
        value = item.value or 0
        bars.append(
            Bar(
                item.label,
                _text(item),
                label_w,
                n * row + 6,
                round(plot_w * value / max(maximum, 1), 2),
                row - 12,
                item.value is None,
            )
        )
    return Chart(width, max(len(items), 1) * row, bars, maximum, label_w)


@dataclass(frozen=True)
class Legend:
    colour: str
    low: int
    high: int


def classes(values: Sequence[int], count: int = len(PALETTE)) -> list[Legend]:
    """Quantile classes of the shown values (each about as many provinces)."""
    ordered = sorted(v for v in values if v > 0)
    if not ordered:
        return []
    bounds: list[tuple[int, int]] = []
    for n in range(count):
        low = ordered[len(ordered) * n // count]
        high = ordered[max(len(ordered) * (n + 1) // count - 1, 0)]
        if bounds and low <= bounds[-1][1]:
            low = bounds[-1][1] + 1
        if high >= low:
            bounds.append((low, high))
    return [Legend(PALETTE[i], low, high) for i, (low, high) in enumerate(bounds)]


def colour(value: int | None, legend: Sequence[Legend]) -> str:
    """The fill of a province: its class's colour, "none" for zero, "" if hidden."""
    if value is None:
        return ""
    for entry in legend:
        if entry.low <= value <= entry.high:
            return entry.colour
    return "none" if not value else (legend[-1].colour if legend else "none")
