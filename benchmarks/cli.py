"""Measure bulk import against the raw ceiling of the same database, in one run.

    python -m benchmarks generate --rows 1000000
    python -m benchmarks import --rows 1000000 --db both

The ceiling is the fastest plain load of the same prepared rows into a table
with the same indexes (PostgreSQL: COPY; SQLite: executemany, 10,000 rows per
commit). Our import does everything a real import does: parse the file,
validate, key the national IDs, check plausibility against earlier deeds,
insert, and update tallies.
"""

from __future__ import annotations

import csv
import os
import platform
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text

from benchmarks.dataset import MIX, generate
from dcatalog.actors import operator_for
from dcatalog.agencies.service import get_agency
from dcatalog.db import Database, create_db_engine, new_id, utcnow
from dcatalog.deeds.importing import import_file
from dcatalog.deeds.service import Rules
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.schema import upgrade_engine

app = typer.Typer(add_completion=False, no_args_is_help=True)
console = Console()
ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
KEYER = CitizenKeyer(b"benchmark-pepper-0123456789abcdefghij")


def dataset(rows: int) -> Path:
    folder = ROOT / "var" / "bench" / f"{rows}"
    if not (folder / "thaihealth.csv").exists():
        console.print(f"Generating {rows:,} rows into {folder} …")
        generate(folder, rows)
    return folder


@app.command("generate")
def generate_command(
    rows: Annotated[int, typer.Option(help="Deeds in all.")] = 1_000_000,
    out: Annotated[Path | None, typer.Option(help="Folder for the CSV files.")] = None,
) -> None:
    """Write the synthetic national dataset (one CSV per recording agency)."""
    folder = out or ROOT / "var" / "bench" / f"{rows}"
    written = generate(folder, rows)
    console.print(f"{sum(written.values()):,} rows in {folder}: {written}")


