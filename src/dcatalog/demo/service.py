"""Loading the demo data: idempotent, so `dcatalog demo` can run again to refresh.

Everything goes through the real services (as the operator's CLI), so the demo
obeys the same rules and leaves the same audit trail as real use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.models import StaffAccount
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM, Actor, operator_for
from dcatalog.agencies.models import Agency
from dcatalog.agencies.service import get_agency
from dcatalog.benefits import service as benefits
from dcatalog.benefits.models import Award, Benefit, BenefitKind
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import (
    DEFAULT_ACADEMIC_START,
    MonthDay,
    PeriodKind,
    academic_year,
    period_bounds,
)
from dcatalog.campaigns import service as campaigns
from dcatalog.campaigns.models import Campaign
from dcatalog.campaigns.schemas import NewCampaign
from dcatalog.catalog import service as catalog
from dcatalog.catalog.models import DeedType
from dcatalog.catalog.schemas import DeedTypeFields, NewDeedType
from dcatalog.db import transactional, utcnow
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import DeedStatus
from dcatalog.demo.data import (
    AGENCIES,
    BENEFITS,
    CAMPAIGNS,
    DEED_TYPES,
    DEMO_ACCOUNTS,
    DEMO_CROWD_PROVINCES,
    DEMO_CROWD_SIZE,
    DEMO_DONOR_BORN,
    DEMO_DONOR_CEREMONY_NAME,
    DEMO_DONOR_DONATIONS,
    DEMO_DONOR_ID,
    DEMO_DONOR_PUBLIC_NAME,
    DEMO_PASSWORD,
    DEMO_STUDENT_BORN,
    DEMO_STUDENT_HOURS,
    DEMO_STUDENT_ID,
)
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit


@dataclass
class DemoSummary:
    agencies_created: int = 0
    agencies_updated: int = 0
    deed_types_created: int = 0
    deed_types_updated: int = 0
    accounts: list[str] = field(default_factory=list)
    benefits_created: int = 0
    student: tuple[str, str] | None = None  # (national ID, birth date) for the demo sign-in
    donor: tuple[str, str] | None = None  # the same for the demo blood donor


@transactional
def load_demo(
    session: Session,
    *,
    with_accounts: bool = False,
    keyer: CitizenKeyer | None = None,
    academic_start: MonthDay = DEFAULT_ACADEMIC_START,
) -> DemoSummary:
    """Agencies and deed types; with ``with_accounts`` also the demo sign-ins and
    (given the keyer) the demo student's deeds."""
    summary = DemoSummary()
    _load_agencies(session, summary)
    _load_deed_types(session, summary)
    _load_benefits(session, summary)
    _load_campaigns(session)
    if with_accounts:
        _load_accounts(session, summary)
        if keyer is not None:
            _load_student(session, keyer, academic_start, summary)
            _load_donor(session, keyer, academic_start, summary)
            _load_crowd(session, keyer, academic_start)
            _share_donor_milestone(session, keyer)
    return summary


def _load_student(
    session: Session, keyer: CitizenKeyer, academic_start: MonthDay, summary: DemoSummary
) -> None:
    """The demo student's deeds, dated from today so that they stay plausible:
    volunteer hours in the previous academic year (recorded by the university,
    verified by it) and a blood donation two months ago."""
    today = today_in_thailand()
    rules = deeds.Rules(today=today, max_age_days=730, academic_start=academic_start)
    previous = period_bounds(
        PeriodKind.ACADEMIC_YEAR, academic_year(today, academic_start) - 1, academic_start
    )
    assert previous.start is not None
    university = operator_for(get_agency(session, "demouniv").id)
    hours = [
        deeds.DeedInput(
            national_id=DEMO_STUDENT_ID,
            deed_type="kys.volunteer_activity",
            quantity=Decimal(amount),
            occurred_on=previous.start + timedelta(days=30 + 45 * i),
            province="TH-30",
            evidence=f"Certificate DEMO-{i + 1:03d}",
            external_id=f"demo-student-hours-{i + 1}",
        )
        for i, amount in enumerate(DEMO_STUDENT_HOURS)
    ]
    _record_verified(session, university, keyer, rules, hours)
    blood = deeds.DeedInput(
        national_id=DEMO_STUDENT_ID,
        deed_type="redcross.blood_donation",
        quantity=Decimal(1),
        occurred_on=today - timedelta(days=60),
        province="TH-30",
        evidence="Donor card 2569-0001",
        external_id="demo-student-blood-1",
    )
    deeds.record(
        session, operator_for(get_agency(session, "korat_hospital").id), keyer, rules, [blood]
    )
    summary.student = (DEMO_STUDENT_ID, DEMO_STUDENT_BORN)


