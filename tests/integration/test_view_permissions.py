"""Representative staff actions of each domain, tried signed out, by roles without
the permission and by another agency, then by someone who may
(``tests.permissions.check_permission``): refusals change nothing, the success
writes exactly its audit events (or, where the record itself says who did it,
its rows)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts.models import ApiKey, StaffAccount
from dcatalog.accounts.permissions import Role, Scope
from dcatalog.actors import SYSTEM
from dcatalog.agencies.models import Agency
from dcatalog.benefits import service as benefits
from dcatalog.benefits.models import Benefit, BenefitKind
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import academic_year
from dcatalog.campaigns import service as campaigns
from dcatalog.catalog import service as catalog
from dcatalog.catalog.models import DeedType, DeedTypeVersion
from dcatalog.citizens.models import AccessLog
from dcatalog.deeds.models import Deed
from dcatalog.jobs import Job
from tests.factories import (
    PASSWORD,
    count_rule,
    deed_type_fields,
    make_api_key,
    make_benefit,
    make_campaign,
    make_deed,
    make_deed_type,
    new_agency,
    new_national_id,
)
from tests.permissions import Action, check_permission, key, staff

YESTERDAY = today_in_thailand() - timedelta(days=1)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    return app


@pytest.fixture
def mine(session: Session) -> Agency:
    """The agency acting: a school (the default deed type lets schools record)."""
    return new_agency(session, kind="school")


@pytest.fixture
def other(session: Session) -> Agency:
    """Another agency, which must never reach the first one's records."""
    return new_agency(session)


def _as_form(fields: dict[str, Any]) -> dict[str, str]:
    """An API body as its page's form: a ticked box is sent, an unticked one is not,
    a list is one field of words."""
    form = {}
    for name, value in fields.items():
        if value is True:
            form[name] = "on"
        elif value is not False:
            form[name] = " ".join(value) if isinstance(value, list) else str(value)
    return form


# --- the catalog ---------------------------------------------------------------------


def test_drafting_a_deed_type_on_the_page(app: FastAPI, session: Session, mine: Agency) -> None:
    check_permission(
        app,
        session,
        Action.page("/staff/deed-types/new", _as_form(deed_type_fields(name="litter_picking"))),
        allowed=staff(session, Role.AGENCY_ADMIN, mine),
        refused=[staff(session, Role.RECORDER, mine), staff(session, Role.AUDITOR)],
        audit=[("deed_type.create", mine.id)],
        writes={DeedType: 1, DeedTypeVersion: 1},
    )


def test_submitting_a_draft_to_the_office(
    app: FastAPI, session: Session, mine: Agency, other: Agency
) -> None:
    entry = make_deed_type(session, agency=mine, approved=False)
    check_permission(
        app,
        session,
        Action.page(f"/staff/deed-types/{entry.code}/submit"),
        allowed=staff(session, Role.AGENCY_ADMIN, mine),
        refused=[
            staff(session, Role.RECORDER, mine),
            staff(session, Role.AGENCY_ADMIN, other).refused_with(404),
        ],
        audit=[("deed_type.submit", mine.id)],
    )


def test_approving_a_version_is_the_offices(app: FastAPI, session: Session, mine: Agency) -> None:
    entry = make_deed_type(session, agency=mine, approved=False)
    catalog.submit(session, SYSTEM, entry)
    check_permission(
        app,
        session,
        Action.page(
            f"/admin/catalog/{entry.code}/1/decision", {"decision": "approve", "note": "ok"}
        ),
        allowed=staff(session, Role.PROGRAM_ADMIN),
        refused=[staff(session, Role.AGENCY_ADMIN, mine), staff(session, Role.AUDITOR)],
        audit=[("deed_type.approve", mine.id)],
    )


# --- benefits ------------------------------------------------------------------------


def test_defining_a_benefit(app: FastAPI, session: Session, mine: Agency) -> None:
    entry = make_deed_type(session, agency=mine)
    form = {
        "name": "thanks_card",
        "kind": BenefitKind.PRIVILEGE.value,
        "name_th": "บัตรขอบคุณ",
        "name_en": "Thank-you card",
        "per_citizen_limit": "1",
        "rule": json.dumps(count_rule(entry)),
    }
    check_permission(
        app,
        session,
        Action.page("/staff/benefits/new", form),
        allowed=staff(session, Role.AGENCY_ADMIN, mine),
        refused=[staff(session, Role.RECORDER, mine), staff(session, Role.VERIFIER, mine)],
        audit=[("benefit.define", mine.id)],
        writes={Benefit: 1},
    )


