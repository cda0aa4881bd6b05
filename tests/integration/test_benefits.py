"""Benefits: demo benefits approved, a citizen's progress in words, partners'
eligibility checks only with consent and always in the access log."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.benefits import service as benefits
from dcatalog.benefits.models import Benefit, BenefitKind
from dcatalog.benefits.rules import RuleError
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens import consent, disclosure
from dcatalog.demo.data import DEMO_STUDENT_BORN, DEMO_STUDENT_ID
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.problems import Conflict, Forbidden
from dcatalog.review import ReviewStatus
from tests.conftest import TEST_PEPPER
from tests.factories import sign_in_citizen

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

KEYER = CitizenKeyer(TEST_PEPPER.encode())


@pytest.fixture
def student(session: Session) -> None:
    """The demo: agencies, deed types, benefits, and the student's 30 hours."""
    load_demo(session, with_accounts=True, keyer=KEYER)


def check(client: TestClient, session: Session, code: str, benefit: str) -> dict:  # type: ignore[type-arg]
    _key, plain = accounts.create_api_key(
        session, SYSTEM, get_agency(session, code), f"{code} eligibility", ["eligibility:read"]
    )
    answer = client.post(
        "/api/v1/eligibility",
        json={"national_id": DEMO_STUDENT_ID, "benefit": benefit, "purpose": "renewal 2569"},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert answer.status_code == 200, answer.text
    assert DEMO_STUDENT_ID not in answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_the_student_sees_how_far_she_is(
    client: TestClient, session: Session, student: None
) -> None:
    from datetime import date

    sign_in_citizen(client, session, DEMO_STUDENT_ID, born_on=date.fromisoformat(DEMO_STUDENT_BORN))
    client.get("/lang/en")
    page = client.get("/me").text
    assert "Renew your student loan" in page
    assert "30 of 36" in page
    assert "Closed: what you do from now on counts in the next year." in page
    assert "36 more hours by" in page  # the advice is about the year open now


def test_eligibility_needs_consent_and_is_logged(
    client: TestClient, session: Session, student: None
) -> None:
    refused = check(client, session, "kys", "kys.loan_renewal")
    assert refused == {
        "outcome": "refused",
        "reason": "no consent covering what the rule reads",
        "benefit": "kys.loan_renewal",
        "met": None,
        "conditions": [],
    }
    from datetime import date

    somsri = sign_in_citizen(
        client, session, DEMO_STUDENT_ID, born_on=date.fromisoformat(DEMO_STUDENT_BORN)
    )
    # Consent to a virtue covers its deed types; blood donations (health) need the tick.
    for agency in ("kys", "redcross"):
        consent.grant(
            session, somsri, agency_code=agency, purpose="thanks", scope=["virtue:volunteering"]
        )
    assert check(client, session, "redcross", "redcross.donor_7")["outcome"] == "refused"
    answer = check(client, session, "kys", "kys.loan_renewal")
    assert answer["outcome"] == "allowed"
    assert answer["met"] is False
    (condition,) = answer["conditions"]
    assert Decimal(condition["have"]) == 30
    assert Decimal(condition["missing"]) == 6
    assert condition["period"].startswith("academic_year:")
    log = disclosure.access_log(session, somsri.citizen_key)
    assert [entry.outcome.value for entry in log] == ["allowed", "refused", "refused"]
    assert (
        log[1].what == "eligibility for redcross.donor_7: no consent covering what the rule reads"
    )
    assert "kys.loan_renewal: not met" in log[0].what


def test_a_benefit_with_a_bad_rule_is_refused(session: Session, student: None) -> None:
    kys = get_agency(session, "kys")
    with pytest.raises(RuleError):
        benefits.define(
            session, SYSTEM, kys, code="kys.bad", kind=BenefitKind.ELIGIBILITY,
            rule={"all": []}, name_th="x", name_en="x",
        )  # fmt: skip
    with pytest.raises(Conflict):
        benefits.define(
            session, SYSTEM, kys, code="kys.loan_renewal", kind=BenefitKind.ELIGIBILITY,
            rule={"deed_type": "kys.volunteer_activity", "measure": "count", "period": "lifetime", "at_least": 1},
            name_th="x", name_en="x",
        )  # fmt: skip
    other = accounts.actor_for(
        accounts.create_account(
            session, SYSTEM, email="a@redcross.example", display_name="A",
            role=accounts.Role.AGENCY_ADMIN, password="a long enough password",
            agency=get_agency(session, "redcross"),
        )
    )  # fmt: skip
    with pytest.raises(Forbidden):
        benefits.define(
            session, other, kys, code="kys.sneaky", kind=BenefitKind.THANKS,
            rule={"deed_type": "kys.volunteer_activity", "measure": "count", "period": "lifetime", "at_least": 1},
            name_th="x", name_en="x",
        )  # fmt: skip


def test_only_approved_open_benefits_are_offered(session: Session, student: None) -> None:
    today = today_in_thailand()
    kys = get_agency(session, "kys")
    rule = {
        "deed_type": "kys.volunteer_activity",
        "measure": "count",
        "period": "lifetime",
        "at_least": 1,
    }
    benefits.define(
        session, SYSTEM, kys, code="kys.draft_only", kind=BenefitKind.THANKS, rule=rule,
        name_th="ร่าง", name_en="Draft",
    )  # fmt: skip
    closed = session.scalar(select(Benefit).where(Benefit.code == "redcross.donor_7"))
    assert closed is not None
    closed.valid_until = today - timedelta(days=1)  # its offer ended yesterday
    session.flush()

    offered = {b.code for b in benefits.offered(session, today)}
    assert {"kys.loan_renewal", "thaihealth.challenge_30"} <= offered
    assert "kys.draft_only" not in offered  # drafted, never approved
    assert "redcross.donor_7" not in offered  # approved, but closed
    approved = session.scalars(select(Benefit).where(Benefit.status == ReviewStatus.APPROVED))
    assert offered == {b.code for b in approved if b.open_on(today)}


def test_the_eligibility_page_answers_with_consent_and_the_citizen_sees_it(
    client: TestClient, session: Session, student: None
) -> None:
    from datetime import date

    from dcatalog.accounts.permissions import Role
    from tests.factories import make_account, post_form, sign_in

    officer = make_account(session, Role.VERIFIER, get_agency(session, "kys"))
    officer.role = Role.AGENCY_ADMIN  # eligibility:read is the agency admin's
    session.flush()
    staff = TestClient(client.app)
    sign_in(staff, officer.email)
    form = {"national_id": DEMO_STUDENT_ID, "benefit": "kys.loan_renewal", "purpose": "ต่อสัญญา"}
    refused = post_form(staff, "/staff/eligibility", form, page="/staff/eligibility")
    assert refused.status_code == 200
    assert 'data-outcome="refused"' in refused.text
    assert DEMO_STUDENT_ID not in refused.text  # the ID is never echoed back
    somsri = sign_in_citizen(
        client, session, DEMO_STUDENT_ID, born_on=date.fromisoformat(DEMO_STUDENT_BORN)
    )
    consent.grant(
        session, somsri, agency_code="kys", purpose="renewal", scope=["virtue:volunteering"]
    )
    allowed = post_form(staff, "/staff/eligibility", form, page="/staff/eligibility")
    assert 'data-outcome="allowed"' in allowed.text
    assert ">30<" in allowed.text  # the hours she has
    assert ">36<" in allowed.text  # and needs
    log = disclosure.access_log(session, somsri.citizen_key)
    assert [entry.outcome.value for entry in log] == ["allowed", "refused"]
    assert all(entry.purpose == "ต่อสัญญา" for entry in log)
    bad = post_form(
        staff, "/staff/eligibility", {**form, "national_id": "123"}, page="/staff/eligibility"
    )
    assert bad.status_code == 422
    # A recorder may not check.
    recorder = TestClient(client.app)
    sign_in(recorder, make_account(session, Role.RECORDER, get_agency(session, "kys")).email)
    assert recorder.get("/staff/eligibility").status_code == 403
