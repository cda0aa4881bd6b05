"""What is built on the record: benefits (approved by the programme office),
claims and milestone awards, campaigns, eligibility report jobs, public
proposals, and signed credentials."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.models import Agency
from dcatalog.benefits import claims
from dcatalog.benefits import service as benefits
from dcatalog.benefits.models import Award, Benefit, BenefitKind, Claim
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import DEFAULT_ACADEMIC_START, academic_year
from dcatalog.campaigns import service as campaigns
from dcatalog.campaigns.models import Campaign, GoalMeasure
from dcatalog.campaigns.schemas import NewCampaign
from dcatalog.catalog.models import DeedType
from dcatalog.credentials import keystore, status_lists
from dcatalog.credentials import service as credentials
from dcatalog.credentials.models import IssuedCredential, IssuerKey, PublishedStatusList
from dcatalog.db import transaction
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.jobs import Job
from dcatalog.proposals import service as proposals
from dcatalog.proposals.models import Proposal, ProposalComment, ProposalSupport
from dcatalog.reports import jobs as report_jobs
from tests.factories.common import (
    database_of,
    immediate_jobs,
    keyer,
    new_national_id,
    secret_key,
    unique,
)
from tests.factories.people import make_principal
from tests.factories.records import make_deed, make_deed_type
from tests.factories.staff import key_actor, make_api_key, new_agency

# One issuer key for the whole run: every credential the factories sign is signed alike.
ISSUER = keystore.Issuer(
    "https://dcatalog.example", "D-Catalog (tests)", keystore.new_private_key()
)


def count_rule(
    deed_type: DeedType | str, at_least: int = 1, period: str = "lifetime"
) -> dict[str, Any]:
    """A benefit's rule: at least ``at_least`` deeds of a deed type in ``period``."""
    code = deed_type if isinstance(deed_type, str) else deed_type.code
    return {"deed_type": code, "measure": "count", "period": period, "at_least": at_least}


def make_benefit(
    session: Session,
    *,
    agency: Agency | None = None,
    code: str | None = None,
    kind: BenefitKind = BenefitKind.PRIVILEGE,
    rule: dict[str, Any] | None = None,
    approved: bool = True,
    **fields: Any,
) -> Benefit:
    """A benefit of ``agency`` (a new one by default) defined, submitted and approved
    by the programme office: offered. The rule is by default one deed of any type
    of the virtue "sufficiency" (that of ``make_deed``'s default deed type)."""
    agency = agency or new_agency(session)
    code = code or f"{agency.code}.{unique('benefit')}"
    rule = rule or {
        "virtue": "sufficiency",
        "measure": "count",
        "period": "lifetime",
        "at_least": 1,
    }
    fields = {"name_th": f"สิทธิ์ {code}", "name_en": f"Benefit {code}", **fields}
    benefit = benefits.define(session, SYSTEM, agency, code=code, kind=kind, rule=rule, **fields)
    if approved:
        benefits.submit(session, SYSTEM, benefit)
        benefits.approve(session, SYSTEM, benefit)
    return benefit


def make_milestone(
    session: Session, *, agency: Agency | None = None, rule: dict[str, Any], **fields: Any
) -> Benefit:
    """An approved milestone: a recognition awarded automatically to whoever reaches
    its rule."""
    return make_benefit(
        session,
        agency=agency,
        kind=BenefitKind.RECOGNITION,
        rule=rule,
        awarded_automatically=True,
        **fields,
    )


def make_claim(
    session: Session, benefit: Benefit | None = None, citizen: CitizenPrincipal | None = None
) -> Claim:
    """A citizen claims a benefit (``claims.claim``). By default a new citizen with
    one verified deed claims a new benefit that one deed meets; a benefit given
    needs a citizen given who meets it."""
    if benefit is None:
        national_id = new_national_id()
        deed = make_deed(session, national_id=national_id)
        benefit = make_benefit(session, rule=count_rule(deed.deed_type_code))
        citizen = citizen or make_principal(session, national_id)
    assert citizen is not None, "claiming a given benefit needs a citizen who meets it"
    return claims.claim(
        session,
        citizen,
        secret_key(),
        benefit.code,
        today=today_in_thailand(),
        academic_start=DEFAULT_ACADEMIC_START,
    )


def make_award(session: Session, national_id: str | None = None) -> Award:
    """Awards are only written by counting a deed that reaches a milestone: this
    approves a milestone (one deed of a new deed type) and records that deed."""
    deed_type = make_deed_type(session)
    milestone = make_milestone(session, agency=deed_type.owner, rule=count_rule(deed_type))
    deed = make_deed(session, deed_type=deed_type, national_id=national_id)
    found = session.scalar(
        select(Award).where(Award.benefit_id == milestone.id, Award.deed_id == deed.id)
    )
    assert found is not None
    return found


