"""The rollup: verified deeds per month × province × virtue × deed type × agency.

``apply`` adds (or, with sign -1, takes out) deeds in one set-based upsert in the
caller's transaction, the same way the tallies are kept (``dcatalog.db.bulk_add``:
rows in one key order, so concurrent writers cannot deadlock). ``rebuild`` and
``differences`` recompute it from the deeds with one ``GROUP BY``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Table, cast, delete, func, insert, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dcatalog.calendars.periods import fiscal_year
from dcatalog.db import bulk_add
from dcatalog.deeds.counted import CountedChange, field
from dcatalog.deeds.models import Deed, DeedStatus
from dcatalog.stats.models import StatsRollup

Key = tuple[date, str, str, str, uuid.UUID]  # month, province, virtue, deed type, agency
_ROLLUP: Table = StatsRollup.__table__  # type: ignore[assignment]
_KEYS = ("month", "province", "virtue_code", "deed_type_code", "agency_id")
_AMOUNTS = ("deeds", "quantity", "credits", "changes")


def apply(session: Session, deeds: Iterable[Deed | dict[str, Any]], sign: int = 1) -> None:
    """Count verified deeds in the rollup (sign -1: take revoked ones out). Takes
    stored deeds or the rows a batch has just written."""
    totals: dict[Key, list[Any]] = {}
    for deed in deeds:
        day: date = field(deed, "occurred_on")
        key = (
            day.replace(day=1),
            field(deed, "province"),
            field(deed, "virtue_code"),
            field(deed, "deed_type_code"),
            field(deed, "agency_id"),
        )
        quantity = Decimal(field(deed, "quantity"))
        credits = int(field(deed, "credits") or 0)
        entry = totals.get(key)
        if entry is None:
            totals[key] = [sign, sign * quantity, sign * credits, 1]
        else:
            entry[0] += sign
            entry[1] += sign * quantity
            entry[2] += sign * credits
            entry[3] += 1
    rows = [
        dict(zip(_KEYS, key, strict=True)) | dict(zip(_AMOUNTS, amounts, strict=True))
        for key, amounts in sorted(totals.items())  # one lock order: no deadlocks
    ]
    bulk_add(session, _ROLLUP, _KEYS, _AMOUNTS, rows)


def after_counted(session: Session, change: CountedChange) -> None:
    """The dashboard's rollup follows every counted change (``deeds.counted``)."""
    apply(session, change.deeds, sign=change.sign)


def month_of(session: Session, column: Any) -> ColumnElement[date]:
    """The first day of a date's month, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return type_coerce(func.date(column, "start of month"), Date)  # (CAST would make it a number)


def _from_deeds(session: Session) -> Any:
    month = month_of(session, Deed.occurred_on)
    return (
        select(
            month.label("month"),
            Deed.province,
            Deed.virtue_code,
            Deed.deed_type_code,
            Deed.agency_id,
            func.count().label("deeds"),
            func.sum(Deed.quantity).label("quantity"),
            func.coalesce(func.sum(Deed.credits), 0).label("credits"),
            func.count().label("changes"),
        )
        .where(Deed.status == DeedStatus.VERIFIED)
        .group_by(month, Deed.province, Deed.virtue_code, Deed.deed_type_code, Deed.agency_id)
    )


def rebuild(session: Session) -> int:
    """Recompute the whole rollup from the verified deeds (one set-based statement);
    returns the number of rows. The change counters restart from the deed counts, so
    the next ``stats refresh`` recomputes every fiscal year."""
    session.execute(delete(StatsRollup))
    query = _from_deeds(session)
    session.execute(insert(StatsRollup).from_select([*_KEYS, *_AMOUNTS], query))
    return int(session.scalar(select(func.count()).select_from(StatsRollup)) or 0)


@dataclass(frozen=True)
class Difference:
    key: Key
    expected: tuple[int, Decimal, int]
    found: tuple[int, Decimal, int]


def differences(session: Session, limit: int = 1000) -> list[Difference]:
    """Where the rollup disagrees with the deeds (empty when all is well). Rows that
    count nothing (every deed in them revoked) agree with having no row."""
    zero = (0, Decimal(0), 0)

    def key_of(row: Any) -> Key:
        month = row.month if isinstance(row.month, date) else date.fromisoformat(str(row.month))
        return (month, row.province, row.virtue_code, row.deed_type_code, row.agency_id)

    expected = {
        key_of(r): (int(r.deeds), Decimal(r.quantity), int(r.credits))
        for r in session.execute(_from_deeds(session))
    }
    stored = {
        key_of(r): (int(r.deeds), Decimal(r.quantity), int(r.credits))
        for r in session.execute(
            select(*(_ROLLUP.c[name] for name in (*_KEYS, "deeds", "quantity", "credits")))
        )
    }
    found = []
    for key in sorted(set(expected) | set(stored)):
        want, have = expected.get(key, zero), stored.get(key, zero)
        if want != have:
            found.append(Difference(key, want, have))
    return found[:limit]


def fiscal_year_changes(session: Session) -> dict[int, int]:
    """The rollup's change counter per fiscal year (BE): it grows with every deed
    counted or taken out, so a fiscal year whose counter moved has new figures."""
    counters: dict[int, int] = {}
    query = select(StatsRollup.month, func.sum(StatsRollup.changes)).group_by(StatsRollup.month)
    for month, changes in session.execute(query):
        year = fiscal_year(month if isinstance(month, date) else date.fromisoformat(str(month)))
        counters[year] = counters.get(year, 0) + int(changes or 0)
    return counters
