"""A national-scale synthetic dataset of deeds, valid by construction.

Citizens get synthetic national IDs with valid check digits; provinces follow
a rough population weighting over the 77 provinces; deeds follow the demo
catalog and its rules (at most one volunteer record a day per citizen, whole
blood at least 84 days apart, one activity-challenge day at a time), so a
benchmark measures the accepted path, not refusals. One CSV per recording
agency, since an agency imports its own file:

- ``demouniv.csv``: kys.volunteer_activity (hours; pending until verified),
- ``korat_hospital.csv``: redcross.blood_donation (verified at once: tallies),
- ``thaihealth.csv``: thaihealth.activity_challenge (verified at once: tallies).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from dcatalog.calendars.buddhist_era import BANGKOK
from dcatalog.geo.provinces import PROVINCES
from dcatalog.identity.national_id import with_check_digit

# Share of all deeds per recording agency, and what they record.
MIX = {
    "demouniv": ("kys.volunteer_activity", 0.5),
    "korat_hospital": ("redcross.blood_donation", 0.2),
    "thaihealth": ("thaihealth.activity_challenge", 0.3),
}
# Bigger provinces weigh more (rough shares of the population); the rest share equally.
_HEAVY = {
    "TH-10": 8.0,
    "TH-30": 4.0,
    "TH-34": 2.8,
    "TH-40": 2.7,
    "TH-50": 2.6,
    "TH-20": 2.3,
    "TH-41": 2.3,
    "TH-11": 2.0,
}
HEADING = [
    "national_id",
    "deed_type",
    "quantity",
    "occurred_on",
    "province",
    "evidence",
    "external_id",
]


@dataclass(frozen=True)
class Citizen:
    national_id: str
    province: str


def provinces_weighted() -> tuple[list[str], list[float]]:
    codes = sorted(PROVINCES)
    return codes, [_HEAVY.get(code, 1.0) for code in codes]


def citizens(rng: random.Random, n: int) -> list[Citizen]:
    codes, weights = provinces_weighted()
    chosen = rng.choices(codes, weights, k=n)
    ids: set[str] = set()
    people = []
    while len(people) < n:
        first12 = str(rng.randint(1, 8)) + f"{rng.randrange(10**11):011d}"
        number = with_check_digit(first12)
        if number in ids:
            continue
        ids.add(number)
        people.append(Citizen(number, chosen[len(people)]))
    return people


def _dates(rng: random.Random, kind: str, count: int, end: date) -> list[date]:
    start = end - timedelta(days=360)
    if kind == "redcross.blood_donation":
        first = start + timedelta(days=rng.randrange(20))
        return [first + timedelta(days=90 * i + rng.randrange(5)) for i in range(count)]
    days = rng.sample(range(360), count)
    return [start + timedelta(days=d) for d in sorted(days)]


def rows_for(
    agency: str, people: list[Citizen], total: int, seed: int, end: date
) -> Iterator[list[str]]:
    kind, _share = MIX[agency]
    rng = random.Random(f"{seed}:{agency}")
    per_citizen = 4 if kind == "redcross.blood_donation" else 10
    written = 0
    index = 0
    while written < total:
        person = people[index % len(people)]
        index += 1
        count = min(per_citizen, total - written)
        for n, day in enumerate(_dates(rng, kind, count, end)):
            quantity = rng.choice([1, 2, 3, 4, 6, 8]) if kind == "kys.volunteer_activity" else 1
            yield [
                person.national_id,
                kind,
                str(quantity),
                day.isoformat(),
                person.province,
                "",
                f"{agency}-{index}-{n}",
            ]
        written += count


def generate(out: Path, rows: int, seed: int = 2569, end: date | None = None) -> dict[str, int]:
    """Write one CSV per agency into ``out``; returns rows per file."""
    end = end or datetime.now(BANGKOK).date() - timedelta(days=1)
    rng = random.Random(seed)
    people = citizens(rng, max(rows // 8, 10))
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for agency, (_kind, share) in MIX.items():
        target = round(rows * share)
        with (out / f"{agency}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADING)
            count = 0
            # Each agency sees its own slice of the population, as in life.
            offset = {
                "demouniv": 0,
                "korat_hospital": len(people) // 3,
                "thaihealth": 2 * len(people) // 3,
            }[agency]
            for row in rows_for(agency, people[offset:] + people[:offset], target, seed, end):
                writer.writerow(row)
                count += 1
        written[agency] = count
    return written
