"""Tallies: count, quantity and credits of verified deeds per citizen × subject ×
period, where a subject is a deed type (``type:kys.volunteer_activity``) or a
virtue (``virtue:volunteering``) and a period is lifetime, a calendar, fiscal or
academic year (``fiscal_year:2570``).

``apply`` adds (or, with sign -1, removes) deeds in one set-based upsert, in the
caller's transaction; ``rebuild`` and ``differences`` recompute everything from
the deeds, streaming by citizen so memory stays flat at national scale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from dcatalog.calendars.periods import MonthDay, periods_containing
from dcatalog.db import bulk_add, bulk_insert
from dcatalog.deeds.models import Deed, DeedStatus, Tally

Key = tuple[str, str, str]  # citizen_key, subject, period
Totals = list[Any]  # [count, quantity, credits]
_CHUNK = 5000
_TALLY: Table = Tally.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Counted:
    """What a tally needs of a verified deed."""

    citizen_key: str
    deed_type_code: str
    virtue_code: str
    occurred_on: date
    quantity: Decimal
    credits: int


@lru_cache(maxsize=4096)
def period_keys(day: date, academic_start: MonthDay) -> tuple[str, ...]:
    """The periods a day counts in (cached: a year of deeds has few distinct days)."""
    return tuple(p.key for p in periods_containing(day, academic_start))


@lru_cache(maxsize=4096)
def subjects(deed_type_code: str, virtue_code: str) -> tuple[str, str]:
    return f"type:{deed_type_code}", f"virtue:{virtue_code}"


def aggregate(
    deeds: Iterable[Counted], academic_start: MonthDay, sign: int = 1
) -> dict[Key, Totals]:
    # The bulk path runs this for every deed of an import: kept to plain loops.
    totals: dict[Key, Totals] = {}
    for deed in deeds:
        periods = period_keys(deed.occurred_on, academic_start)
        quantity, credits = sign * deed.quantity, sign * deed.credits
        for subject in subjects(deed.deed_type_code, deed.virtue_code):
            for period in periods:
                key = (deed.citizen_key, subject, period)
                entry = totals.get(key)
                if entry is None:
                    totals[key] = [sign, quantity, credits]
                else:
                    entry[0] += sign
                    entry[1] += quantity
                    entry[2] += credits
    return totals


_KEYS = ("citizen_key", "subject", "period")
_AMOUNTS = ("count", "quantity", "credits")


def apply(
    session: Session, deeds: Iterable[Counted], academic_start: MonthDay, sign: int = 1
) -> None:
    """Add verified deeds to the tallies (sign -1: take revoked ones out)."""
    totals = aggregate(deeds, academic_start, sign)
    rows = [
        {"citizen_key": c, "subject": s, "period": p, "count": n, "quantity": q, "credits": k}
        for (c, s, p), (n, q, k) in sorted(totals.items())  # one lock order: no deadlocks
    ]
    bulk_add(session, _TALLY, _KEYS, _AMOUNTS, rows)


def _verified_by_citizen(session: Session) -> Iterator[tuple[str, list[Counted]]]:
    query = (
        select(
            Deed.citizen_key,
            Deed.deed_type_code,
            Deed.virtue_code,
            Deed.occurred_on,
            Deed.quantity,
            Deed.credits,
        )
        .where(Deed.status == DeedStatus.VERIFIED)
        .order_by(Deed.citizen_key)
        .execution_options(yield_per=_CHUNK)
    )
    current: str | None = None
    batch: list[Counted] = []
    for row in session.execute(query):
        if row.citizen_key != current and batch:
            yield current, batch  # type: ignore[misc]
            batch = []
        current = row.citizen_key
        batch.append(Counted(*row[:5], credits=row.credits or 0))
    if batch:
        yield current, batch  # type: ignore[misc]


def rebuild(
    session: Session, academic_start: MonthDay, progress: Callable[[int], None] | None = None
) -> int:
    """Recompute every tally from the verified deeds; returns the number of rows."""
    session.execute(delete(Tally))
    written = 0
    pending: list[dict[str, object]] = []
    for _citizen, deeds in _verified_by_citizen(session):
        for (c, s, p), (n, q, k) in aggregate(deeds, academic_start).items():
            pending.append(
                {
                    "citizen_key": c,
                    "subject": s,
                    "period": p,
                    "count": n,
                    "quantity": q,
                    "credits": k,
                }
            )
        if len(pending) >= _CHUNK:
            bulk_insert(session, _TALLY, pending)
            written += len(pending)
            if progress:
                progress(written)
            pending = []
    if pending:
        bulk_insert(session, _TALLY, pending)
        written += len(pending)
    return written


@dataclass(frozen=True)
class Difference:
    citizen_key: str
    subject: str
    period: str
    expected: tuple[int, Decimal, int]
    found: tuple[int, Decimal, int]


def differences(session: Session, academic_start: MonthDay, limit: int = 1000) -> list[Difference]:
    """Where the tallies disagree with the deeds (empty when all is well)."""
    found: list[Difference] = []
    zero = (0, Decimal(0), 0)
    seen_citizens: set[str] = set()
    chunk: dict[str, list[Counted]] = {}

    def compare(chunk: dict[str, list[Counted]]) -> None:
        expected = aggregate([d for deeds in chunk.values() for d in deeds], academic_start)
        stored = {
            (t.citizen_key, t.subject, t.period): (t.count, t.quantity, t.credits)
            for t in session.scalars(select(Tally).where(Tally.citizen_key.in_(list(chunk))))
        }
        for key in set(expected) | set(stored):
            n, q, k = expected.get(key, zero)
            want = (int(n), Decimal(q), int(k))
            have = stored.get(key, zero)
            if want != (have[0], Decimal(have[1]), have[2]):
                found.append(Difference(*key, expected=want, found=have))

    for citizen, deeds in _verified_by_citizen(session):
        seen_citizens.add(citizen)
        chunk[citizen] = deeds
        if len(chunk) >= 1000:
            compare(chunk)
            chunk = {}
    if chunk:
        compare(chunk)
    # Tallies of citizens with no verified deed left must all be zero.
    orphans = session.scalars(
        select(Tally).where(
            Tally.citizen_key.not_in(
                select(Deed.citizen_key).where(Deed.status == DeedStatus.VERIFIED)
            ),
            (Tally.count != 0) | (Tally.quantity != 0) | (Tally.credits != 0),
        )
    )
    for t in orphans:
        found.append(
            Difference(t.citizen_key, t.subject, t.period, zero, (t.count, t.quantity, t.credits))
        )
    return found[:limit]