def _load_donor(
    session: Session, keyer: CitizenKeyer, academic_start: MonthDay, summary: DemoSummary
) -> None:
    """The demo donor's donations, recorded by the hospital: recording them awards
    the Red Cross milestones she reaches, as it would for anyone. Her donor card
    goes back four years, so the plausibility window is widened for it."""
    today = today_in_thailand()
    first = today - timedelta(days=30 + 90 * (DEMO_DONOR_DONATIONS - 1))
    rules = deeds.Rules(
        today=today, max_age_days=(today - first).days + 1, academic_start=academic_start
    )
    donations = [
        deeds.DeedInput(
            national_id=DEMO_DONOR_ID,
            deed_type="redcross.blood_donation",
            quantity=Decimal(1),
            occurred_on=first + timedelta(days=90 * i),
            province="TH-30",
            evidence=f"Donor card 2565-0042 #{i + 1}",
            external_id=f"demo-donor-blood-{i + 1}",
        )
        for i in range(DEMO_DONOR_DONATIONS)
    ]
    hospital = operator_for(get_agency(session, "korat_hospital").id)
    deeds.record(session, hospital, keyer, rules, donations)
    milestone = session.scalar(
        select(Award)
        .join(Benefit)
        .where(Award.citizen_key == keyer.key(DEMO_DONOR_ID), Benefit.code == "redcross.donor_16")
    )
    if milestone is not None and milestone.ceremony_name is None:
        milestone.ceremony_name, milestone.ceremony_consented_at = (
            DEMO_DONOR_CEREMONY_NAME,
            utcnow(),
        )
    summary.donor = (DEMO_DONOR_ID, DEMO_DONOR_BORN)


def _load_agencies(session: Session, summary: DemoSummary) -> None:
    existing = {agency.code: agency for agency in session.scalars(select(Agency))}
    for fields in AGENCIES:
        agency = existing.get(str(fields["code"]))
        if agency is None:
            session.add(Agency(**fields))
            summary.agencies_created += 1
            continue
        changed = False
        for name, value in fields.items():
            if getattr(agency, name) != value:
                setattr(agency, name, value)
                changed = True
        summary.agencies_updated += changed


def _load_deed_types(session: Session, summary: DemoSummary) -> None:
    for spec in DEED_TYPES:
        data = {k: v for k, v in spec.items() if k != "owner"}
        owner = get_agency(session, spec["owner"])
        code = f"{owner.code}.{spec['name']}"
        entry = session.get(DeedType, code)
        if entry is None:
            entry = catalog.create_deed_type(session, SYSTEM, owner, NewDeedType(**data))
            summary.deed_types_created += 1
        else:
            wanted = DeedTypeFields(**{k: v for k, v in data.items() if k != "name"})
            in_force = entry.in_force
            if in_force is not None and not catalog.diff_fields(in_force, wanted):
                continue
            catalog.save_draft(session, SYSTEM, entry, wanted)
            summary.deed_types_updated += 1
        draft = catalog.submit(session, SYSTEM, entry)
        catalog.approve(session, SYSTEM, entry, draft.version, note="demo data")


def _load_benefits(session: Session, summary: DemoSummary) -> None:
    for spec in BENEFITS:
        if session.scalar(select(Benefit.id).where(Benefit.code == spec["code"])):
            continue
        fields = {k: v for k, v in spec.items() if k not in ("agency", "kind")}
        benefit = benefits.define(
            session,
            SYSTEM,
            get_agency(session, spec["agency"]),
            kind=BenefitKind(spec["kind"]),
            **fields,
        )
        benefits.submit(session, SYSTEM, benefit)
        benefits.approve(session, SYSTEM, benefit)
        summary.benefits_created += 1


def _load_accounts(session: Session, summary: DemoSummary) -> None:
    for spec in DEMO_ACCOUNTS:
        exists = session.scalar(select(StaffAccount.id).where(StaffAccount.email == spec["email"]))
        if not exists:
            accounts.create_account(
                session,
                SYSTEM,
                email=spec["email"],
                display_name=spec["display_name"],
                role=Role(spec["role"]),
                password=DEMO_PASSWORD,
                agency=get_agency(session, spec["agency"]) if spec["agency"] else None,
            )
        summary.accounts.append(spec["email"])


# --- campaigns and the public thank-you page (dcatalog.campaigns) ------------------------


def _campaign_dates(period: str, today: date) -> tuple[date, date]:
    """ "lent": the Lent now under way, or the last one while the public page still
    shows it (90 days), else this year's coming one; "recent": around today."""
    if period != "lent":
        return today - timedelta(days=60), today + timedelta(days=30)
    this_year = (date(today.year, 7, 1), date(today.year, 10, 31))
    last_end = date(today.year - 1, 10, 31)
    if today < this_year[0] and today <= last_end + timedelta(days=campaigns.ENDED_SHOWN_DAYS - 1):
        return date(today.year - 1, 7, 1), last_end
    return this_year