def test_approving_a_benefit_is_the_offices(app: FastAPI, session: Session, mine: Agency) -> None:
    benefit = make_benefit(session, agency=mine, approved=False)
    benefits.submit(session, SYSTEM, benefit)
    check_permission(
        app,
        session,
        Action.page(f"/admin/benefits/{benefit.code}/decision", {"decision": "approve"}),
        allowed=staff(session, Role.PROGRAM_ADMIN),
        refused=[staff(session, Role.AGENCY_ADMIN, mine), staff(session, Role.AUDITOR)],
        audit=[("benefit.approve", mine.id)],
    )


# --- recording -----------------------------------------------------------------------


def _deed(code: str) -> dict[str, str]:
    return {
        "national_id": new_national_id(),
        "deed_type": code,
        "quantity": "1",
        "occurred_on": YESTERDAY.isoformat(),
        "province": "TH-10",
        "evidence": "certificate 12",
        "external_id": "order-12",
    }


def test_recording_a_deed_over_the_api(
    app: FastAPI, session: Session, mine: Agency, other: Agency
) -> None:
    """A deed names who recorded it (``recorded_by``): recording writes no audit
    event, only decisions on deeds do (docs/recording.md). Another agency that
    may not record the type is told so (422), and nothing is written."""
    entry = make_deed_type(session, agency=mine, verification_policy="agency_attested")
    check_permission(
        app,
        session,
        Action.api("/api/v1/deeds", _deed(entry.code)),
        allowed=key(session, mine, Scope.DEEDS_WRITE),
        refused=[
            key(session, mine, Scope.DEEDS_VERIFY, Scope.CITIZENS_READ),
            key(session, other, Scope.DEEDS_WRITE).refused_with(422),
        ],
        audit=[],
        writes={Deed: 1},
    )


def test_recording_a_deed_on_the_page(app: FastAPI, session: Session, mine: Agency) -> None:
    entry = make_deed_type(session, agency=mine)
    recorder = staff(session, Role.RECORDER, mine)
    check_permission(
        app,
        session,
        Action.page("/staff/deeds/record", _deed(entry.code)),
        allowed=recorder,
        refused=[staff(session, Role.VERIFIER, mine), staff(session, Role.AUDITOR)],
        audit=[],
        writes={Deed: 1},
    )
    deed = session.scalars(select(Deed).where(Deed.deed_type_code == entry.code)).one()
    assert deed.recorded_by == recorder.label


def test_verifying_a_deed(app: FastAPI, session: Session, mine: Agency, other: Agency) -> None:
    deed = make_deed(session, agency=mine, verified=False)
    check_permission(
        app,
        session,
        Action.page("/staff/deeds/queue/verify", {"ids": str(deed.id)}),
        allowed=staff(session, Role.VERIFIER, mine),
        refused=[
            staff(session, Role.RECORDER, mine),
            staff(session, Role.VERIFIER, other).refused_with(404),
        ],
        audit=[("deed.verify", mine.id)],
    )


def test_the_office_counting_a_held_deed_is_audited_for_its_agency(
    app: FastAPI, session: Session, mine: Agency
) -> None:
    second = new_agency(session, kind="school")
    entry = make_deed_type(session, agency=mine, verification_policy="agency_attested")
    national_id = new_national_id()
    make_deed(session, deed_type=entry, national_id=national_id)
    held = make_deed(
        session, deed_type=entry, agency=second, national_id=national_id, verified=False
    )
    assert held.duplicate_of is not None  # the same person and day at another agency
    check_permission(
        app,
        session,
        Action.page(f"/admin/duplicates/{held.id}/count"),
        allowed=staff(session, Role.PROGRAM_ADMIN),
        refused=[
            staff(session, Role.AUDITOR),
            staff(session, Role.AGENCY_ADMIN, second),
            staff(session, Role.VERIFIER, second),
        ],
        audit=[("deed.verify", second.id)],
    )


# --- staff and keys ------------------------------------------------------------------


def test_creating_a_staff_account(app: FastAPI, session: Session, mine: Agency) -> None:
    form = {
        "email": "new.recorder@example.org",
        "display_name": "Khun New",
        "role": Role.RECORDER.value,
        "password": PASSWORD,
    }
    check_permission(
        app,
        session,
        Action.page("/staff/accounts", form),
        allowed=staff(session, Role.AGENCY_ADMIN, mine),
        refused=[staff(session, Role.RECORDER, mine), staff(session, Role.AUDITOR)],
        audit=[("account.create", mine.id)],
        writes={StaffAccount: 1},
    )


