"""Refreshing the dashboard's snapshot (``stats_cell``) from one consistent read.

For each fiscal year that changed since the last refresh (the rollup's change
counters say which), every cell of the cube is computed: each period (the year,
its quarters, its months) × each virtue, deed type, agency and province, each
of them possibly "all" (``''``). A cell holds

- the additive figures (deeds, quantity, hours, donations, credits), summed
  from the rollup;
- the distinct citizens with a verified deed in it, counted from the deeds
  in SQL over narrow temporary tables of who did what when (see ``citizens``);
- claims of benefits and distinct claimants, by the benefit's agency;
- the suppression status of both (``dcatalog.stats.suppression``), decided
  once over the whole cube so every view hides the same cells.

The fiscal year's old cells are replaced in the same transaction, so a reader
sees the old snapshot or the new one, never half of each. On PostgreSQL the
transaction is REPEATABLE READ (rollup, deeds and claims read at one instant)
and holds an advisory lock: a second refresh at the same time does nothing.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Table, delete, func, select, text
from sqlalchemy.orm import Session

from dcatalog.agencies.models import Agency
from dcatalog.benefits.models import Benefit, Claim
from dcatalog.calendars.buddhist_era import BANGKOK
from dcatalog.catalog.models import DeedType, DeedTypeVersion
from dcatalog.db import Database, bulk_insert, utcnow
from dcatalog.logs import get_logger
from dcatalog.stats import periods, perturbation, rollups
from dcatalog.stats.models import CellStatus, RefreshStatus, StatsCell, StatsRefresh, StatsRollup
from dcatalog.stats.suppression import THRESHOLD

log = get_logger(__name__)

CellKey = tuple[str, str, str, str, str]  # period, virtue, deed type, agency code, province
Base = tuple[str, str, str, str]  # virtue, deed type, agency code, province
DONATION_SUFFIX = "_donation"  # redcross.blood_donation, …: counted as donations
HOUR = "hour"
_CELL: Table = StatsCell.__table__  # type: ignore[assignment]
_LOCK = 0x64636174  # PostgreSQL advisory lock of the refresh ("dcat")
_MASKS = tuple(range(16))
BUSY = "another refresh is running"
STALE_AFTER = timedelta(hours=2)  # a refresh "running" this long died with its process
KEEP_REFRESHES = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class Kind:
    """What the snapshot needs of a deed type."""

    unit: str
    donation: bool


@dataclass
class RefreshSummary:
    refreshed: list[int] = field(default_factory=list)  # fiscal years (BE)
    removed: list[int] = field(default_factory=list)
    cells: int = 0
    skipped: str = ""  # why nothing was done, if so
    seconds: float = 0.0
    as_of: datetime | None = None
    parts: dict[str, float] = field(default_factory=dict)


def projections(base: Base) -> tuple[Base, ...]:
    """The 16 cells of the cube a combination counts in: each dimension as itself
    or as "all"."""
    return tuple(
        (
            base[0] if mask & 1 else "",
            base[1] if mask & 2 else "",
            base[2] if mask & 4 else "",
            base[3] if mask & 8 else "",
        )
        for mask in _MASKS
    )


def deed_kinds(session: Session) -> dict[str, Kind]:
    """Unit and donation flag of every deed type (its version in force, or its last)."""
    latest = (
        select(DeedTypeVersion.deed_type_code, func.max(DeedTypeVersion.version).label("version"))
        .group_by(DeedTypeVersion.deed_type_code)
        .subquery()
    )
    query = select(DeedType.code, DeedTypeVersion.unit).join(
        DeedTypeVersion,
        (DeedTypeVersion.deed_type_code == DeedType.code)
        & (
            DeedTypeVersion.version
            == func.coalesce(
                DeedType.current_version,
                select(latest.c.version)
                .where(latest.c.deed_type_code == DeedType.code)
                .scalar_subquery(),
            )
        ),
    )
    return {
        code: Kind(unit, code.endswith(DONATION_SUFFIX)) for code, unit in session.execute(query)
    }


def agency_codes(session: Session) -> dict[uuid.UUID, str]:
    return {agency_id: code for agency_id, code in session.execute(select(Agency.id, Agency.code))}  # noqa: C416 (a Result has keys())


# --- the parts of a cell ------------------------------------------------------------------


def additive(
    session: Session,
    period: periods.Period,
    agencies: dict[uuid.UUID, str],
    kinds: dict[str, Kind],
) -> dict[CellKey, list[Any]]:
    """[deeds, quantity, hours, donations, credits] of every cell of a fiscal year,
    from the rollup."""
    cells: dict[CellKey, list[Any]] = {}
    query = select(
        StatsRollup.month,
        StatsRollup.virtue_code,
        StatsRollup.deed_type_code,
        StatsRollup.agency_id,
        StatsRollup.province,
        StatsRollup.deeds,
        StatsRollup.quantity,
        StatsRollup.credits,
    ).where(StatsRollup.month >= period.start, StatsRollup.month < period.end)
    for month, virtue, code, agency_id, province, deeds, quantity, credits in session.execute(
        query
    ):
        if not deeds and not quantity and not credits:
            continue
        kind = kinds.get(code)
        quantity = Decimal(quantity)
        amounts = (
            int(deeds),
            quantity,
            quantity if kind is not None and kind.unit == HOUR else Decimal(0),
            int(deeds) if kind is not None and kind.donation else 0,
            int(credits),
        )
        base = (virtue, code, agencies.get(agency_id, str(agency_id)), province)
        for key in periods.keys_of_month(_as_date(month)):
            for cell in projections(base):
                entry = cells.get((key, *cell))
                if entry is None:
                    cells[(key, *cell)] = list(amounts)
                else:
                    for i, amount in enumerate(amounts):
                        entry[i] += amount
    return cells


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def citizens(
    session: Session, period: periods.Period, agencies: dict[uuid.UUID, str], seed: int
) -> tuple[Counter[CellKey], Counter[CellKey]]:
    """Distinct citizens of every cell of a fiscal year, mostly in SQL, the same
    statements on both databases (GROUPING SETS, PostgreSQL's only, aside).

    1. Who did what in which month, once: (citizen, month, combination) rows, a
       combination being a virtue, deed type, agency and province (numbered).
    2. For each period level (month, quarter, year), each citizen's combinations
       in a period as a signature (how many, smallest, largest, sum: exact for up
       to three), and the citizens per signature. A signature's cells are the
       union of its combinations' 16 cells each (each dimension as itself or as
       "all"), and its citizens count once in each: Python adds them up. Few
       signatures stand for many citizens, so little leaves the database.
       Their record keys are added up alongside: the cell keys
       (``dcatalog.stats.perturbation``).
    3. Citizens with four or more combinations in a period (rare) are counted per
       cell with a distinct count over just their rows.

    On PostgreSQL a citizen is a 64-bit hash of the key (narrow rows). Two citizens
    sharing one is about a 3-in-a-million chance at 10 million citizens, and could
    only make a count one smaller, never show a small cell.

    Returns the distinct citizens and the sum of their record keys, per cell."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    params: dict[str, Any] = {
        "start": period.start if postgresql else period.start.isoformat(),
        "end": period.end if postgresql else period.end.isoformat(),
        "first": period.start.year * 12 + period.start.month,
        perturbation.SEED_PARAMETER: seed,
    }
    run = session.execute

    def create(name: str, query: str, values: dict[str, Any] | None = None) -> None:
        drop = " ON COMMIT DROP" if postgresql else ""
        run(text(f"CREATE TEMPORARY TABLE {name}{drop} AS {query}"), values or {})
        if postgresql:  # (temporary tables have no statistics until asked)
            run(text(f"ANALYZE {name}"))

    if postgresql:
        run(text("SET LOCAL work_mem = '256MB'"))
        run(text("SET LOCAL jit = off"))  # compiling each statement costs more than it saves
    _drop_temporary(session)
    create(
        "stats_base",
        "SELECT row_number() OVER (ORDER BY v, t, a, r) AS b, "
        "dense_rank() OVER (ORDER BY v) AS vi, dense_rank() OVER (ORDER BY t) AS ti, "
        "dense_rank() OVER (ORDER BY a) AS ai, dense_rank() OVER (ORDER BY r) AS ri, "
        "v, t, a, r FROM (SELECT DISTINCT virtue_code AS v, deed_type_code AS t, "
        "agency_id AS a, province AS r FROM stats_rollup "
        "WHERE month >= :start AND month < :end) x",
        params,
    )
    bases: dict[int, Base] = {}
    names: dict[tuple[int, int], str] = {}
    for b, vi, ti, ai, ri, v, t, a, r in run(text("SELECT * FROM stats_base")):
        agency = agencies.get(uuid.UUID(str(a)), str(a))
        bases[int(b)] = (v, t, agency, r)
        names.update({(0, vi): v, (1, ti): t, (2, ai): agency, (3, ri): r})
    who = "hashtextextended(d.citizen_key, 0)" if postgresql else "d.citizen_key"
    record_key = perturbation.record_key_sql(session, "d.citizen_key", seed)
    month = (
        "(extract(year from d.occurred_on)::int * 12 + extract(month from d.occurred_on)::int)"
        if postgresql
        else "(CAST(strftime('%Y', d.occurred_on) AS INTEGER) * 12"
        " + CAST(strftime('%m', d.occurred_on) AS INTEGER))"
    )
    create(
        "stats_presence",
        f"SELECT DISTINCT {who} AS c, {month} - :first AS m, b.b AS b, {record_key} AS k "  # noqa: S608
        "FROM deed d JOIN stats_base b ON b.v = d.virtue_code "
        "AND b.t = d.deed_type_code AND b.a = d.agency_id AND b.r = d.province "
        "WHERE d.status = 'verified' AND d.occurred_on >= :start AND d.occurred_on < :end",
        params,
    )
    keys = [periods.keys_of_month(m) for m in period.months]
    counts: Counter[CellKey] = Counter()
    cell_keys: Counter[CellKey] = Counter()
    for level, expression in enumerate(("m", "m / 3", "0")):

        def key(p: int, level: int = level) -> str:
            return keys[3 * int(p) if level == 1 else int(p)][level]

        _drop_temporary(session, ("stats_multi_rows", "stats_sig", "stats_level"))
        rows = "stats_presence"  # months: one row per citizen, month and combination
        if level:
            rows = "stats_level"
            create(rows, f"SELECT DISTINCT {expression} AS m, c, b, k FROM stats_presence")  # noqa: S608
        # Each citizen's combinations in a period, as a signature that names up to
        # three of them exactly: (how many, smallest, largest, sum).
        create(
            "stats_sig",
            "SELECT m AS p, c, count(*) AS n, min(b) AS lo, max(b) AS hi, sum(b) AS total, "  # noqa: S608
            f"min(k) AS k FROM {rows} GROUP BY m, c",
        )
        signatures = run(
            text(
                "SELECT p, n, lo, hi, total, count(*), sum(k) FROM stats_sig WHERE n <= 3 "
                "GROUP BY p, n, lo, hi, total"
            )
        )
        for p, n, lo, hi, total, people, key_sum in signatures:
            combos = {int(lo), int(hi)}
            if n == 3:
                combos.add(int(total) - int(lo) - int(hi))
            cells: set[Base] = set()
            for b in combos:
                cells.update(projections(bases[b]))
            name = key(p)
            for cell in cells:
                counts[(name, *cell)] += int(people)
                cell_keys[(name, *cell)] += int(key_sum)
        # Citizens with four or more combinations in a period (few): counted per cell.
        create(
            "stats_multi_rows",
            f"SELECT l.m AS p, l.c, l.k, b.vi, b.ti, b.ai, b.ri FROM {rows} l "  # noqa: S608 (ours)
            "JOIN stats_sig x ON x.p = l.m AND x.c = l.c AND x.n > 3 "
            "JOIN stats_base b ON b.b = l.b",
        )
        for mask, p, values, n, key_sum in _multi_counts(session, postgresql):
            found = tuple(names[(i, int(values[i]))] if mask >> i & 1 else "" for i in range(4))
            counts[(key(p), found[0], found[1], found[2], found[3])] += n
            cell_keys[(key(p), found[0], found[1], found[2], found[3])] += key_sum
    _drop_temporary(session)
    return counts, cell_keys


