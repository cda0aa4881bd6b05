"""Campaigns: an agency drafts a time-bound drive, the programme office approves
it or sends it back with a note, and its progress is counted from verified deeds.

Lifecycle: draft → submitted → approved (→ retired, with a reason). Sending back
returns a submitted campaign to draft with the office's note. Only drafts are
edited; an approved campaign is frozen (a different drive is a new campaign).
Every step goes to the audit trail. A campaign "ends" by its own dates: the
public page shows when it is upcoming, running or ended.

Progress (``progress``) is never stored: it is counted from the verified deeds of
the listed deed types that happened in the period (and provinces), in one
set-based query for all the campaigns asked about, and kept for a minute (see
``dcatalog.campaigns.cache``). It is the one function to switch when national
rollups can answer the same question.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    distinct,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from dcatalog import review
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency
from dcatalog.audit import service as audit
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.campaigns.cache import figures
from dcatalog.campaigns.models import Campaign, GoalMeasure
from dcatalog.campaigns.schemas import CampaignFields, NewCampaign
from dcatalog.catalog.models import DeedType, DeedTypeVersion
from dcatalog.db import transactional, utcnow
from dcatalog.deeds.models import Deed
from dcatalog.geo.provinces import PROVINCES, province_code
from dcatalog.problems import (
    Conflict,
    FieldError,
    NotFound,
    ValidationProblem,
    missing_permission,
    required_text,
)
from dcatalog.review import ReviewStatus

# A public figure that counts fewer people than this is not shown (DESIGN.md §1.4:
# published aggregates suppress small cells).
MIN_CITIZENS = 10
# How long an ended campaign stays on the public page, with its result.
ENDED_SHOWN_DAYS = 90
# Literal, not a bound parameter: the partial index on deed (ix_deed_verified_type_day)
# is used only when the query says the same predicate.
VERIFIED: ColumnElement[bool] = text("deed.status = 'verified'")  # type: ignore[assignment]


# --- progress -----------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A campaign's figures as counted at ``as_of``."""

    deeds: int
    quantity: Decimal
    citizens: int
    measure: GoalMeasure
    goal: int
    as_of: datetime

    @property
    def shown(self) -> bool:
        """Whether the figures may be published (enough people count)."""
        return self.citizens >= MIN_CITIZENS

    @property
    def value(self) -> Decimal:
        if self.measure is GoalMeasure.COUNT:
            return Decimal(self.deeds)
        if self.measure is GoalMeasure.CITIZENS:
            return Decimal(self.citizens)
        return self.quantity

    @property
    def percent(self) -> int:
        """Of the goal, rounded down (more than 100 when the goal is passed)."""
        return int(self.value * 100 // self.goal)

    @property
    def bar_value(self) -> Decimal:
        return min(self.value, Decimal(self.goal))

    @property
    def reached(self) -> bool:
        return self.value >= self.goal

    @property
    def passed(self) -> bool:
        """More than the goal: pages say "past the goal", never a percentage in the
        hundreds (the API still gives ``percent``)."""
        return self.value > self.goal


def _key(campaign: Campaign) -> tuple[Any, ...]:
    """What the figures depend on: an edit of a draft never reads old figures."""
    return (
        "campaign",
        campaign.id,
        tuple(campaign.deed_types),
        tuple(campaign.provinces),
        campaign.starts_on,
        campaign.ends_on,
    )


def _progress_query(index: int, campaign: Campaign) -> Select[int, int, Decimal, int]:
    query = select(
        literal_column(str(index), Integer()).label("i"),
        func.count().label("deeds"),
        func.sum(Deed.quantity).label("quantity"),
        func.count(distinct(Deed.citizen_key)).label("citizens"),
    ).where(
        VERIFIED,
        Deed.deed_type_code.in_(campaign.deed_types),
        Deed.occurred_on >= campaign.starts_on,
        Deed.occurred_on <= campaign.ends_on,
    )
    if campaign.provinces:
        query = query.where(Deed.province.in_(campaign.provinces))
    return query


def as_decimal(value: Any) -> Decimal:
    """A sum as the database returns it (SQLite: a float) in hundredths."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def progress(
    session: Session, campaigns: Sequence[Campaign], *, fresh: bool = False
) -> dict[uuid.UUID, Progress]:
    """Each campaign's figures from verified deeds, by campaign id: one query for
    all that are not in the cache (``fresh``: count again now)."""
    cache = figures(session)
    counted: dict[uuid.UUID, tuple[int, Decimal, int, datetime]] = {}
    missing: list[Campaign] = []
    for campaign in campaigns:
        hit = None if fresh else cache.peek(_key(campaign))
        if hit is None:
            missing.append(campaign)
        else:
            counted[campaign.id] = hit
    if missing:
        queries = [_progress_query(i, c) for i, c in enumerate(missing)]
        statement = queries[0] if len(queries) == 1 else union_all(*queries)
        now = utcnow()
        for row in session.execute(statement):
            campaign = missing[int(row.i)]
            figures_now = (int(row.deeds), as_decimal(row.quantity), int(row.citizens), now)
            cache.put(_key(campaign), figures_now)
            counted[campaign.id] = figures_now
    return {
        c.id: Progress(*counted[c.id][:3], c.goal_measure, c.goal, counted[c.id][3])
        for c in campaigns
    }


# --- reading ------------------------------------------------------------------------


def get(session: Session, code: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise NotFound(f"There is no campaign {code!r}.")
    return campaign


def get_own(session: Session, actor: Actor, code: str) -> Campaign:
    """A campaign of the actor's agency (any, for the programme office); another
    agency's campaigns are "not found"."""
    campaign = session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None or not (actor.is_program_office or actor.acts_for(campaign.agency_id)):
        raise NotFound(f"Your agency has no campaign {code!r}.")
    return campaign


def list_own(session: Session, actor: Actor) -> list[Campaign]:
    query = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.code)
    if not actor.is_program_office:
        query = query.where(Campaign.agency_id == actor.agency_id)
    return list(session.scalars(query))


