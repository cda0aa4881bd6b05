"""Milestones: awarded by themselves in the transaction that counts the deed,
withdrawn with the agency's reason when a revoked deed leaves them unmet, signed
as credentials, listed at ceremonies only with the citizen's consent (on SQLite
and PostgreSQL, real commits where concurrency matters)."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Role, Scope
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.service import get_agency
from dcatalog.benefits import awards
from dcatalog.benefits import service as benefits
from dcatalog.benefits.models import Award, AwardStatus, BenefitKind
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens import rights
from dcatalog.citizens.models import AccessLog
from dcatalog.credentials import service as credentials
from dcatalog.db import Database, create_db_engine
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import Deed
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from dcatalog.problems import NotFound, ValidationProblem
from dcatalog.schema import upgrade_engine
from tests.conftest import TEST_PEPPER
from tests.factories import (
    make_account,
    make_milestone,
    make_principal,
    post_form,
    sign_in,
    sign_in_citizen,
)

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

KEYER = CitizenKeyer(TEST_PEPPER.encode())
TODAY = today_in_thailand()
FIRST = TODAY - timedelta(days=90 * 17)
RULES = deeds.Rules(today=TODAY, max_age_days=90 * 18, academic_start=(5, 16))


def national_id(n: int) -> str:
    return with_check_digit(f"5{n:011d}")


def hospital(session: Session) -> Actor:
    return Actor.api_key(
        "hosp",
        get_agency(session, "korat_hospital").id,
        frozenset({Scope.DEEDS_WRITE, Scope.DEEDS_VERIFY}),
    )


def donate(session: Session, n: int, times: int, start: int = 0, province: str = "TH-30") -> list:
    """``times`` whole-blood donations of citizen ``n``, 90 days apart, verified at once."""
    items = [
        deeds.DeedInput(
            national_id(n),
            "redcross.blood_donation",
            Decimal(1),
            FIRST + timedelta(days=90 * i),
            province,
            "",
            f"c{n}-d{i}",
        )
        for i in range(start, start + times)
    ]
    outcomes = deeds.record(session, hospital(session), KEYER, RULES, items)
    assert all(o.result == "created" for o in outcomes), [o.errors for o in outcomes]
    return [o.deed["id"] for o in outcomes if o.deed is not None]


def awards_of(session: Session, n: int) -> dict[str, Award]:
    query = select(Award).where(Award.citizen_key == KEYER.key(national_id(n)))
    return {a.benefit.code: a for a in session.scalars(query)}


def test_a_milestone_is_awarded_by_the_deed_that_reaches_it(session: Session) -> None:
    load_demo(session)
    ids = donate(session, 1, 6)
    assert awards_of(session, 1) == {}  # 6 donations: not yet
    (seventh,) = donate(session, 1, 1, start=6, province="TH-50")
    found = awards_of(session, 1)
    assert set(found) == {"redcross.donor_7"}
    award = found["redcross.donor_7"]
    assert award.status is AwardStatus.AWARDED
    assert (award.deed_id, award.reached_on, award.province) == (
        seventh,
        FIRST + timedelta(days=90 * 6),
        "TH-50",
    )
    assert len(ids) == 6
    # More donations never award the same milestone twice.
    donate(session, 1, 2, start=7)
    assert session.scalar(select(func.count()).select_from(Award)) == 1


def test_a_batch_of_history_awards_each_milestone_on_the_day_it_was_reached(
    session: Session,
) -> None:
    load_demo(session)
    donate(session, 2, 17)  # a donor card imported at once
    found = awards_of(session, 2)
    assert set(found) == {"redcross.donor_7", "redcross.donor_16"}
    assert found["redcross.donor_7"].reached_on == FIRST + timedelta(days=90 * 6)
    assert found["redcross.donor_16"].reached_on == FIRST + timedelta(days=90 * 15)


def test_verifying_a_pending_deed_awards_too(session: Session) -> None:
    """A milestone on a deed type that needs a verifier: awarded on verification."""
    load_demo(session)
    make_milestone(
        session,
        agency=get_agency(session, "kys"),
        code="kys.helper_10",
        rule={
            "deed_type": "kys.volunteer_activity",
            "measure": "quantity",
            "period": "lifetime",
            "at_least": 10,
        },
    )
    school = Actor.api_key(
        "uni",
        get_agency(session, "demouniv").id,
        frozenset({Scope.DEEDS_WRITE, Scope.DEEDS_VERIFY}),
    )
    item = deeds.DeedInput(
        national_id(3), "kys.volunteer_activity", Decimal(12), TODAY, "TH-10", "", "v1"
    )
    (outcome,) = deeds.record(session, school, KEYER, RULES, [item])
    assert outcome.deed is not None
    assert outcome.deed["status"].value == "pending"
    assert awards_of(session, 3) == {}
    deeds.verify(session, school, RULES, [outcome.deed["id"]])
    assert set(awards_of(session, 3)) == {"kys.helper_10"}


def test_only_a_recognition_is_awarded_automatically(session: Session) -> None:
    load_demo(session)
    with pytest.raises(ValidationProblem):
        benefits.define(
            session,
            SYSTEM,
            get_agency(session, "redcross"),
            code="redcross.free_lunch",
            kind=BenefitKind.PRIVILEGE,
            name_th="อาหาร",
            name_en="Lunch",
            rule={
                "deed_type": "redcross.blood_donation",
                "measure": "count",
                "period": "lifetime",
                "at_least": 1,
            },
            awarded_automatically=True,
        )


def test_revoking_the_deed_withdraws_the_award_and_its_credential_with_the_reason(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    donate(session, 4, 7)
    award = awards_of(session, 4)["redcross.donor_7"]
    citizen = sign_in_citizen(client, session, national_id(4), born_on=date(1990, 1, 1))
    post_form(client, f"/me/awards/{award.id}/credential", {}, page="/me/awards")
    awards.set_ceremony_name(session, citizen, award.id, "คุณสี่")
    session.refresh(award)
    assert award.credential_id is not None
    credential = credentials.get_credential(session, award.credential_id)
    assert credential is not None
    assert credential.kind == "award"
    assert not credential.revoked
    first = session.scalars(
        select(Deed).where(Deed.citizen_key == citizen.citizen_key).order_by(Deed.occurred_on)
    ).first()
    assert first is not None
    reason = "บันทึกซ้ำกับบัตรผู้บริจาคอีกใบ"
    deeds.revoke(session, hospital(session), RULES, first.id, reason)
    session.refresh(award)
    assert award.status is AwardStatus.WITHDRAWN
    assert award.withdrawal_reason == reason
    assert award.withdrawn_at is not None
    assert award.ceremony_name is None  # nothing left to call out at a ceremony
    session.refresh(credential)
    assert credential.revoked
    assert credential.revocation_reason == reason
    page = client.get("/me/awards").text
    assert reason in page
    # Donating again reaches it again: a new award; the withdrawn one stays.
    donate(session, 4, 1, start=7)
    rows = session.scalars(
        select(Award).where(Award.citizen_key == citizen.citizen_key).order_by(Award.awarded_at)
    ).all()
    assert [r.status for r in rows] == [AwardStatus.WITHDRAWN, AwardStatus.AWARDED]


def test_a_revocation_that_leaves_the_milestone_met_keeps_the_award(session: Session) -> None:
    load_demo(session)
    ids = donate(session, 5, 8)
    award = awards_of(session, 5)["redcross.donor_7"]
    deeds.revoke(session, hospital(session), RULES, ids[0], "typing error")
    session.refresh(award)
    assert award.status is AwardStatus.AWARDED  # 7 remain


def test_the_citizen_sees_thanks_chooses_the_ceremony_and_gets_a_certificate(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    donate(session, 6, 7)
    sign_in_citizen(client, session, national_id(6), born_on=date(1990, 1, 1))
    page = client.get("/me/awards")
    assert page.status_code == 200
    assert "เข็มที่ระลึกบริจาคโลหิตครบ 7 ครั้ง" in page.text
    assert "ขอบคุณที่ให้โลหิต ให้ชีวิต" in page.text  # the partner's thanks
    award = awards_of(session, 6)["redcross.donor_7"]
    # An empty name is refused with a reason, and nothing is kept.
    refused = post_form(
        client,
        f"/me/awards/{award.id}/ceremony",
        {"listed": "true", "name": "  "},
        page="/me/awards",
    )
    assert refused.status_code == 422
    session.refresh(award)
    assert award.ceremony_name is None
    listed = post_form(
        client,
        f"/me/awards/{award.id}/ceremony",
        {"listed": "true", "name": "  สมศรี   มีน้ำใจ "},
        page="/me/awards",
    )
    assert listed.status_code == 303
    session.refresh(award)
    assert award.ceremony_name == "สมศรี มีน้ำใจ"
    issued = post_form(client, f"/me/awards/{award.id}/credential", {}, page="/me/awards")
    assert issued.status_code == 303
    assert issued.headers["location"].startswith("/me/credentials")
    session.refresh(award)
    assert award.credential_id is not None
    credential = credentials.get_credential(session, award.credential_id)
    assert credential is not None
    document = credentials.signed_document(credential)
    assert document["credentialSubject"]["achievement"]["achievementType"] == "Award"
    assert "national" not in credential.document.lower()
    assert national_id(6) not in credential.document
    mine = client.get("/me/credentials").text
    assert "เข็มที่ระลึกบริจาคโลหิตครบ 7 ครั้ง" in mine
    # Asking again gives the same credential back.
    post_form(client, f"/me/awards/{award.id}/credential", {}, page="/me/awards")
    assert session.scalar(select(func.count()).select_from(type(credential))) == 1
    # Another citizen cannot touch this award.
    other = TestClient(client.app)
    donate(session, 7, 1)
    sign_in_citizen(other, session, national_id(7), born_on=date(1990, 1, 1))
    stolen = post_form(
        other, f"/me/awards/{award.id}/ceremony", {"listed": "false"}, page="/me/consents"
    )
    assert stolen.status_code == 404


def test_ceremony_lists_only_the_consenting_by_province_and_log_the_reading(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    donate(session, 10, 7, province="TH-30")
    donate(session, 11, 7, province="TH-30")
    donate(session, 12, 7, province="TH-50")
    for n, name in ((10, "คุณเอ"), (12, "คุณซี")):
        award = awards_of(session, n)["redcross.donor_7"]
        awards.set_ceremony_name(session, make_principal(session, national_id(n)), award.id, name)
    staff = make_account(session, Role.VERIFIER, get_agency(session, "redcross"))
    sign_in(client, staff.email)
    page = client.get(
        "/staff/ceremonies",
        params={"benefit": "redcross.donor_7", "province": "TH-30"},
    )
    assert page.status_code == 200
    assert "คุณเอ" in page.text
    assert "คุณซี" not in page.text
    assert "1 more reached it" in page.text or "อีก 1 คน" in page.text
    csv_file = client.get(
        "/staff/ceremonies.csv",
        params={"benefit": "redcross.donor_7", "from": FIRST.isoformat()},
    )
    assert csv_file.status_code == 200
    rows = list(csv.DictReader(io.StringIO(csv_file.text.lstrip("\ufeff"))))
    assert {r["name"] for r in rows} == {"คุณเอ", "คุณซี"}
    assert all(r["handed_over"] == "" for r in rows)
    # Reading the list is in each listed citizen's access log, not the others'.
    logged = session.scalars(select(AccessLog.citizen_key)).all()
    assert KEYER.key(national_id(10)) in logged
    assert KEYER.key(national_id(12)) in logged
    assert KEYER.key(national_id(11)) not in logged
    # Marking the pin handed over, once.
    award = awards_of(session, 10)["redcross.donor_7"]
    marked = post_form(
        client,
        f"/staff/ceremonies/{award.id}/handed-over",
        {"back": "benefit=redcross.donor_7"},
        page="/staff/ceremonies?benefit=redcross.donor_7",
    )
    assert marked.status_code == 303
    session.refresh(award)
    first_time = award.handed_over_at
    assert first_time is not None
    assert award.handed_over_by
    awards.mark_handed_over(session, counter(session), award.id)
    session.refresh(award)
    assert award.handed_over_at == first_time


def counter(session: Session, code: str = "redcross") -> Actor:
    return Actor.api_key(
        "counter", get_agency(session, code).id, frozenset({Scope.BENEFITS_REDEEM})
    )


def test_another_partner_never_sees_the_ceremony_list(session: Session) -> None:
    load_demo(session)
    donate(session, 20, 7)
    award = awards_of(session, 20)["redcross.donor_7"]
    awards.set_ceremony_name(session, make_principal(session, national_id(20)), award.id, "คุณดี")
    with pytest.raises(NotFound):
        awards.ceremony_list(
            session,
            counter(session, "kys"),
            benefit_code="redcross.donor_7",
            reached_from=None,
            reached_until=None,
            province=None,
        )
    with pytest.raises(NotFound):
        awards.mark_handed_over(session, counter(session, "kys"), award.id)
    # An award its citizen did not list is not reachable by the partner either.
    donate(session, 21, 7)
    unlisted = awards_of(session, 21)["redcross.donor_7"]
    with pytest.raises(NotFound):
        awards.mark_handed_over(session, counter(session), unlisted.id)


def test_erasure_keeps_the_count_and_forgets_the_name(session: Session) -> None:
    load_demo(session)
    donate(session, 30, 7)
    award = awards_of(session, 30)["redcross.donor_7"]
    citizen = make_principal(session, national_id(30))
    awards.set_ceremony_name(session, citizen, award.id, "คุณลืม")
    request = rights.request_erasure(session, citizen)
    rights.erase(session, SYSTEM, request.id)
    session.refresh(award)
    assert award.citizen_key != citizen.citizen_key
    assert award.ceremony_name is None
    assert session.scalar(select(func.count()).select_from(Award)) == 1


def test_concurrent_verifications_award_a_milestone_once(fresh_database_url: str) -> None:
    """Two transactions counting the 7th and 8th donation at once: one award."""
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine)
    database = Database(engine)
    with database.write_session() as session:
        load_demo(session)
        make_milestone(
            session,
            agency=get_agency(session, "redcross"),
            code="redcross.donor_6",
            rule={
                "deed_type": "redcross.blood_donation",
                "measure": "count",
                "period": "lifetime",
                "at_least": 6,
            },
        )
        donate(session, 40, 5)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            with database.write_session() as session:
                if engine.dialect.name == "postgresql":  # SQLite writers queue anyway
                    barrier.wait(timeout=10)
                donate(session, 40, 1, start=5 + i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with database.session() as session:
        held = session.scalars(
            select(Award).where(Award.citizen_key == KEYER.key(national_id(40)))
        ).all()
        assert sorted(a.benefit.code for a in held) == ["redcross.donor_6", "redcross.donor_7"]
    engine.dispose()