_TEMPORARY = ("stats_multi_rows", "stats_sig", "stats_level", "stats_presence", "stats_base")
_DIMS = ("vi", "ti", "ai", "ri")


def _multi_counts(
    session: Session, postgresql: bool
) -> Iterator[tuple[int, int, tuple[Any, ...], int, int]]:
    """(mask, period, dimension values, citizens, their record keys' sum) of the citizens with several
    combinations in a period: a distinct count per projection. PostgreSQL does the
    16 in one pass (GROUPING SETS); SQLite one after the other."""
    if postgresql:
        sets = ", ".join(
            "(" + ", ".join(["p", "c", *(d for i, d in enumerate(_DIMS) if m >> i & 1)]) + ")"
            for m in _MASKS
        )
        query = (
            "SELECT mask, p, vi, ti, ai, ri, count(*), sum(k) FROM ("  # noqa: S608 (ours)
            f"SELECT p, vi, ti, ai, ri, min(k) AS k, (15 - (GROUPING(vi) + 2 * GROUPING(ti) "
            "+ 4 * GROUPING(ai) + 8 * GROUPING(ri))) AS mask "
            f"FROM stats_multi_rows GROUP BY GROUPING SETS ({sets})"
            ") y GROUP BY mask, p, vi, ti, ai, ri"
        )
        for mask, p, vi, ti, ai, ri, n, keys in session.execute(text(query)):
            yield int(mask), int(p), (vi, ti, ai, ri), int(n), int(keys)
        return
    for mask in _MASKS:
        chosen = [d for i, d in enumerate(_DIMS) if mask >> i & 1]
        listed = ", ".join(["p", *chosen])
        query = (
            f"SELECT {listed}, count(*), sum(k) FROM (SELECT DISTINCT c, k, {listed} "  # noqa: S608 (ours)
            f"FROM stats_multi_rows) y GROUP BY {listed}"
        )
        for row in session.execute(text(query)):
            values = iter(row[1:-2])
            yield (
                mask,
                int(row[0]),
                tuple(next(values) if mask >> i & 1 else None for i in range(4)),
                int(row[-2]),
                int(row[-1]),
            )


