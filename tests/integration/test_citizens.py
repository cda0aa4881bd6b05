"""Citizens: their own record with explanations, consent, the access log, data
rights. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role, Scope
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens import consent, disclosure, rights
from dcatalog.citizens.models import AccessLog, Consent, Dispute
from dcatalog.deeds import service, tallies
from dcatalog.deeds.models import Deed, DeedStatus
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen
from dcatalog.identity.national_id import with_check_digit
from tests.conftest import TEST_PEPPER
from tests.factories import csrf_from, make_account, post_form, sign_in, sign_in_citizen
from tests.helpers import dump_all_rows

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

TODAY = today_in_thailand()
RULES = service.Rules(today=TODAY, max_age_days=730, academic_start=(5, 16))
KEYER = CitizenKeyer(TEST_PEPPER.encode())
SOMSRI = with_check_digit("110370012345")  # a student
NIPA = with_check_digit("310060044563")  # someone else


def key_actor(session: Session, code: str, *scopes: str) -> Actor:
    key, _plain = accounts.create_api_key(session, SYSTEM, get_agency(session, code), code, scopes)
    return Actor.api_key(key.prefix, key.agency_id, frozenset(Scope(s) for s in scopes))


def record(
    session: Session,
    actor: Actor,
    national_id: str,
    kind: str,
    quantity: str,
    ref: str,
    days_ago: int = 20,
):  # type: ignore[no-untyped-def]
    (outcome,) = service.record(
        session,
        actor,
        KEYER,
        RULES,
        [
            service.DeedInput(
                national_id=national_id,
                deed_type=kind,
                quantity=Decimal(quantity),
                occurred_on=TODAY - timedelta(days=days_ago),
                province="TH-30",
                evidence="cert",
                external_id=ref,
            )
        ],
    )
    assert outcome.result == "created", outcome.errors
    return outcome.deed


@pytest.fixture
def story(session: Session) -> dict[str, Actor]:
    """Somsri did 30 hours of volunteering (recorded by her university, verified)
    and gave blood once (recorded by the hospital); Nipa gave blood once."""
    load_demo(session)
    uni = key_actor(session, "demouniv", "deeds:write", "deeds:verify")
    hospital = key_actor(session, "korat_hospital", "deeds:write")
    ids = [
        record(session, uni, SOMSRI, "kys.volunteer_activity", hours, f"v{i}", 10 + i)["id"]
        for i, hours in enumerate(["12", "10", "8"])
    ]
    service.verify(session, uni, RULES, ids)
    record(session, hospital, SOMSRI, "redcross.blood_donation", "1", "blood-somsri")
    record(session, hospital, NIPA, "redcross.blood_donation", "1", "blood-nipa")
    return {
        "uni": uni,
        "hospital": hospital,
        "kys": key_actor(session, "kys", "citizens:read"),
        "redcross": key_actor(session, "redcross", "citizens:read"),
    }


def test_my_good_deeds_with_totals_and_where_they_come_from(
    client: TestClient, session: Session, story: dict[str, Actor]
) -> None:
    sign_in_citizen(client, session, SOMSRI)
    page = client.get("/me")
    assert page.status_code == 200
    assert ">310<" in page.text  # 30 hours × 10 credits + one blood donation × 10
    assert SOMSRI not in page.text
    explained = client.get(
        "/me/explain", params={"subject": "type:kys.volunteer_activity", "period": "lifetime"}
    )
    assert explained.status_code == 200
    for hours in ("12", "10", "8"):
        assert f">{hours} " in explained.text or f">{hours}<" in explained.text
    assert "300" in explained.text  # 30 hours × 10 credits
    bad = client.get("/me/explain", params={"subject": "nonsense", "period": "lifetime"})
    assert bad.status_code == 404


def test_a_citizen_sees_only_their_own_record(
    client: TestClient, app: FastAPI, session: Session, story: dict[str, Actor]
) -> None:
    sign_in_citizen(client, session, NIPA)
    page = client.get("/me").text
    assert "volunteer" not in page.lower() or "12 " not in page
    data = client.get("/me/data.json").json()
    assert {d["deed_type"] for d in data["deeds"]} == {"redcross.blood_donation"}
    somsri_deed = session.scalars(select(Deed).where(Deed.external_id == "v0")).one()
    # Disputing someone else's record: no such record, for this citizen.
    answer = client.post(
        f"/me/deeds/{somsri_deed.id}/dispute",
        data={"message": "not mine", "csrf_token": csrf_from(client, "/me")},
    )
    assert answer.status_code == 404


def test_without_a_citizen_cookie_the_pages_ask_to_sign_in(
    client: TestClient, session: Session, story: dict[str, Actor]
) -> None:
    for path in ("/me", "/me/consents", "/me/access-log", "/me/data", "/me/data.json"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/me/sign-in"), path
    # A staff sign-in is not a citizen's.
    sign_in(client, make_account(session, Role.AGENCY_ADMIN, get_agency(session, "kys")).email)
    assert client.get("/me", follow_redirects=False).status_code == 303


def api_read(client: TestClient, session: Session, code: str, national_id: str) -> dict:  # type: ignore[type-arg]
    _key, plain = accounts.create_api_key(
        session, SYSTEM, get_agency(session, code), f"{code} check", ["citizens:read"]
    )
    answer = client.post(
        "/api/v1/citizens/record",
        json={"national_id": national_id, "purpose": "renewing the student loan"},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert answer.status_code == 200, answer.text
    assert national_id not in answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_consent_decides_what_an_agency_reads_and_every_read_is_logged(
    client: TestClient, session: Session, story: dict[str, Actor]
) -> None:
    # No consent: the Fund recorded nothing itself, so it sees nothing.
    before = api_read(client, session, "kys", SOMSRI)
    assert before["outcome"] == "refused"
    assert before["deeds"] == []
    somsri = sign_in_citizen(client, session, SOMSRI)
    granted = post_form(
        client,
        "/me/consents",
        {"agency": "kys", "purpose": "renew my student loan", "scope": ["virtue:volunteering"]},
        page="/me/consents",
    )
    assert granted.status_code == 303
    after = api_read(client, session, "kys", SOMSRI)
    assert after["outcome"] == "allowed"
    # Volunteering hours, but not the blood donation (health: no explicit tick).
    assert {d["deed_type"] for d in after["deeds"]} == {"kys.volunteer_activity"}
    lifetime = next(
        t
        for t in after["totals"]
        if t["subject"] == "type:kys.volunteer_activity" and t["period"] == "lifetime"
    )
    assert Decimal(lifetime["quantity"]) == Decimal(30)
    # Another agency without consent still sees nothing.
    assert api_read(client, session, "redcross", SOMSRI)["deeds"] == []
    # The citizen sees every read, allowed or refused.
    log = client.get("/me/access-log").text
    assert log.count("renewing the student loan") == 3
    assert "Refused" in log or "ปฏิเสธ" in log
    # Withdrawing is one click, and the Fund is refused again.
    active = session.scalars(select(Consent).where(Consent.withdrawn_at.is_(None))).one()
    withdrawn = post_form(client, f"/me/consents/{active.id}/withdraw", {}, page="/me/consents")
    assert withdrawn.status_code == 303
    assert api_read(client, session, "kys", SOMSRI)["outcome"] == "refused"
    entries = disclosure.access_log(session, somsri.citizen_key)
    # Newest first: the Fund after withdrawal, the Red Cross, the Fund with consent, before.
    assert [e.outcome.value for e in entries] == ["refused", "refused", "allowed", "refused"]
    # The consent history keeps both times.
    session.expire_all()
    assert consent.history(session, somsri)[0].withdrawn_at is not None


def test_health_information_needs_its_own_tick(
    client: TestClient, session: Session, story: dict[str, Actor]
) -> None:
    somsri = sign_in_citizen(client, session, SOMSRI)
    refused = post_form(
        client,
        "/me/consents",
        {
            "agency": "redcross",
            "purpose": "blood donor card",
            "scope": ["type:redcross.blood_donation"],
        },
        page="/me/consents",
    )
    assert refused.status_code == 422
    assert session.scalars(select(Consent)).first() is None
    consent.grant(
        session,
        somsri,
        agency_code="redcross",
        purpose="blood donor card",
        scope=["virtue:volunteering"],
        includes_health=True,
    )
    seen = api_read(client, session, "redcross", SOMSRI)
    assert {d["deed_type"] for d in seen["deeds"]} == {
        "kys.volunteer_activity",
        "redcross.blood_donation",
    }


def test_a_minor_needs_a_guardian_too(
    client: TestClient, session: Session, story: dict[str, Actor]
) -> None:
    young = sign_in_citizen(client, session, SOMSRI, born_on=TODAY.replace(year=TODAY.year - 15))
    consent.grant(
        session, young, agency_code="kys", purpose="loan", scope=["type:kys.volunteer_activity"]
    )
    assert api_read(client, session, "kys", SOMSRI)["outcome"] == "refused"
    office = accounts.actor_for(make_account(session, Role.PROGRAM_ADMIN))
    with pytest.raises(Exception, match="another person"):
        consent.record_guardian_consent(
            session,
            office,
            KEYER,
            minor_national_id=SOMSRI,
            guardian_national_id=SOMSRI,
            relation="self",
            today=TODAY,
        )
    consent.record_guardian_consent(
        session,
        office,
        KEYER,
        minor_national_id=SOMSRI,
        guardian_national_id=NIPA,
        relation="mother",
        today=TODAY,
    )
    assert api_read(client, session, "kys", SOMSRI)["outcome"] == "allowed"


def test_my_data_has_everything_and_no_national_id(
    client: TestClient, session: Session, story: dict[str, Actor]
) -> None:
    somsri = sign_in_citizen(client, session, SOMSRI)
    consent.grant(session, somsri, agency_code="kys", purpose="loan", scope=["virtue:volunteering"])
    api_read(client, session, "kys", SOMSRI)
    data = client.get("/me/data.json")
    assert data.status_code == 200
    body = data.json()
    assert len(body["deeds"]) == 4
    assert {"consents", "access_log", "tallies", "disputes"} <= set(body)
    assert body["access_log"][0]["purpose"] == "renewing the student loan"
    assert SOMSRI not in data.text
    table = client.get("/me/data.csv")
    assert table.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(table.text.removeprefix("\ufeff"))))
    assert len(rows) == 4
    assert SOMSRI not in dump_all_rows(session)


def test_a_dispute_goes_to_the_agency_and_the_answer_comes_back(
    client: TestClient, app: FastAPI, session: Session, story: dict[str, Actor]
) -> None:
    sign_in_citizen(client, session, SOMSRI)
    wrong = session.scalars(select(Deed).where(Deed.external_id == "v1")).one()
    sent = post_form(
        client, f"/me/deeds/{wrong.id}/dispute", {"message": "I was ill that day"}, page="/me"
    )
    assert sent.status_code == 303
    verifier = TestClient(app)
    sign_in(verifier, make_account(session, Role.VERIFIER, get_agency(session, "demouniv")).email)
    queue = verifier.get("/staff/disputes")
    assert "I was ill that day" in queue.text
    dispute_id = session.scalars(select(Dispute)).one().id
    # Another agency's verifier cannot answer it.
    other = TestClient(app)
    sign_in(
        other, make_account(session, Role.VERIFIER, get_agency(session, "korat_hospital")).email
    )
    assert "I was ill that day" not in other.get("/staff/disputes").text
    refused = post_form(
        other,
        f"/staff/disputes/{dispute_id}/answer",
        {"outcome": "upheld", "reason": "no"},
        page="/staff/disputes",
    )
    assert refused.status_code == 404
    answered = post_form(
        verifier,
        f"/staff/disputes/{dispute_id}/answer",
        {"outcome": "upheld", "reason": "Attendance sheet shows you absent; taken back."},
        page="/staff/disputes",
    )
    assert answered.status_code == 303
    session.refresh(wrong)
    assert wrong.status is DeedStatus.REVOKED
    assert "taken back" in client.get("/me/data").text
    assert tallies.differences(session, RULES.academic_start) == []


def test_erasure_forgets_the_person_but_keeps_national_figures(
    client: TestClient, session: Session, story: dict[str, Actor]
) -> None:
    somsri = sign_in_citizen(client, session, SOMSRI)
    consent.grant(session, somsri, agency_code="kys", purpose="loan", scope=["virtue:volunteering"])
    api_read(client, session, "kys", SOMSRI)
    asked = post_form(client, "/me/erasure", {"confirm": "true"}, page="/me/data")
    assert asked.status_code == 303
    counted_before = session.scalars(select(Deed).where(Deed.status == DeedStatus.VERIFIED)).all()
    office = accounts.actor_for(make_account(session, Role.PROGRAM_ADMIN))
    (request,) = rights.erasure_requests(session, office)
    rights.erase(session, office, request.id)
    assert session.get(Citizen, somsri.citizen_key) is None
    assert not session.scalars(select(Deed).where(Deed.citizen_key == somsri.citizen_key)).all()
    assert not session.scalars(
        select(AccessLog).where(AccessLog.citizen_key == somsri.citizen_key)
    ).all()
    counted_after = session.scalars(select(Deed).where(Deed.status == DeedStatus.VERIFIED)).all()
    assert len(counted_after) == len(counted_before)  # national figures unchanged
    assert tallies.differences(session, RULES.academic_start) == []
    # The old sign-in no longer opens anything.
    assert client.get("/me", follow_redirects=False).status_code == 303