def _new_database(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    name = f"dcatalog_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop(url: str) -> None:
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _prepared_rows(folder: Path, agency_ids: dict[str, uuid.UUID]) -> list[tuple[Any, ...]]:
    """The rows as the deed table stores them, prepared outside the timing."""
    now = utcnow()
    prepared = []
    for agency in MIX:
        with (folder / f"{agency}.csv").open(encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            for nid, kind, quantity, day, province, evidence, external_id in reader:
                prepared.append(
                    (
                        new_id(),
                        KEYER.key(nid),
                        nid[-4:],
                        kind,
                        1,
                        "volunteering",
                        agency_ids[agency],
                        external_id,
                        Decimal(quantity),
                        datetime.fromisoformat(day).date(),
                        province,
                        evidence,
                        "verified",
                        10,
                        "",
                        None,
                        "bench",
                        now,
                        None,
                        None,
                    )
                )
    return prepared


_COLUMNS = (
    "id, citizen_key, id_last4, deed_type_code, deed_type_version, virtue_code, agency_id, "
    "external_id, quantity, occurred_on, province, evidence, status, credits, status_reason, "
    "duplicate_of, recorded_by, recorded_at, decided_by, decided_at"
)


def ceiling(engine: Engine, rows: list[tuple[Any, ...]]) -> float:
    """Seconds to load the prepared rows into a copy of the deed table and its indexes."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE deed_ceiling (LIKE deed INCLUDING ALL)")
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            started = time.perf_counter()
            with cursor.copy(f"COPY deed_ceiling ({_COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            return time.perf_counter() - started
        finally:
            raw.close()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE deed_ceiling AS SELECT * FROM deed WHERE 0")
        conn.exec_driver_sql(
            "CREATE UNIQUE INDEX uq_ceiling ON deed_ceiling (agency_id, external_id)"
        )
        conn.exec_driver_sql(
            "CREATE INDEX ix_ceiling ON deed_ceiling (citizen_key, deed_type_code, occurred_on)"
        )
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        marks = ", ".join("?" * 20)
        sqlite_rows = [
            (
                r[0].hex,
                *r[1:6],
                r[6].hex,
                r[7],
                str(r[8]),
                r[9].isoformat(),
                *r[10:17],
                r[17].isoformat(),
                None,
                None,
            )
            for r in rows
        ]
        started = time.perf_counter()
        for start in range(0, len(sqlite_rows), 10_000):
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO deed_ceiling ({_COLUMNS}) VALUES ({marks})",
                sqlite_rows[start : start + 10_000],
            )
            cursor.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        raw.close()


def ours(database: Database, folder: Path) -> tuple[float, dict[str, int]]:
    rules = Rules(today=utcnow().date(), max_age_days=730, academic_start=(5, 16))
    counts = {"rows": 0, "imported": 0, "unchanged": 0, "rejected": 0}
    started = time.perf_counter()
    with database.write_session() as session:
        for agency in MIX:
            actor = operator_for(get_agency(session, agency).id)
            summary = import_file(session, actor, KEYER, rules, folder / f"{agency}.csv")
            for name in counts:
                counts[name] += getattr(summary, name)
    return time.perf_counter() - started, counts


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{platform.node()}: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


@app.command("import")
def import_command(
    rows: Annotated[
        int, typer.Option(help="Deeds in all (split over three agencies).")
    ] = 1_000_000,
    db: Annotated[str, typer.Option(help="sqlite, postgresql or both.")] = "both",
) -> None:
    """Bulk import throughput and its ratio to the raw ceiling, per database."""
    folder = dataset(rows)
    backends = ["sqlite", "postgresql"] if db == "both" else [db]
    table = Table(
        "database", "rows", "ceiling rows/s", "import rows/s", "ratio", "imported", "refused"
    )
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            url = _new_database(backend, Path(tmp))
            try:
                engine = create_db_engine(url)
                upgrade_engine(engine)
                database = Database(engine)
                with database.write_session() as session:
                    load_demo(session)
                    agency_ids = {code: get_agency(session, code).id for code in MIX}
                console.print(f"[{backend}] preparing the ceiling rows …")
                prepared = _prepared_rows(folder, agency_ids)
                ceiling_seconds = ceiling(engine, prepared)
                del prepared
                console.print(
                    f"[{backend}] ceiling: {rows / ceiling_seconds:,.0f} rows/s; importing …"
                )
                seconds, counts = ours(database, folder)
                with engine.connect() as conn:
                    tallies = conn.execute(text("SELECT count(*) FROM tally")).scalar()
                console.print(
                    f"[{backend}] import: {counts['rows'] / seconds:,.0f} rows/s, {tallies:,} tally rows"
                )
                table.add_row(
                    backend,
                    f"{counts['rows']:,}",
                    f"{rows / ceiling_seconds:,.0f}",
                    f"{counts['rows'] / seconds:,.0f}",
                    f"{(counts['rows'] / seconds) / (rows / ceiling_seconds):.2f}",
                    f"{counts['imported']:,}",
                    f"{counts['rejected']:,}",
                )
                engine.dispose()
            finally:
                _drop(url)
    console.print(table)
    console.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")


@app.command("http")
def http_command(
    seconds: Annotated[int, typer.Option(help="Duration of each wrk run.")] = 10,
    connections: Annotated[int, typer.Option(help="Concurrent connections.")] = 32,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 2,
) -> None:
    """Single-deed POST /api/v1/deeds on PostgreSQL vs a bare endpoint validating the same body."""
    import random
    import shutil
    import sys

    import httpx2 as httpx

    from dcatalog.accounts.service import create_api_key
    from dcatalog.actors import SYSTEM
    from dcatalog.calendars.buddhist_era import BANGKOK
    from dcatalog.identity.national_id import with_check_digit

    if shutil.which("wrk") is None:
        raise typer.Exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = _new_database("postgresql", folder)
        pepper = "benchmark-pepper-0123456789abcdefghij"
        try:
            engine = create_db_engine(url)
            upgrade_engine(engine)
            database = Database(engine)
            with database.write_session() as session:
                load_demo(session)
                _key, plain = create_api_key(
                    session, SYSTEM, get_agency(session, "thaihealth"), "bench", ["deeds:write"]
                )
            engine.dispose()
            rng = random.Random(7)
            ids = {
                with_check_digit(str(rng.randint(1, 8)) + f"{rng.randrange(10**11):011d}")
                for _ in range(200_000)
            }
            (folder / "ids.lua").write_text(
                "return {" + ",".join(f'"{i}"' for i in sorted(ids)) + "}\n"
            )
            port = 8765
            env = {
                **os.environ,
                "DCATALOG_DATABASE_URL": url,
                "DCATALOG_PEPPER": pepper,
                "DCATALOG_SECRET_KEY": pepper,
                "DCATALOG_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT),
            }
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "benchmarks.http_app:create_bench_app",
                    "--factory",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                env=env,
            )
            try:
                for _ in range(100):
                    try:
                        if (
                            httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code
                            == 200
                        ):
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.2)
                day = (datetime.now(BANGKOK).date()).isoformat()
                results = {}
                for name, path in (
                    ("POST /api/v1/deeds", "/api/v1/deeds"),
                    ("bare: validate only", "/bench/validate"),
                ):
                    wrk_env = {
                        **os.environ,
                        "BENCH_IDS": str(folder / "ids.lua"),
                        "BENCH_KEY": plain,
                        "BENCH_PATH": path,
                        "BENCH_DAY": day,
                        "BENCH_TYPE": "thaihealth.activity_challenge",
                    }
                    run = subprocess.run(
                        [
                            "wrk",
                            "-t2",
                            f"-c{connections}",
                            f"-d{seconds}s",
                            "-s",
                            str(ROOT / "benchmarks" / "http.lua"),
                            f"http://127.0.0.1:{port}",
                        ],
                        env=wrk_env,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT"))
                    results[name] = dict(part.split("=") for part in line.split()[1:])
            finally:
                server.terminate()
                server.wait(20)
        finally:
            _drop(url)
    table = Table("endpoint", "requests/s", "p50 ms", "p99 ms", "errors", "non-2xx")
    for name, r in results.items():
        table.add_row(name, r["rps"], r["p50_ms"], r["p99_ms"], r["errors"], r["non2xx"])
    console.print(table)
    ratio = float(results["POST /api/v1/deeds"]["rps"]) / float(
        results["bare: validate only"]["rps"]
    )
    console.print(
        f"ratio to the bare endpoint: {ratio:.2f} ({connections} connections, {workers} workers, PostgreSQL)"
    )
    console.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")


@app.command("eligibility")
def eligibility_command(
    citizens: Annotated[int, typer.Option(help="Citizens loaded, all of them in the upload.")] = (
        1_000_000
    ),
    chunk: Annotated[int | None, typer.Option(help="Rows per transaction of the report.")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the database (its URL is printed).")] = False,
) -> None:
    """The Student Loan Fund's eligibility report of every citizen, on PostgreSQL:
    end to end with the CSV, then the XLSX of the same rows (see docs/benchmarks.md)."""
    from benchmarks import eligibility
    from dcatalog.reports import service

    if chunk:
        service.CHUNK = chunk
    year = eligibility.current_year() - 1
    folder = ROOT / "var" / "bench" / f"eligibility-{citizens}"
    folder.mkdir(parents=True, exist_ok=True)
    url = _new_database("postgresql", folder)
    try:
        engine = create_db_engine(url)
        upgrade_engine(engine)
        database = Database(engine)
        with database.write_session() as session:
            load_demo(session)
        ids = list(eligibility.national_ids(citizens))
        console.print(f"loading {citizens:,} citizens …")
        eligibility.describe(console, eligibility.load(database, KEYER, ids, year))
        rows = eligibility.write_upload(folder / "borrowers.csv", ids)
        del ids
        console.print(
            f"report of {rows:,} rows for academic year {year} (chunks of {service.CHUNK:,}) …"
        )
        seconds, summary, timings = eligibility.report(
            database, KEYER, folder / "borrowers.csv", folder / "report.csv", year
        )
        logged = eligibility.row_count(database, "access_log")
        xlsx_seconds, xlsx_rows = eligibility.xlsx(folder / "report.csv", folder / "report.xlsx")
        table = Table("step", "seconds", "rows/s")
        table.add_row(
            "report, end to end (CSV)", f"{seconds:.1f}", f"{summary.rows / seconds:,.0f}"
        )
        for name, part in timings.rows(seconds):
            table.add_row(f"  {name}", f"{part:.1f}", "")
        table.add_row(
            "XLSX of the same rows", f"{xlsx_seconds:.1f}", f"{xlsx_rows / xlsx_seconds:,.0f}"
        )
        console.print(table)
        console.print(
            f"{summary.rows:,} rows: {summary.met:,} met, {summary.not_met:,} not met, "
            f"{summary.refused:,} refused, {summary.invalid:,} invalid; {logged:,} access-log rows; "
            f"target < 60 s: {'met' if seconds < 60 else 'MISSED'}"
        )
        console.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
        engine.dispose()
    finally:
        if keep:
            console.print(f"kept {url}")
        else:
            _drop(url)


@app.command("dashboard")
def dashboard_command(
    deeds: Annotated[int, typer.Option(help="Deeds loaded (all statuses).")] = 10_000_000,
    citizens: Annotated[int, typer.Option(help="Citizens they belong to.")] = 1_000_000,
    keep: Annotated[bool, typer.Option(help="Keep the database (its URL is printed).")] = False,
    reuse: Annotated[
        str, typer.Option(help="A database loaded by an earlier --keep run: skip the load.")
    ] = "",
) -> None:
    """The programme dashboard on PostgreSQL: rollup rebuild, snapshot refresh, and
    each view's answer time over many filters (see docs/benchmarks.md)."""
    from benchmarks import dashboard
    from dcatalog.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        url = reuse or _new_database("postgresql", Path(tmp))
        try:
            engine = create_db_engine(url)
            database = Database(engine)
            if not reuse:
                upgrade_engine(engine)
                with database.write_session() as session:
                    load_demo(session)
            settings = Settings(
                database_url=url,
                instance_dir=Path(tmp) / "var",
                pepper="benchmark-pepper-0123456789abcdefghij",  # type: ignore[arg-type]
                secret_key="benchmark-secret-0123456789abcdefghij",  # type: ignore[arg-type]  # noqa: S106
                log_level="WARNING",
            )
            found = dashboard.run(
                console,
                database,
                settings,
                deeds=deeds,
                people=citizens,
                keyer=KEYER,
                load_data=not reuse,
            )
            table = Table("view (service call or page)", "calls", "p50 ms", "p95 ms", "max ms")
            for group in (found["views"], found["pages"]):
                for name, values in group.items():
                    p50, p95, most = dashboard.summary(values)
                    table.add_row(name, str(len(values)), f"{p50:.1f}", f"{p95:.1f}", f"{most:.1f}")
            console.print(table)
            worst = max(dashboard.summary(v)[1] for v in found["pages"].values())
            console.print(
                f"target < 300 ms per view: {'met' if worst < 300 else 'MISSED'} "
                f"(worst p95 of a page: {worst:.0f} ms)"
            )
            console.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
            engine.dispose()
        finally:
            if keep or reuse:
                console.print(f"kept {url}")
            else:
                _drop(url)


@app.command("disclosure")
def disclosure_command(
    deeds: Annotated[
        int, typer.Option(help="Deeds of a synthetic nation on PostgreSQL too (0: the demo only).")
    ] = 0,
    citizens: Annotated[int, typer.Option(help="Citizens of the synthetic nation.")] = 100_000,
) -> None:
    """The former suppression against cell-key perturbation on the same cells: what
    each hides, how far shown figures move, and the differencing attack (see
    docs/benchmarks.md)."""
    from benchmarks import disclosure

    def report(name: str, outcomes: list[disclosure.Outcome]) -> None:
        shown = [o for o in outcomes if o.cells > o.small]  # years with anything to show
        table = Table("fiscal year", *(str(o.fiscal_year) for o in shown), title=name)
        rows = [o.row() for o in shown]
        for measure in list(rows[0])[1:] if rows else []:
            table.add_row(measure, *(f"{row[measure]:,}" for row in rows))
        console.print(table)
        for outcome in shown:
            if outcome.notable:
                console.print(
                    f"{outcome.fiscal_year}: hidden as x by the former method, shown now: "
                    + "; ".join(outcome.notable)
                )

    def demo_database(url: str, *, people: bool) -> Database:
        """A migrated database with the demo (and its people, with ``people``)."""
        database = Database(create_db_engine(url))
        upgrade_engine(database.engine)
        with database.write_session() as session:
            load_demo(session, with_accounts=people, keyer=KEYER if people else None)
            session.commit()
        return database

    with tempfile.TemporaryDirectory() as tmp:
        database = demo_database(_new_database("sqlite", Path(tmp)), people=True)
        with database.write_session() as session:
            report("The demo (SQLite)", disclosure.run(session, console.print))
        database.dispose()
        if deeds:
            from benchmarks import dashboard
            from dcatalog.stats import rollups

            url = _new_database("postgresql", Path(tmp))
            try:
                database = demo_database(url, people=False)
                dashboard.load(database, KEYER, deeds=deeds, people=citizens, say=console.print)
                with database.write_session() as session:
                    rollups.rebuild(session)
                    session.commit()
                with database.write_session() as session:
                    name = (
                        f"A synthetic nation: {deeds:,} deeds of {citizens:,} people (PostgreSQL)"
                    )
                    report(name, disclosure.run(session, console.print))
                database.dispose()
            finally:
                _drop(url)
    console.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