def list_all(session: Session, actor: Actor) -> list[Campaign]:
    _require(actor, Scope.CATALOG_APPROVE)
    query = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.code)
    return list(session.scalars(query))


def waiting(session: Session, actor: Actor) -> list[Campaign]:
    """Submitted campaigns, oldest first: the programme office's queue."""
    _require(actor, Scope.CATALOG_APPROVE)
    query = (
        select(Campaign)
        .where(Campaign.status == ReviewStatus.SUBMITTED)
        .order_by(Campaign.submitted_at, Campaign.code)
    )
    return list(session.scalars(query))


def public(session: Session, today: date | None = None) -> list[Campaign]:
    """Approved campaigns the public sees: running ones first (the nearest end
    first), then upcoming ones, then those that ended in the last 90 days."""
    today = today or today_in_thailand()
    query = select(Campaign).where(
        Campaign.status == ReviewStatus.APPROVED,
        Campaign.ends_on >= today - timedelta(days=ENDED_SHOWN_DAYS),
    )
    order = {"running": 0, "upcoming": 1, "ended": 2}
    found = list(session.scalars(query))
    return sorted(
        found,
        key=lambda c: (
            order[c.state_on(today)],
            c.starts_on if c.state_on(today) == "upcoming" else c.ends_on,
            c.code,
        ),
    )


