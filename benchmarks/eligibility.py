"""The Student Loan Fund's eligibility report for a national list, on PostgreSQL.

    python -m benchmarks eligibility --citizens 1000000

Loads (set-based: ``COPY``, outside the timing) a synthetic nation of citizens
with volunteer hours, their tallies, consents to the Fund (some withdrawn),
birth dates (a tenth are minors, half of them with a guardian's consent), then
times the report for an upload of every citizen's national ID (a few with a
typo): reading the file, keying the IDs, consent, guardians, the rule compiled
to SQL, the access log (``COPY``) and writing the CSV, end to end. Writing the
same rows as XLSX is timed separately.
"""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Table, text

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import PeriodKind, academic_year, period_bounds
from dcatalog.citizens.models import Consent, GuardianConsent
from dcatalog.db import Database, bulk_insert, new_id, transaction, utcnow
from dcatalog.deeds import tallies
from dcatalog.deeds.models import Deed, DeedStatus, Tally
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen
from dcatalog.identity.national_id import with_check_digit
from dcatalog.reports import service

START = (5, 16)
LOAD_CHUNK = 100_000


def national_ids(n: int) -> Iterator[str]:
    """``n`` distinct valid synthetic IDs (an affine map of 0..n-1 stays distinct)."""
    for i in range(n):
        yield with_check_digit(f"{1 + i % 8}{(i * 7_919 + 12_345) % 10**11:011d}")


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


@dataclass
class Loaded:
    citizens: int = 0
    deeds: int = 0
    tallies: int = 0
    consents: int = 0
    minors: int = 0
    seconds: float = 0.0


def load(database: Database, keyer: CitizenKeyer, ids: list[str], year: int) -> Loaded:
    """Citizens, their verified volunteer hours in academic year ``year`` (and a few in
    the current one), tallies, consents and guardians' consents, ``LOAD_CHUNK``
    citizens per transaction."""
    rng = random.Random(2568)
    span = period_bounds(PeriodKind.ACADEMIC_YEAR, year, START)
    assert span.start is not None
    today = today_in_thailand()
    loaded = Loaded()
    started = time.perf_counter()
    with database.write_session() as session:
        kys, university = get_agency(session, "kys").id, get_agency(session, "demouniv").id
    now = utcnow()
    for first in range(0, len(ids), LOAD_CHUNK):
        citizens, consents, guardians, deeds = [], [], [], []
        counted = []
        for number, national_id in enumerate(ids[first : first + LOAD_CHUNK], start=first):
            key = keyer.key(national_id)
            minor = rng.random() < 0.1
            born = date(today.year - (15 if minor else rng.randint(21, 30)), 1 + number % 12, 1)
            citizens.append(
                {"citizen_key": key, "born_on": born, "first_seen_at": now, "last_seen_at": now}
            )
            if minor:
                loaded.minors += 1
                if rng.random() < 0.5:
                    guardians.append(
                        {
                            "id": new_id(),
                            "citizen_key": key,
                            "guardian_key": "g" * 64,
                            "relation": "mother",
                            "recorded_by": "bench",
                            "recorded_at": now,
                            "withdrawn_at": None,
                        }
                    )
            if rng.random() < 0.8:
                consents.append(
                    {
                        "id": new_id(),
                        "citizen_key": key,
                        "agency_id": kys,
                        "purpose": "loan renewal",
                        "scope": ["type:kys.volunteer_activity"]
                        if number % 2
                        else ["virtue:volunteering"],
                        "includes_health": False,
                        "granted_by": "self",
                        "granted_at": now,
                        "withdrawn_at": now if rng.random() < 0.03 else None,
                    }
                )
            days = sorted(rng.sample(range(360), rng.choice([0, 1, 2, 3, 4, 6, 8])))
            if rng.random() < 0.3:  # some hours already in the current year: not counted
                days.append(366 + rng.randrange(30))
            for n, offset in enumerate(days):
                hours = rng.choice([2, 3, 4, 6, 8])
                day = span.start + timedelta(days=offset)
                deeds.append(
                    {
                        "id": new_id(),
                        "citizen_key": key,
                        "id_last4": national_id[-4:],
                        "deed_type_code": "kys.volunteer_activity",
                        "deed_type_version": 1,
                        "virtue_code": "volunteering",
                        "agency_id": university,
                        "external_id": f"bench-{number}-{n}",
                        "quantity": Decimal(hours),
                        "occurred_on": day,
                        "province": "TH-10",
                        "evidence": "",
                        "status": DeedStatus.VERIFIED,
                        "credits": hours * 10,
                        "status_reason": "",
                        "duplicate_of": None,
                        "recorded_by": "bench",
                        "recorded_at": now,
                        "decided_by": "bench",
                        "decided_at": now,
                    }
                )
                counted.append(
                    tallies.Counted(
                        key,
                        "kys.volunteer_activity",
                        "volunteering",
                        day,
                        Decimal(hours),
                        hours * 10,
                    )
                )
        totals = tallies.aggregate(counted, START)
        tally_rows = [
            {"citizen_key": c, "subject": s, "period": p, "count": n, "quantity": q, "credits": k}
            for (c, s, p), (n, q, k) in totals.items()
        ]
        with database.write_session() as session, transaction(session):
            bulk_insert(session, _table(Citizen), citizens)
            bulk_insert(session, _table(Consent), consents)
            bulk_insert(session, _table(GuardianConsent), guardians)
            bulk_insert(session, _table(Deed), deeds)
            bulk_insert(session, _table(Tally), tally_rows)
        loaded.citizens += len(citizens)
        loaded.consents += len(consents)
        loaded.deeds += len(deeds)
        loaded.tallies += len(tally_rows)
    with database.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    loaded.seconds = time.perf_counter() - started
    return loaded