def make_campaign(
    session: Session,
    *,
    agency: Agency | None = None,
    deed_types: list[str] | None = None,
    name: str | None = None,
    approved: bool = True,
    **fields: Any,
) -> Campaign:
    """A campaign of ``agency`` around its deed types (a new approved one by
    default), running from a month ago to a month ahead, created, submitted and
    approved by the programme office."""
    agency = agency or new_agency(session)
    today = today_in_thailand()
    values: dict[str, Any] = {
        "name": name or unique("drive"),
        "title_th": "แคมเปญทดสอบ",
        "title_en": "A test campaign",
        "deed_types": deed_types or [make_deed_type(session, agency=agency).code],
        "starts_on": today - timedelta(days=30),
        "ends_on": today + timedelta(days=30),
        "goal_measure": GoalMeasure.CITIZENS,
        "goal": 20,
        **fields,
    }
    campaign = campaigns.create(session, SYSTEM, agency, NewCampaign(**values))
    if approved:
        campaigns.submit(session, SYSTEM, campaign)
        campaigns.approve(session, SYSTEM, campaign, note="test kit")
    return campaign


def make_report_job(session: Session, *, people: int = 1) -> Job:
    """An eligibility report of a new agency's benefit (one deed of its deed type in
    the academic year) over an upload of ``people`` national IDs, started with an
    ``eligibility:read`` key through ``reports.jobs.start`` and run at once."""
    deed_type = make_deed_type(session)
    agency = deed_type.owner
    benefit = make_benefit(
        session,
        agency=agency,
        kind=BenefitKind.ELIGIBILITY,
        rule=count_rule(deed_type, period="academic_year"),
    )
    upload = io.StringIO()
    csv.writer(upload).writerows(
        [
            ["national_id", "reference"],
            *([new_national_id(), unique("ref-")] for _ in range(people)),
        ]
    )
    today = today_in_thailand()
    database = database_of(session)
    job = report_jobs.start(
        database,
        immediate_jobs(database),
        keyer(),
        key_actor(make_api_key(session, agency, [Scope.ELIGIBILITY_READ])),
        io.BytesIO(upload.getvalue().encode("utf-8")),
        "people.csv",
        benefit_code=benefit.code,
        academic_year=academic_year(today, DEFAULT_ACADEMIC_START) - 1,
        today=today,
        academic_start=DEFAULT_ACADEMIC_START,
    )
    return session.get_one(Job, job.id)


def _someone(session: Session, actor: Actor | None) -> Actor:
    """A signed-in citizen taking part in proposals, unless an actor is given."""
    return actor or Actor.citizen(make_principal(session).label)


def make_proposal(
    session: Session,
    author: Actor | None = None,
    *,
    title: str = "Count beach clean-ups",
    description: str = "Picking up litter on the beach is a good deed too.",
    virtue: str | None = "volunteering",
) -> Proposal:
    """A public proposal (by a new citizen by default); its author supports it."""
    return proposals.propose(
        session, _someone(session, author), title=title, description=description, virtue=virtue
    )


def make_proposal_support(
    session: Session, proposal: Proposal | None = None, supporter: Actor | None = None
) -> ProposalSupport:
    """Someone else supports a proposal (``proposals.support``)."""
    proposal = proposal or make_proposal(session)
    supporter = _someone(session, supporter)
    proposals.support(session, supporter, proposal)
    found = session.scalar(
        select(ProposalSupport).where(
            ProposalSupport.proposal_id == proposal.id,
            ProposalSupport.supporter_ref == supporter.label,
        )
    )
    assert found is not None
    return found


def make_proposal_comment(
    session: Session,
    proposal: Proposal | None = None,
    author: Actor | None = None,
    text: str = "Yes, and river banks.",
) -> ProposalComment:
    return proposals.comment(
        session, _someone(session, author), proposal or make_proposal(session), text
    )


def make_issuer_key(session: Session) -> IssuerKey:
    """The test issuer's public key, published (``keystore.publish``) as signing
    the first credential would."""
    with transaction(session):
        return keystore.publish(session, ISSUER.public_key())


def make_published_status_list(session: Session) -> PublishedStatusList:
    """Status list 1 as the test issuer publishes it (``status_lists.document``)."""
    status_lists.document(session, ISSUER, 1, valid_for=timedelta(hours=24))
    return session.get_one(PublishedStatusList, (ISSUER.base_url, 1))


def make_issued_credential(session: Session, national_id: str | None = None) -> IssuedCredential:
    """A citizen with one verified deed asks for the transcript of that deed type
    (``credentials.issue_transcript``), signed by the test issuer."""
    national_id = national_id or new_national_id()
    deed = make_deed(session, national_id=national_id)
    return credentials.issue_transcript(
        session,
        make_principal(session, national_id),
        ISSUER,
        subject=f"type:{deed.deed_type_code}",
        period="lifetime",
        academic_start=DEFAULT_ACADEMIC_START,
    )
