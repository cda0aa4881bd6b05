"""The programme office's dashboard over a synthetic nation, on PostgreSQL.

    python -m benchmarks dashboard --deeds 10000000 --citizens 1000000

Loads (outside the timing, set-based: ``COPY`` straight into ``deed`` and
``claim``) the synthetic national dataset of ``benchmarks.dataset`` — valid
national IDs, population-weighted provinces, deeds per the demo catalog — with
plausible statuses (volunteer hours mostly verified, some pending, rejected or
revoked; donations and activity days verified, a few revoked) and claims of the
demo benefits. Then it times, with the real code: ``stats rebuild`` (the rollup
from the deeds), ``stats refresh`` (the snapshot with distinct citizens and
suppression), and each dashboard view's service call over many filters (p50,
p95), and the whole page over HTTP.
"""

from __future__ import annotations

import hashlib
import io
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from benchmarks.dataset import MIX, citizens, rows_for
from dcatalog.agencies.service import get_agency
from dcatalog.benefits.models import Benefit
from dcatalog.calendars.buddhist_era import BANGKOK, today_in_thailand
from dcatalog.config import Settings
from dcatalog.db import Database, new_id, utcnow
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.stats import periods, service
from dcatalog.stats.service import Filters

_CREDITS = {
    "kys.volunteer_activity": 10,
    "redcross.blood_donation": 10,
    "thaihealth.activity_challenge": 2,
}
_VIRTUE = {
    "kys.volunteer_activity": "volunteering",
    "redcross.blood_donation": "volunteering",
    "thaihealth.activity_challenge": "health",
}
_DEED_COLUMNS = (
    "id",
    "citizen_key",
    "id_last4",
    "deed_type_code",
    "deed_type_version",
    "virtue_code",
    "agency_id",
    "external_id",
    "quantity",
    "occurred_on",
    "province",
    "evidence",
    "status",
    "credits",
    "status_reason",
    "duplicate_of",
    "recorded_by",
    "recorded_at",
    "decided_by",
    "decided_at",
)
_SECONDARY = {  # dropped during the load, built again after it (as a restore would)
    "ix_deed_citizen_type_day": (
        "CREATE INDEX ix_deed_citizen_type_day ON deed (citizen_key, deed_type_code, occurred_on)"
    ),
    "ix_deed_status": "CREATE INDEX ix_deed_status ON deed (status)",
}
_UNIQUE = "uq_deed_agency_id_external_id"
_CHUNK = 200_000


@dataclass
class Loaded:
    deeds: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    citizens: int = 0
    claims: int = 0
    seconds: float = 0.0


def _status(rng: random.Random, kind: str) -> str:
    roll = rng.random()
    if kind == "kys.volunteer_activity":  # checked by a verifier: some wait, some fail
        if roll < 0.07:
            return "pending"
        if roll < 0.10:
            return "rejected"
        if roll < 0.12:
            return "revoked"
        return "verified"
    return "revoked" if roll < 0.01 else "verified"


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    return str(value)


def _deed_lines(
    people: list[Any],
    keys: dict[str, str],
    agency_ids: dict[str, uuid.UUID],
    deeds: int,
    seed: int,
    end: date,
    loaded: Loaded,
) -> Iterator[str]:
    rng = random.Random(f"{seed}:status")
    now = utcnow().isoformat()
    for agency, (kind, share) in MIX.items():
        offset = {"demouniv": 0, "korat_hospital": 1, "thaihealth": 2}[agency] * len(people) // 3
        rotated = people[offset:] + people[:offset]
        agency_id = str(agency_ids[agency])
        credits_per_unit, virtue = _CREDITS[kind], _VIRTUE[kind]
        for nid, _kind, quantity, day, province, _evidence, external_id in rows_for(
            agency, rotated, round(deeds * share), seed, end
        ):
            status = _status(rng, kind)
            counted = status in ("verified", "revoked")
            credits = int(quantity) * credits_per_unit if counted else None
            decided = now if status != "pending" else None
            loaded.by_status[status] = loaded.by_status.get(status, 0) + 1
            yield (
                "\t".join(
                    _copy_text(v)
                    for v in (
                        new_id(),
                        keys[nid],
                        nid[-4:],
                        kind,
                        1,
                        virtue,
                        agency_id,
                        external_id,
                        quantity,
                        day,
                        province,
                        "",
                        status,
                        credits,
                        "synthetic" if status in ("rejected", "revoked") else "",
                        None,
                        "bench",
                        now,
                        "bench" if decided else None,
                        decided,
                    )
                )
                + "\n"
            )