def write_upload(path: Path, ids: list[str]) -> int:
    """Every citizen's ID, shuffled, with the Fund's own reference; one in a thousand
    with a typo (a wrong check digit). Returns the rows written."""
    rng = random.Random(7)
    order = list(range(len(ids)))
    rng.shuffle(order)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["national_id", "reference"])
        for n, index in enumerate(order):
            national_id = ids[index]
            if n % 1000 == 999:
                national_id = national_id[:12] + str((int(national_id[12]) + 1) % 10)
            writer.writerow([national_id, f"KYS-{index:07d}"])
    return len(order)


@dataclass
class Timings:
    """Seconds spent in the parts of the report (the rest: reading, keying, writing)."""

    parts: dict[str, float] = field(default_factory=dict)

    def rows(self, total: float) -> list[tuple[str, float]]:
        """The parts as a table's rows: each row's seconds exclude the ones below it."""
        answering = self.parts.get("answer", 0.0)
        fill, log = self.parts.get("fill", 0.0), self.parts.get("log", 0.0)
        return [
            (
                "reading, keying IDs, writing the CSV (Python; the next chunk is read meanwhile)",
                total - answering,
            ),
            ("keys into temporary tables (COPY)", fill),
            ("consent, birth dates, guardians, the rule (SQL)", answering - fill - log),
            ("access log (COPY)", log),
        ]

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.parts[name] = self.parts.get(name, 0.0) + time.perf_counter() - started

        return timed


def report(
    database: Database, keyer: CitizenKeyer, upload: Path, out: Path, year: int
) -> tuple[float, service.Summary, Timings]:
    """The timed report, end to end (the same call the background job makes)."""
    timings = Timings()
    originals = (service._answer, service._log, service._fill_keys)
    service._answer = timings.wrap("answer", service._answer)  # type: ignore[assignment]
    service._log = timings.wrap("log", service._log)  # type: ignore[assignment]
    service._fill_keys = timings.wrap("fill", service._fill_keys)  # type: ignore[assignment]
    try:
        with database.session() as session:
            actor = Actor(
                "staff",
                "bench",
                "staff:officer@kys.example",
                get_agency(session, "kys").id,
                None,
                frozenset({Scope.ELIGIBILITY_READ}),
            )
        started = time.perf_counter()
        with database.write_session() as session:
            spec = service.prepare(
                session,
                actor,
                benefit_code="kys.loan_renewal",
                academic_year_be=year,
                language="en",
                today=today_in_thailand(),
                academic_start=START,
            )
            sink = service.CsvSink.to_path(out)
            summary = service.build(
                session,
                actor,
                keyer,
                spec,
                upload,
                [sink],
                today=today_in_thailand(),
                academic_start=START,
            )
            sink.close()
        seconds = time.perf_counter() - started
    finally:
        service._answer, service._log, service._fill_keys = originals  # type: ignore[assignment]
    return seconds, summary, timings


def xlsx(csv_path: Path, out: Path) -> tuple[float, int]:
    """Seconds to write the report's rows as XLSX (openpyxl, write-only), as the job
    does besides the CSV."""
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            [int(r[0]) if r[0].isdigit() else r[0], *r[1:]] for r in csv.reader(handle)
        ]  # read outside the timing
    started = time.perf_counter()
    sink = service.XlsxSink(out)
    for row in rows:
        sink.write(row)
    sink.close()
    return time.perf_counter() - started, len(rows) - 1


def current_year() -> int:
    return academic_year(today_in_thailand(), START)


def describe(console: Console, loaded: Loaded) -> None:
    console.print(
        f"loaded {loaded.citizens:,} citizens, {loaded.deeds:,} verified deeds, "
        f"{loaded.tallies:,} tally rows, {loaded.consents:,} consents, {loaded.minors:,} minors "
        f"in {loaded.seconds:,.0f} s"
    )


def row_count(database: Database, table: str) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