def _drop_temporary(session: Session, names: Iterable[str] = _TEMPORARY) -> None:
    for name in names:
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))


def claims(
    session: Session, period: periods.Period, agencies: dict[uuid.UUID, str], seed: int
) -> tuple[Counter[CellKey], Counter[CellKey], Counter[CellKey]]:
    """Claims of benefits, distinct claimants and the sum of their record keys per
    period and agency (the benefit's), by the month in Thailand when they were
    claimed. (These record keys are computed here, not in SQL: a claim cell's key
    need only agree with itself from one refresh to the next.)"""
    start = datetime.combine(period.start, datetime.min.time(), BANGKOK)
    end = datetime.combine(period.end, datetime.min.time(), BANGKOK)
    query = (
        select(Claim.citizen_key, Claim.claimed_at, Benefit.agency_id)
        .join(Benefit, Benefit.id == Claim.benefit_id)
        .where(Claim.claimed_at >= start, Claim.claimed_at < end)
        .order_by(Claim.citizen_key)
        .execution_options(yield_per=10_000)
    )
    made: Counter[CellKey] = Counter()
    people: Counter[CellKey] = Counter()
    keys: Counter[CellKey] = Counter()
    current: str | None = None
    seen: set[CellKey] = set()
    record_key = 0

    def count_in(cells: set[CellKey]) -> None:
        people.update(cells)
        for cell in cells:
            keys[cell] += record_key

    for citizen, claimed_at, agency_id in session.execute(query):
        if citizen != current:
            count_in(seen)
            seen = set()
            current = citizen
            record_key = perturbation.record_key(citizen, seed)
        local = claimed_at.astimezone(BANGKOK).date().replace(day=1)
        agency = agencies.get(agency_id, str(agency_id))
        for key in periods.keys_of_month(local):
            for cell in ((key, "", "", agency, ""), (key, "", "", "", "")):
                made[cell] += 1
                seen.add(cell)
    count_in(seen)
    return made, people, keys