def _copy_lines(
    database: Database, table: str, columns: tuple[str, ...], lines: Iterator[str]
) -> int:
    raw: Any = database.engine.raw_connection()
    written = 0
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for line in lines:
                buffer.write(line)
                written += 1
                if written % _CHUNK == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()
    return written


def load(
    database: Database,
    keyer: CitizenKeyer,
    *,
    deeds: int,
    people: int,
    seed: int = 2569,
    say: Callable[[str], None] = print,
) -> Loaded:
    """The synthetic nation's deeds and claims, by COPY (outside any timing)."""
    started = time.perf_counter()
    loaded = Loaded(citizens=people)
    end = today_in_thailand() - timedelta(days=1)
    rng = random.Random(seed)
    say(f"making {people:,} citizens …")
    population = citizens(rng, people)
    keys = {p.national_id: keyer.key(p.national_id) for p in population}
    with database.session() as session:
        agency_ids = {code: get_agency(session, code).id for code in MIX}
    with database.engine.begin() as conn:
        for name in _SECONDARY:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        conn.exec_driver_sql(f"ALTER TABLE deed DROP CONSTRAINT IF EXISTS {_UNIQUE}")
    say(f"copying {deeds:,} deeds …")
    loaded.deeds = _copy_lines(
        database,
        "deed",
        _DEED_COLUMNS,
        _deed_lines(population, keys, agency_ids, deeds, seed, end, loaded),
    )
    say("building the deed indexes again …")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        conn.exec_driver_sql(
            f"ALTER TABLE deed ADD CONSTRAINT {_UNIQUE} UNIQUE (agency_id, external_id)"
        )
        for ddl in _SECONDARY.values():
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql("ANALYZE deed")
    loaded.claims = _load_claims(database, [keys[p.national_id] for p in population], end, seed)
    loaded.seconds = time.perf_counter() - started
    return loaded


