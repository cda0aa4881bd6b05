"""The catalog and the record: deed types approved by the programme office, deeds
recorded (and verified) by their agency, and what counting them writes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.actors import SYSTEM, operator_for
from dcatalog.agencies.models import Agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.catalog import service as catalog
from dcatalog.catalog.models import DeedType, DeedTypeVersion, Virtue
from dcatalog.catalog.schemas import NewDeedType
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import Deed, DeedStatus, Tally
from dcatalog.stats import jobs as stats_jobs
from dcatalog.stats import targets as stats_targets
from dcatalog.stats.models import ProgrammeTarget, StatsCell, StatsRefresh, StatsRollup
from tests.factories.common import (
    database_of,
    immediate_jobs,
    keyer,
    new_national_id,
    rules,
    unique,
)
from tests.factories.staff import new_agency
from tests.factories.web import deed_type_fields


def make_virtue(session: Session, code: str = "volunteering") -> Virtue:
    """Virtues are reference data: migration 0002 seeds the five and no service
    writes one, so this returns a seeded one."""
    virtue = session.get(Virtue, code)
    if virtue is None:
        raise LookupError(f"no virtue {code!r}: the migrations seed only the five")
    return virtue


def make_deed_type(
    session: Session,
    *,
    agency: Agency | None = None,
    name: str | None = None,
    approved: bool = True,
    **fields: object,
) -> DeedType:
    """A deed type of ``agency`` (a new one by default) drafted, submitted and
    approved (in force) as the catalog's review has it; ``fields`` override
    ``deed_type_fields()``; ``approved=False`` leaves version 1 a draft."""
    owner = agency or new_agency(session)
    wanted = NewDeedType(**deed_type_fields(name=name or unique("deed"), **fields))
    entry = catalog.create_deed_type(session, SYSTEM, owner, wanted)
    if approved:
        draft = catalog.submit(session, SYSTEM, entry)
        catalog.approve(session, SYSTEM, entry, draft.version, note="test kit")
    return entry


def make_deed_type_version(session: Session, **options: Any) -> DeedTypeVersion:
    """The version in force of a new deed type (``make_deed_type``'s options)."""
    entry = make_deed_type(session, **options)
    return entry.in_force or entry.versions[-1]


def make_deed(
    session: Session,
    *,
    deed_type: DeedType | str | None = None,
    agency: Agency | None = None,
    national_id: str | None = None,
    quantity: Decimal | int = 1,
    occurred_on: date | None = None,
    province: str = "TH-10",
    evidence: str = "certificate 0001",
    external_id: str | None = None,
    verified: bool = True,
) -> Deed:
    """A deed recorded through ``deeds.record`` by ``agency`` (the deed type's owner
    by default; a new approved deed type by default, or one given by code),
    yesterday, and verified by it unless ``verified=False`` (a type with the
    "verifier" policy leaves it pending)."""
    if isinstance(deed_type, str):
        deed_type = session.get_one(DeedType, deed_type)
    deed_type = deed_type or make_deed_type(session, agency=agency)
    actor = operator_for((agency or deed_type.owner).id)
    item = deeds.DeedInput(
        national_id=national_id or new_national_id(),
        deed_type=deed_type.code,
        quantity=Decimal(quantity),
        occurred_on=occurred_on or today_in_thailand() - timedelta(days=1),
        province=province,
        evidence=evidence,
        external_id=external_id or unique("deed-"),
    )
    (outcome,) = deeds.record(session, actor, keyer(), rules(), [item])
    if outcome.result not in ("created", "unchanged") or outcome.deed is None:
        raise AssertionError(f"the deed was not recorded: {outcome.errors}")
    deed = session.get_one(Deed, outcome.deed["id"])
    if verified and deed.status is DeedStatus.PENDING:
        deeds.verify(session, actor, rules(), [deed.id])
    return deed


def make_tally(session: Session, **deed: Any) -> Tally:
    """Tallies are only written by counting deeds: this records a verified deed
    (``make_deed``'s options) and returns its deed type's lifetime tally."""
    counted = make_deed(session, **deed)
    found = session.scalar(
        select(Tally).where(
            Tally.citizen_key == counted.citizen_key,
            Tally.subject == f"type:{counted.deed_type_code}",
            Tally.period == "lifetime",
        )
    )
    assert found is not None
    return found


def make_stats_rollup(session: Session, **deed: Any) -> StatsRollup:
    """The dashboard's rollups follow counted deeds (``stats.rollups``): this records
    a verified deed and returns its rollup row."""
    counted = make_deed(session, **deed)
    found = session.scalar(
        select(StatsRollup).where(
            StatsRollup.deed_type_code == counted.deed_type_code,
            StatsRollup.agency_id == counted.agency_id,
        )
    )
    assert found is not None
    return found


def make_stats_refresh(session: Session, *, everything: bool = True) -> StatsRefresh:
    """A refresh of the dashboard's snapshot, started as the dashboard's button does
    (``stats.jobs.start``) and run at once."""
    database = database_of(session)
    refresh_id = stats_jobs.start(database, immediate_jobs(database), SYSTEM, everything=everything)
    assert refresh_id is not None, "a refresh is running already"
    return session.get_one(StatsRefresh, refresh_id)


def make_stats_cell(session: Session, **deed: Any) -> StatsCell:
    """Cells are only written by a refresh: this records a verified deed, refreshes
    and returns a cell of its deed type."""
    counted = make_deed(session, **deed)
    make_stats_refresh(session)
    found = session.scalars(
        select(StatsCell).where(StatsCell.deed_type_code == counted.deed_type_code).limit(1)
    ).first()
    assert found is not None
    return found


def make_programme_target(
    session: Session, *, year: int = 2570, indicator: str = "deeds", value: int = 1000
) -> ProgrammeTarget:
    """A yearly target, set as the programme office's page sets it (``stats.targets``)."""
    stats_targets.set_targets(session, SYSTEM, year, {indicator: Decimal(value)})
    return session.get_one(ProgrammeTarget, (year, indicator))