def test_an_agency_admin_cannot_make_a_programme_account(
    app: FastAPI, session: Session, mine: Agency
) -> None:
    """Past the route's guard (staff:manage), the service refuses: still 403, and
    nothing is written."""
    form = {
        "email": "new.office@example.org",
        "display_name": "Khun Office",
        "role": Role.PROGRAM_ADMIN.value,
        "password": PASSWORD,
    }
    check_permission(
        app,
        session,
        Action.page("/staff/accounts", form),
        allowed=staff(session, Role.PROGRAM_ADMIN),
        refused=[staff(session, Role.AGENCY_ADMIN, mine)],
        audit=[("account.create", None)],
        writes={StaffAccount: 1},
    )


def test_the_office_revoking_an_agencys_key_is_audited_for_that_agency(
    app: FastAPI, session: Session, mine: Agency, other: Agency
) -> None:
    made = make_api_key(session, mine)
    check_permission(
        app,
        session,
        Action.page(f"/staff/keys/{made.prefix}/revoke"),
        allowed=staff(session, Role.PROGRAM_ADMIN),
        refused=[
            staff(session, Role.AUDITOR),
            staff(session, Role.AGENCY_ADMIN, other).refused_with(404),
        ],
        audit=[("api_key.revoke", mine.id)],
    )


def test_creating_an_api_key(app: FastAPI, session: Session, mine: Agency) -> None:
    check_permission(
        app,
        session,
        Action.page("/staff/keys", {"name": "School system", "scopes": "deeds:write"}),
        allowed=staff(session, Role.AGENCY_ADMIN, mine),
        refused=[staff(session, Role.VERIFIER, mine), staff(session, Role.RECORDER, mine)],
        audit=[("api_key.create", mine.id)],
        writes={ApiKey: 1},
    )


# --- built on the record -------------------------------------------------------------


def test_approving_a_campaign_is_the_offices(app: FastAPI, session: Session, mine: Agency) -> None:
    campaign = make_campaign(session, agency=mine, approved=False)
    campaigns.submit(session, SYSTEM, campaign)
    check_permission(
        app,
        session,
        Action.page(f"/admin/campaigns/{campaign.code}/decision", {"decision": "approve"}),
        allowed=staff(session, Role.PROGRAM_ADMIN),
        refused=[staff(session, Role.AGENCY_ADMIN, mine), staff(session, Role.AUDITOR)],
        audit=[("campaign.approve", mine.id)],
    )


def test_starting_an_eligibility_report(
    app: FastAPI, session: Session, mine: Agency, other: Agency
) -> None:
    entry = make_deed_type(session, agency=mine)
    benefit = make_benefit(
        session,
        agency=mine,
        kind=BenefitKind.ELIGIBILITY,
        rule=count_rule(entry, period="academic_year"),
    )
    upload = io.StringIO()
    csv.writer(upload).writerows([["national_id", "reference"], [new_national_id(), "B-1"]])
    year = academic_year(today_in_thailand()) - 1
    check_permission(
        app,
        session,
        Action.page(
            "/staff/reports",
            {"benefit": benefit.code, "academic_year": str(year)},
            files={"file": ("borrowers.csv", upload.getvalue().encode(), "text/csv")},
        ),
        allowed=staff(session, Role.AGENCY_ADMIN, mine),
        refused=[
            staff(session, Role.RECORDER, mine),
            staff(session, Role.AGENCY_ADMIN, other).refused_with(404),
        ],
        audit=[("report_job.start", mine.id)],
        writes={Job: 1},
    )


# --- the citizen ---------------------------------------------------------------------


def test_reading_a_citizens_record_is_in_their_access_log(
    app: FastAPI, session: Session, mine: Agency
) -> None:
    """A read is written to the citizen's access log (which they read), not to the
    audit trail."""
    national_id = new_national_id()
    make_deed(session, agency=mine, national_id=national_id)
    reader = staff(session, Role.VERIFIER, mine)
    check_permission(
        app,
        session,
        Action.page(
            "/staff/citizens/check", {"national_id": national_id, "purpose": "loan renewal"}
        ),
        allowed=reader,
        refused=[staff(session, Role.RECORDER, mine), staff(session, Role.AUDITOR)],
        audit=[],
        writes={AccessLog: 1},
        succeeds=(200,),
    )
    (logged,) = session.scalars(select(AccessLog)).all()
    assert (logged.actor, logged.agency_id, logged.purpose) == (
        reader.label,
        mine.id,
        "loan renewal",
    )