def _load_claims(database: Database, keys: list[str], end: date, seed: int) -> int:
    """A tenth of the citizens claimed one of the demo benefits during the year."""
    rng = random.Random(f"{seed}:claims")
    with database.session() as session:
        benefits = [
            session.scalars(select(Benefit.id).where(Benefit.code == code)).one()
            for code in ("kys.loan_renewal", "thaihealth.challenge_30", "redcross.donor_privilege")
        ]
    start = datetime.combine(end - timedelta(days=360), clock(9), BANGKOK)

    def lines() -> Iterator[str]:
        for key in rng.sample(keys, len(keys) // 10):
            at = (start + timedelta(minutes=rng.randrange(360 * 24 * 60))).astimezone(UTC)
            redeemed = rng.random() < 0.7
            yield (
                "\t".join(
                    _copy_text(v)
                    for v in (
                        new_id(),
                        rng.choice(benefits),
                        key,
                        hashlib.sha256(f"{key}:{at}".encode()).hexdigest(),
                        "redeemed" if redeemed else "issued",
                        at.isoformat(),
                        (at + timedelta(days=30)).isoformat(),
                        (at + timedelta(days=1)).isoformat() if redeemed else None,
                        "bench" if redeemed else None,
                    )
                )
                + "\n"
            )

    columns = (
        "id",
        "benefit_id",
        "citizen_key",
        "code_digest",
        "status",
        "claimed_at",
        "expires_at",
        "redeemed_at",
        "redeemed_by",
    )
    return _copy_lines(database, "claim", columns, lines())


def _filters(database: Database, year: int) -> list[Filters]:
    """The views timed: each period kind, each filter alone, and a few together."""
    with database.session() as session:
        names = service.labels(session, "th")
    fy = f"fy:{year}"
    months = periods.inside(periods.fiscal_year_period(year))
    return [
        Filters(fy),
        Filters(f"fy:{year - 1}"),
        *(Filters(f"q:{year - 1}-{q}") for q in range(1, 5)),
        *(Filters(m) for m in months[:2]),
        *(Filters(fy, virtue=v) for v in names.virtues),
        *(Filters(fy, deed_type=t) for t in MIX_TYPES),
        *(Filters(fy, agency=a) for a in MIX),
        *(Filters(fy, province=p) for p in ("TH-10", "TH-30", "TH-58", "TH-96")),
        Filters(fy, virtue="volunteering", province="TH-50"),
        Filters(f"fy:{year - 1}", deed_type="redcross.blood_donation", province="TH-30"),
        Filters(f"q:{year - 1}-3", agency="thaihealth", province="TH-10"),
    ]


MIX_TYPES = tuple(kind for kind, _share in MIX.values())


def time_views(database: Database, year: int, rounds: int = 3) -> dict[str, list[float]]:
    """Seconds per service call: each table of the page, the whole page's figures,
    and the national counters."""
    timings: dict[str, list[float]] = {name: [] for name in (*service.GROUP_BYS, "dashboard")}
    timings["national_counters"] = []
    views = _filters(database, year)
    for _ in range(rounds):
        for filters in views:
            with database.session() as session:
                for group_by in service.GROUP_BYS:
                    started = time.perf_counter()
                    service.figures(session, filters, group_by)
                    timings[group_by].append(time.perf_counter() - started)
                started = time.perf_counter()
                service.dashboard(session, filters)
                timings["dashboard"].append(time.perf_counter() - started)
                started = time.perf_counter()
                service.national_counters(session, year)
                timings["national_counters"].append(time.perf_counter() - started)
    return timings


def time_pages(
    database: Database, settings: Settings, year: int, rounds: int = 3
) -> dict[str, list[float]]:
    """Seconds per page over HTTP (in process: routing, the service, the template)."""
    from fastapi.testclient import TestClient

    from dcatalog.accounts import service as accounts
    from dcatalog.accounts.permissions import Role
    from dcatalog.actors import SYSTEM
    from dcatalog.app import create_app

    password = "a long enough password for the bench"  # noqa: S105 (a throw-away database)
    with database.write_session() as session:
        accounts.create_account(
            session,
            SYSTEM,
            email="bench@pmdu.example",
            display_name="Bench",
            role=Role.PROGRAM_ADMIN,
            password=password,
            agency=None,
        )
        session.commit()
    timings: dict[str, list[float]] = {"page": [], "page (htmx filter change)": [], "csv": []}
    with TestClient(create_app(settings, database=database)) as client:
        login = client.get("/login").text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post(
            "/login",
            data={"email": "bench@pmdu.example", "password": password, "csrf_token": token},
        )
        for _ in range(rounds):
            for filters in _filters(database, year):
                query = urlencode(
                    {"period": filters.period, **{k: v for k, v in filters.values().items() if v}}
                )
                for name, path, headers in (
                    ("page", f"/admin/dashboard?{query}", {}),
                    (
                        "page (htmx filter change)",
                        f"/admin/dashboard?{query}",
                        {"HX-Request": "true"},
                    ),
                    ("csv", f"/admin/dashboard.csv?table=province&{query}", {}),
                ):
                    started = time.perf_counter()
                    response = client.get(path, headers=headers)
                    timings[name].append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text[:300]
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(values: list[float]) -> tuple[float, float, float]:
    """(p50, p95, max) in milliseconds."""
    ms = [v * 1000 for v in values]
    return statistics.median(ms), percentile(ms, 0.95), max(ms)


def run(
    console: Any,
    database: Database,
    settings: Settings,
    *,
    deeds: int,
    people: int,
    keyer: CitizenKeyer,
    load_data: bool = True,
) -> dict[str, Any]:
    """The whole benchmark on a migrated database with the demo catalog; returns the
    figures printed (for docs/benchmarks.md)."""
    from dcatalog.calendars.periods import fiscal_year
    from dcatalog.stats import rollups, snapshot

    out: dict[str, Any] = {}
    if load_data:
        loaded = load(database, keyer, deeds=deeds, people=people, say=lambda m: console.print(m))
        out["loaded"] = loaded
        console.print(
            f"loaded {loaded.deeds:,} deeds {loaded.by_status} of {loaded.citizens:,} citizens "
            f"and {loaded.claims:,} claims in {loaded.seconds:.0f} s (COPY, not timed below)"
        )
    started = time.perf_counter()
    with database.write_session() as session:
        rows = rollups.rebuild(session)
        session.commit()
    out["rebuild"] = time.perf_counter() - started
    console.print(f"stats rebuild: {rows:,} rollup rows in {out['rebuild']:.1f} s")
    refreshed = snapshot.refresh(database, "bench", everything=True)
    out["refresh"] = refreshed
    console.print(
        f"stats refresh --all: fiscal years {refreshed.refreshed}, {refreshed.cells:,} cells "
        f"in {refreshed.seconds:.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in refreshed.parts.items())})"
    )
    started = time.perf_counter()
    again = snapshot.refresh(database, "bench")
    out["refresh_unchanged"] = time.perf_counter() - started
    console.print(
        f"stats refresh, nothing changed: {again.skipped} ({out['refresh_unchanged']:.2f} s)"
    )
    with database.session() as session:
        check_started = time.perf_counter()
        differences = rollups.differences(session)
        out["check"] = time.perf_counter() - check_started
    console.print(f"stats check: {len(differences)} differences in {out['check']:.1f} s")
    year = fiscal_year(today_in_thailand())
    views = time_views(database, year)
    pages = time_pages(database, settings, year)
    out["views"], out["pages"] = views, pages
    return out