def units(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """The unit (hour, day …) of each deed type, from its version in force."""
    if not codes:
        return {}
    query = (
        select(DeedType.code, DeedTypeVersion.unit)
        .join(
            DeedTypeVersion,
            (DeedTypeVersion.deed_type_code == DeedType.code)
            & (DeedTypeVersion.version == DeedType.current_version),
        )
        .where(DeedType.code.in_(sorted(set(codes))))
    )
    return {str(code): str(unit) for code, unit in session.execute(query)}


def unit_of(campaign: Campaign, known: dict[str, str]) -> str | None:
    """The one unit of a quantity goal (a campaign's deed types share it)."""
    if campaign.goal_measure is not GoalMeasure.QUANTITY:
        return None
    found = {known[code] for code in campaign.deed_types if code in known}
    return found.pop() if len(found) == 1 else None


def countable_deed_types(session: Session) -> list[DeedTypeVersion]:
    """Deed types in force that a campaign may count, by code."""
    query = (
        select(DeedTypeVersion)
        .join(
            DeedType,
            (DeedTypeVersion.deed_type_code == DeedType.code)
            & (DeedTypeVersion.version == DeedType.current_version),
        )
        .where(DeedType.retired_at.is_(None))
        .order_by(DeedTypeVersion.deed_type_code)
    )
    return list(session.scalars(query))


# --- drafting (the agency) ----------------------------------------------------------


def _require(actor: Actor, scope: Scope) -> None:
    if not actor.can(scope):
        raise missing_permission(scope.value)


def _require_author(actor: Actor, agency_id: uuid.UUID) -> None:
    """An agency's campaigns are written by its catalog writers (the programme
    office may write for any agency)."""
    if actor.is_program_office:
        return
    _require(actor, Scope.CATALOG_WRITE)
    if not actor.acts_for(agency_id):
        raise NotFound("Your agency has no such campaign.")


def parse_provinces(text_value: str) -> list[str]:
    """Province codes or names (Thai or English), separated by commas or new lines."""
    codes: list[str] = []
    errors: list[FieldError] = []
    for index, part in enumerate(p for p in text_value.replace("\n", ",").split(",")):
        if not part.strip():
            continue
        code = province_code(part)
        if code is None:
            errors.append(
                FieldError(f"{part.strip()!r} is not a province", pointer=f"#/provinces/{index}")
            )
        elif code not in codes:
            codes.append(code)
    if errors:
        raise ValidationProblem("Some provinces are not known; see errors.", errors=errors)
    return codes


def _checked(session: Session, fields: CampaignFields) -> dict[str, Any]:
    errors: list[FieldError] = []
    codes = list(dict.fromkeys(code.strip() for code in fields.deed_types if code.strip()))
    in_force = {v.deed_type_code: v for v in countable_deed_types(session)}
    for index, code in enumerate(codes):
        if code not in in_force:
            errors.append(
                FieldError(
                    "not a deed type in force in the catalog", pointer=f"#/deed_types/{index}"
                )
            )
    if not codes:
        errors.append(FieldError("choose at least one deed type", pointer="#/deed_types"))
    provinces = list(dict.fromkeys(fields.provinces))
    for index, code in enumerate(provinces):
        if code not in PROVINCES:
            errors.append(
                FieldError("not an ISO 3166-2:TH province", pointer=f"#/provinces/{index}")
            )
    if fields.ends_on < fields.starts_on:
        errors.append(FieldError("before the start", pointer="#/ends_on"))
    elif (fields.ends_on - fields.starts_on).days > 3 * 366:
        errors.append(FieldError("a campaign lasts at most three years", pointer="#/ends_on"))
    if fields.goal_measure is GoalMeasure.QUANTITY and not errors:
        unit_set = {in_force[code].unit for code in codes}
        if len(unit_set) > 1:
            errors.append(
                FieldError(
                    "a quantity goal needs deed types of one unit (or count deeds or people)",
                    pointer="#/goal_measure",
                )
            )
    if errors:
        raise ValidationProblem(
            "Some fields of the campaign are not valid; see errors.", errors=errors
        )
    values = fields.model_dump(exclude={"name"})
    values["deed_types"] = codes
    values["provinces"] = sorted(provinces)
    return values


@transactional
def create(session: Session, actor: Actor, agency: Agency, fields: NewCampaign) -> Campaign:
    """A new campaign, as a draft of the agency."""
    _require_author(actor, agency.id)
    code = f"{agency.code}.{fields.name}"
    if len(code) > 64:
        raise ValidationProblem(
            f"The code {code} is longer than 64 characters.",
            errors=[FieldError(f"at most {63 - len(agency.code)} characters", pointer="#/name")],
        )
    if session.scalar(select(Campaign.id).where(Campaign.code == code)) is not None:
        raise Conflict(f"A campaign {code} exists already.")
    values = _checked(session, fields)
    campaign = Campaign(
        code=code,
        agency_id=agency.id,
        status=ReviewStatus.DRAFT,
        created_by=actor.label,
        **values,
    )
    session.add(campaign)
    audit.record(session, actor, "campaign.create", campaign, agency_id=agency.id)
    return campaign


@transactional
def save_draft(
    session: Session, actor: Actor, campaign: Campaign, fields: CampaignFields
) -> Campaign:
    _require_author(actor, campaign.agency_id)
    if campaign.status is not ReviewStatus.DRAFT:
        raise Conflict(f"{campaign.code} is {campaign.status.value}: only a draft can be changed.")
    values = _checked(session, fields)
    before = audit.snapshot(campaign)
    for name, value in values.items():
        setattr(campaign, name, value)
    audit.record(
        session, actor, "campaign.save_draft", campaign, before=before, agency_id=campaign.agency_id
    )
    return campaign


@transactional
def submit(session: Session, actor: Actor, campaign: Campaign) -> Campaign:
    _require_author(actor, campaign.agency_id)
    _step(session, actor, campaign, "submit")
    return campaign


# --- deciding (the programme office) ---------------------------------------------------


def _step(session: Session, actor: Actor, campaign: Campaign, step: str, note: str = "") -> None:
    review.move(
        session, actor, campaign, step, name=campaign.code, action=f"campaign.{step}",
        agency_id=campaign.agency_id, note=note,
    )  # fmt: skip


@transactional
def approve(session: Session, actor: Actor, campaign: Campaign, note: str = "") -> Campaign:
    """On the public page from now on (its dates say when it runs)."""
    _require(actor, Scope.CATALOG_APPROVE)
    _step(session, actor, campaign, "approve", note)
    return campaign


@transactional
def send_back(session: Session, actor: Actor, campaign: Campaign, note: str) -> Campaign:
    """Back to the agency as a draft, saying what to change."""
    _require(actor, Scope.CATALOG_APPROVE)
    _step(session, actor, campaign, "send_back", note)
    return campaign


@transactional
def retire(session: Session, actor: Actor, campaign: Campaign, reason: str) -> Campaign:
    """Off the public page (by the programme office, or the agency for its own)."""
    if not actor.can(Scope.CATALOG_APPROVE):
        _require_author(actor, campaign.agency_id)
    required_text(reason, "reason", "Say why it is retired.")
    _step(session, actor, campaign, "retire", reason)
    return campaign