def _load_campaigns(session: Session) -> None:
    today = today_in_thailand()
    for spec in CAMPAIGNS:
        agency = get_agency(session, spec["agency"])
        if session.scalar(
            select(Campaign.id).where(Campaign.code == f"{agency.code}.{spec['name']}")
        ):
            continue
        starts_on, ends_on = _campaign_dates(spec["period"], today)
        fields = {k: v for k, v in spec.items() if k not in ("agency", "period")}
        created = campaigns.create(
            session,
            SYSTEM,
            agency,
            NewCampaign(**fields, starts_on=starts_on, ends_on=ends_on),
        )
        campaigns.submit(session, SYSTEM, created)
        campaigns.approve(session, SYSTEM, created, note="demo data")


def crowd_id(n: int) -> str:
    """The made-up national ID of the demo crowd's person ``n`` (valid checksum)."""
    return with_check_digit(f"19999{n:07d}")


def _load_crowd(session: Session, keyer: CitizenKeyer, academic_start: MonthDay) -> None:
    """This year's verified deeds of made-up people, so the public figures reach
    the ten people below which nothing is published: volunteer hours (recorded and
    verified by the university), blood donations (the hospital), active days and
    the Lent pledge (ThaiHealth). Idempotent: the external ids stay the same."""
    today = today_in_thailand()
    first = date(today.year, 1, 1)
    rules = deeds.Rules(today=today, max_age_days=730, academic_start=academic_start)

    def when(days_ago: int) -> date:
        return max(first, today - timedelta(days=days_ago))

    def item(n: int, deed_type: str, quantity: int, day: date, key: str) -> deeds.DeedInput:
        province = DEMO_CROWD_PROVINCES[n % len(DEMO_CROWD_PROVINCES)]
        return deeds.DeedInput(
            crowd_id(n), deed_type, Decimal(quantity), day, province, "", f"demo-crowd-{n}-{key}"
        )

    people = range(DEMO_CROWD_SIZE)
    hours = [
        item(n, "kys.volunteer_activity", 2 + n % 5, when(days), f"hours-{i}")
        for n in people
        if n < 24
        for i, days in enumerate((7 + 3 * n, 40 + 2 * n))
    ]
    blood = [
        deeds.DeedInput(
            crowd_id(n),
            "redcross.blood_donation",
            Decimal(1),
            when(2 + 2 * n),
            ("TH-10", "TH-30", "TH-50")[n % 3] if n < 22 else "TH-40",
            "",
            f"demo-crowd-{n}-blood",
        )
        for n in people
        if n < 26
    ]
    active = [
        item(n, "thaihealth.activity_challenge", 1, today - timedelta(days=n + 3 * j), f"day-{j}")
        for n in people
        if n < 20
        for j in range(3 + n % 6)
        if today - timedelta(days=n + 3 * j) >= first
    ]
    lent_start, lent_end = _campaign_dates("lent", today)
    pledges = (
        [
            item(
                n,
                "thaihealth.lent_abstention",
                1,
                max(lent_start, min(today, lent_end) - timedelta(days=n % 10)),
                "lent",
            )
            for n in people
            if n < 18
        ]
        if lent_start <= today
        else []
    )
    for agency_code, items in (
        ("demouniv", hours),
        ("korat_hospital", blood),
        ("thaihealth", active + pledges),
    ):
        actor = operator_for(get_agency(session, agency_code).id)
        _record_verified(session, actor, keyer, rules, items)


def _record_verified(
    session: Session,
    actor: Actor,
    keyer: CitizenKeyer,
    rules: deeds.Rules,
    items: list[deeds.DeedInput],
) -> None:
    """Record the deeds, then verify those the deed type leaves pending (as the
    recording agency's verifier would)."""
    outcomes = deeds.record(session, actor, keyer, rules, items)
    pending = [
        o.deed["id"]
        for o in outcomes
        if o.deed is not None and o.deed["status"] is DeedStatus.PENDING
    ]
    if pending:
        deeds.verify(session, actor, rules, pending)


def _share_donor_milestone(session: Session, keyer: CitizenKeyer) -> None:
    """The demo donor shows her 16-donation pin on the public thank-you page."""
    milestone = session.scalar(
        select(Award)
        .join(Benefit)
        .where(Award.citizen_key == keyer.key(DEMO_DONOR_ID), Benefit.code == "redcross.donor_16")
    )
    if milestone is not None and milestone.public_name is None:
        milestone.public_name, milestone.public_since = DEMO_DONOR_PUBLIC_NAME, utcnow()
