"""Snapshots: short-lived copies of rarely changing rows (see dcatalog.snapshots)."""

from __future__ import annotations

import pytest

from dcatalog import snapshots
from dcatalog.snapshots import Snapshots


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(snapshots.time, "monotonic", clock)
    return clock


def test_a_copy_is_reused_until_it_is_old(clock: Clock) -> None:
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        return f"row {len(loads)}"

    copies = Snapshots(ttl=5)
    assert copies.get("k", load) == "row 1"
    clock.now += 4.9
    assert copies.get("k", load) == "row 1"
    clock.now += 0.2
    assert copies.get("k", load) == "row 2"
    assert len(loads) == 2


def test_nothing_kept_for_a_missing_row_or_when_turned_off(clock: Clock) -> None:
    loads: list[int] = []

    def missing() -> None:
        loads.append(1)

    copies = Snapshots(ttl=5)
    assert copies.get("unknown key", missing) is None
    assert copies.get("unknown key", missing) is None
    assert len(loads) == 2  # guessing keys fills no memory
    off = Snapshots(ttl=0)
    assert off.get("k", lambda: "a") == "a"
    assert off.get("k", lambda: "b") == "b"


def test_clear_forgets_everything(clock: Clock) -> None:
    copies = Snapshots(ttl=60)
    copies.get("k", lambda: "old")
    copies.clear()
    assert copies.get("k", lambda: "new") == "new"
