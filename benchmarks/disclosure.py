"""What disclosure control costs and what it protects, on the same data, in one run.

    python -m benchmarks disclosure                      # the demo, on SQLite
    python -m benchmarks disclosure --deeds 1000000 --citizens 100000   # + a synthetic nation (PostgreSQL)

For each fiscal year with deeds, every cell of the dashboard's cube is counted
the true way (``snapshot.citizens`` and ``snapshot.additive``), then published
two ways: by the former suppression (``benchmarks.former_suppression``: "<10"
and complementary "x") and by the cell-key perturbation the dashboard uses now
(``snapshot.compute``). The figures:

- **hidden beyond the small cells**: cells of 10 or more people a reader cannot
  see (the former method's "x"; none by construction now);
- **change of shown figures**: how far a shown figure is from the truth,
  relative (mean and largest, people and deeds);
- **the differencing attack**: every group (a total and its parts, as
  ``snapshot.groups`` lists them) whose total is shown and that has exactly one
  small part. Deeds add up over the parts, so without protection the total's
  deeds minus the other parts' *are* the small cell's deeds (the former method
  hid a second part so that this never happened). The estimate from the
  perturbed figures is compared with the truth: how often it is still exact,
  and how far off it is on average.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.former_suppression import suppress
from dcatalog.stats import periods, perturbation, snapshot
from dcatalog.stats.models import CellStatus, StatsRollup
from dcatalog.stats.suppression import THRESHOLD


@dataclass
class Outcome:
    """One fiscal year's figures under both methods."""

    fiscal_year: int
    cells: int = 0  # cells with at least one person
    small: int = 0  # of fewer than 10 people: "<10" under both methods
    hidden_before: int = 0  # cells of 10 or more people hidden as "x" by the former method
    hidden_people_before: int = 0  # the largest such cell, in people
    hidden_now: int = 0  # cells of 10 or more people hidden now (0)
    people_change: list[float] = field(default_factory=list)  # |published − true| / true
    deeds_change: list[float] = field(default_factory=list)
    attacks: int = 0  # groups where differencing targets exactly one small cell
    exact: int = 0  # … whose estimate of the small cell's deeds is exact
    errors: list[int] = field(default_factory=list)  # |estimate − truth| in deeds, per attack
    notable: list[str] = field(default_factory=list)  # named cells hidden before, shown now

    def row(self) -> dict[str, Any]:
        def mean(values: list[float]) -> float:
            return 100 * statistics.fmean(values) if values else 0.0

        return {
            "fiscal year": self.fiscal_year,
            "cells": self.cells,
            "small (<10)": self.small,
            "10+ hidden, former": self.hidden_before,
            "10+ hidden, now": self.hidden_now,
            "people, mean change %": round(mean(self.people_change), 2),
            "people, largest change %": round(100 * max(self.people_change, default=0), 2),
            "deeds, mean change %": round(mean(self.deeds_change), 2),
            "attacks (exact without protection)": self.attacks,
            "attacks exact now": self.exact,
            "attack error, mean deeds": round(statistics.fmean(self.errors), 2)
            if self.errors
            else 0,
        }


def years(session: Session) -> list[int]:
    months = session.scalars(select(StatsRollup.month).distinct())
    found = set()
    for month in months:
        parsed = periods.parse(periods.month_key(snapshot._as_date(month)))
        if parsed is not None:
            found.add(parsed.fiscal_year)
    return sorted(found)


def evaluate(session: Session, year: int) -> Outcome:
    """Both methods over one fiscal year of the session's database (nothing written
    but the record-key seed, made once if missing)."""
    agencies, kinds = snapshot.agency_codes(session), snapshot.deed_kinds(session)
    period = periods.fiscal_year_period(year)
    seed = perturbation.seed(session)
    people, _keys = snapshot.citizens(session, period, agencies, seed)
    amounts = snapshot.additive(session, period, agencies, kinds)
    true = {k: n for k, n in people.items() if n}
    published = {
        (r["period"], r["virtue_code"], r["deed_type_code"], r["agency"], r["province"]): r
        for r in snapshot.compute(session, year, agencies=agencies, kinds=kinds)
    }
    before = suppress(true, snapshot.groups(true))
    outcome = Outcome(year, cells=len(true))
    for key, n in true.items():
        cell = published[key]
        if n < THRESHOLD:
            outcome.small += 1
            continue
        if cell["status"] is not CellStatus.SHOWN:
            outcome.hidden_now += 1
        if before[key] is CellStatus.COMPLEMENTARY:
            outcome.hidden_before += 1
            outcome.hidden_people_before = max(outcome.hidden_people_before, n)
            if key[0] == period.key and sum(1 for v in key[1:] if v) == 1:
                outcome.notable.append(f"{next(v for v in key[1:] if v)}: {n} people")
        outcome.people_change.append(abs(cell["citizens"] - n) / n)
        deeds = amounts.get(key, [0])[0]
        if deeds:
            outcome.deeds_change.append(abs(cell["deeds"] - deeds) / deeds)
    for total, parts in snapshot.groups(true):
        # Deeds add up over a group's parts (people do not: one person can be in two
        # virtues or two months), so the attack is on deeds.
        if true.get(total, 0) < THRESHOLD:
            continue
        small = [p for p in parts if true[p] < THRESHOLD]
        if len(small) != 1 or not amounts.get(small[0], [0])[0]:
            continue
        outcome.attacks += 1
        estimate = published[total]["deeds"] - sum(
            published[p]["deeds"] for p in parts if p != small[0]
        )
        error = abs(estimate - amounts[small[0]][0])
        outcome.exact += error == 0
        outcome.errors.append(error)
    return outcome
    return outcome


def run(session: Session, say: Callable[[str], None] = print) -> list[Outcome]:
    found = []
    for year in years(session):
        say(f"fiscal year {year} …")
        found.append(evaluate(session, year))
    return found