# --- suppression groups ----------------------------------------------------------------


def groups(keys: Iterable[CellKey]) -> Iterator[tuple[CellKey, list[CellKey]]]:
    """Every (total, parts) relation among the cells: along each dimension (a cell
    with a value is a part of the same cell with "all" there) and along time (a
    month is a part of its quarter and of its year, a quarter of its year)."""
    found: dict[tuple[CellKey, str], list[CellKey]] = {}
    for key in keys:
        period, *values = key
        for i, value in enumerate(values):
            if value:
                parent = (period, *values[:i], "", *values[i + 1 :])
                found.setdefault((parent, f"d{i}"), []).append(key)  # type: ignore[arg-type]
        parsed = periods.parse(period)
        if parsed is None or parsed.kind == "fy":
            continue
        year = f"fy:{parsed.fiscal_year}"
        if parsed.kind == "m":
            quarter = periods.quarter_key(parsed.start)
            found.setdefault(((quarter, *values), "months"), []).append(key)  # type: ignore[arg-type]
            found.setdefault(((year, *values), "months"), []).append(key)  # type: ignore[arg-type]
        else:
            found.setdefault(((year, *values), "quarters"), []).append(key)  # type: ignore[arg-type]
    for (parent, _along), parts in sorted(found.items()):
        yield parent, parts


# --- the refresh --------------------------------------------------------------------------


def _previous(session: Session) -> dict[str, int]:
    last = session.scalars(
        select(StatsRefresh)
        .where(StatsRefresh.status == RefreshStatus.DONE)
        .order_by(StatsRefresh.started_at.desc())
        .limit(1)
    ).first()
    return dict(last.changes) if last is not None else {}


def claim_counts(session: Session) -> dict[int, int]:
    """Claims per fiscal year (by the claim's time in Thailand): a claim is never
    deleted, so a count that moved means new claims."""
    counts: dict[int, int] = {}
    query = select(Claim.claimed_at).order_by(Claim.claimed_at)
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT to_char(claimed_at AT TIME ZONE 'Asia/Bangkok', 'YYYY-MM'), count(*) "
                "FROM claim GROUP BY 1"
            )
        )
        for month, n in rows:
            year = periods.parse(f"m:{month}")
            if year is not None:
                counts[year.fiscal_year] = counts.get(year.fiscal_year, 0) + int(n)
        return counts
    for (claimed_at,) in session.execute(query):
        local = claimed_at.astimezone(BANGKOK).date().replace(day=1)
        year = periods.parse(periods.month_key(local))
        assert year is not None
        counts[year.fiscal_year] = counts.get(year.fiscal_year, 0) + 1
    return counts


def counters(session: Session) -> dict[str, int]:
    """What the next refresh compares with the last one: the rollup's change counter
    and the number of claims, per fiscal year."""
    found = {f"deeds:{y}": n for y, n in rollups.fiscal_year_changes(session).items()}
    found.update({f"claims:{y}": n for y, n in claim_counts(session).items()})
    return found


def changed_years(now: dict[str, int], before: dict[str, int]) -> set[int]:
    keys = set(now) | set(before)
    return {int(k.split(":", 1)[1]) for k in keys if now.get(k, 0) != before.get(k, 0)}


def compute(
    session: Session,
    year: int,
    *,
    agencies: dict[uuid.UUID, str],
    kinds: dict[str, Kind],
    parts: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Every cell of one fiscal year as rows, its figures as published: a cell of
    fewer than 10 people marked small (never shown), every other figure perturbed
    by its cell key (``dcatalog.stats.perturbation``). The true figures are not kept."""
    timings = parts if parts is not None else {}
    period = periods.fiscal_year_period(year)
    seed = perturbation.seed(session)
    started = time.perf_counter()
    amounts = additive(session, period, agencies, kinds)
    timings["additive"] = timings.get("additive", 0) + time.perf_counter() - started
    started = time.perf_counter()
    people, keys = citizens(session, period, agencies, seed)
    timings["citizens"] = timings.get("citizens", 0) + time.perf_counter() - started
    started = time.perf_counter()
    made, claimants, claim_keys = claims(session, period, agencies, seed)
    timings["claims"] = timings.get("claims", 0) + time.perf_counter() - started
    started = time.perf_counter()
    rows = []
    zero = [0, Decimal(0), Decimal(0), 0, 0]
    for key in sorted({k for k, n in people.items() if n} | {k for k, n in made.items() if n}):
        n, cell_key = people.get(key, 0), keys.get(key, 0) % perturbation.KEY_SPACE
        m, claims_key = claimants.get(key, 0), claim_keys.get(key, 0) % perturbation.KEY_SPACE
        deeds, quantity, hours, donations, credits = amounts.get(key, zero)

        def moved(value: Any, people: int = n, cell_key: int = cell_key) -> Any:
            return perturbation.amount(value, people, cell_key)

        rows.append(
            {
                "period": key[0],
                "virtue_code": key[1],
                "deed_type_code": key[2],
                "agency": key[3],
                "province": key[4],
                "fiscal_year": year,
                "deeds": moved(deeds),
                "quantity": moved(quantity),
                "hours": moved(hours),
                "donations": moved(donations),
                "credits": moved(credits),
                "citizens": perturbation.count(n, cell_key),
                "status": _status(n),
                "cell_key": cell_key,
                "claims": perturbation.amount(made.get(key, 0), m, claims_key),
                "claimants": perturbation.count(m, claims_key),
                "claims_status": _status(m),
                "claims_key": claims_key,
            }
        )
    timings["perturbation"] = timings.get("perturbation", 0) + time.perf_counter() - started
    return rows


def _status(people: int) -> CellStatus:
    return CellStatus.SMALL if 0 < people < THRESHOLD else CellStatus.SHOWN


def refresh_session(
    session: Session, *, everything: bool = False, summary: RefreshSummary | None = None
) -> tuple[RefreshSummary, dict[str, int]]:
    """Recompute the changed fiscal years (all with ``everything``) in the session's
    transaction; the caller commits. Returns what was done and the counters seen."""
    summary = summary or RefreshSummary()
    if session.get_bind().dialect.name == "postgresql":
        if isinstance(session.bind, Engine):  # (tests join an open transaction instead)
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        if not session.scalar(text(f"SELECT pg_try_advisory_xact_lock({_LOCK})")):
            summary.skipped = BUSY
            return summary, {}
    summary.as_of = utcnow()
    now = counters(session)
    before = {} if everything else _previous(session)
    stored = set(session.scalars(select(StatsCell.fiscal_year).distinct()))
    wanted = changed_years(now, before) | (
        {int(k.split(":", 1)[1]) for k in now} if everything else set()
    )
    present = {int(k.split(":", 1)[1]) for k, n in now.items() if n}
    summary.removed = sorted(y for y in stored if y not in present)
    if summary.removed:
        session.execute(delete(StatsCell).where(StatsCell.fiscal_year.in_(summary.removed)))
    agencies, kinds = agency_codes(session), deed_kinds(session)
    for year in sorted(wanted & present):
        rows = compute(session, year, agencies=agencies, kinds=kinds, parts=summary.parts)
        session.execute(delete(StatsCell).where(StatsCell.fiscal_year == year))
        started = time.perf_counter()
        for start in range(0, len(rows), 20_000):
            bulk_insert(session, _CELL, rows[start : start + 20_000])
        summary.parts["write"] = summary.parts.get("write", 0) + time.perf_counter() - started
        summary.refreshed.append(year)
        summary.cells += len(rows)
    if not summary.refreshed and not summary.removed:
        summary.skipped = "nothing changed since the last refresh"
    return summary, now


def refresh(
    database: Database,
    started_by: str,
    *,
    everything: bool = False,
    refresh_id: uuid.UUID | None = None,
) -> RefreshSummary:
    """One refresh, recorded in ``stats_refresh`` (its own row, or the one given:
    a page starts the row, a thread runs it)."""
    started = time.perf_counter()
    if refresh_id is None:
        refresh_id = begin(database, started_by)
    summary = RefreshSummary()
    try:
        with database.write_session() as session:
            summary, seen = refresh_session(session, everything=everything, summary=summary)
            if summary.skipped == BUSY:
                session.rollback()
            else:
                _finish(session, refresh_id, summary, seen, started)
                session.commit()
        if summary.skipped == BUSY:
            with database.write_session() as session:
                _finish(session, refresh_id, summary, {}, started, RefreshStatus.FAILED, BUSY)
                session.commit()
    except Exception as exc:
        log.exception("stats refresh failed")
        with database.write_session() as session:
            _finish(session, refresh_id, summary, {}, started, RefreshStatus.FAILED, repr(exc))
            session.commit()
        raise
    summary.seconds = time.perf_counter() - started
    return summary


def begin(database: Database, started_by: str) -> uuid.UUID:
    """The row of a refresh about to run (what the page shows as running)."""
    with database.write_session() as session:
        record = StatsRefresh(status=RefreshStatus.RUNNING, started_by=started_by)
        session.add(record)
        session.commit()
        return record.id


def _finish(
    session: Session,
    refresh_id: uuid.UUID,
    summary: RefreshSummary,
    seen: dict[str, int],
    started: float,
    status: RefreshStatus = RefreshStatus.DONE,
    failure: str = "",
) -> None:
    record = session.get(StatsRefresh, refresh_id)
    if record is None:
        return
    record.status = status
    record.as_of = summary.as_of if status is RefreshStatus.DONE else None
    record.finished_at = record.heartbeat_at = utcnow()
    record.fiscal_years = " ".join(str(y) for y in summary.refreshed)
    record.changes = seen
    record.cells = summary.cells
    record.milliseconds = int((time.perf_counter() - started) * 1000)
    record.failure = failure[:2000]
    # The history of refreshes is kept for a month (and the last good one always).
    session.flush()
    session.execute(
        delete(StatsRefresh).where(
            StatsRefresh.started_at < utcnow() - KEEP_REFRESHES,
            StatsRefresh.id != refresh_id,
            StatsRefresh.status != RefreshStatus.RUNNING,
            StatsRefresh.id
            != select(StatsRefresh.id)
            .where(StatsRefresh.status == RefreshStatus.DONE)
            .order_by(StatsRefresh.started_at.desc())
            .limit(1)
            .scalar_subquery(),
        )
    )
