"""Every demo benefit's journey over the API, on SQLite and PostgreSQL: an agency
records the deeds with its key, the citizen consents, the partner's eligibility
check says "met" with the figures behind it, the citizen claims (the page form,
with its CSRF token) and gets a code, the partner redeems it over the API once
and a second time is refused. Also: Greenmart's quota of 100 really stops the
101st claim, the fast lane's per-citizen limit of 4 holds, and a Red Cross
milestone is awarded by the 7th verified donation and withdrawn, with the
hospital's reason, when that donation is revoked."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.audit.models import AuditEvent
from dcatalog.benefits.models import Award, AwardStatus, Benefit, Claim, ClaimStatus
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import PeriodKind, academic_year, period_bounds
from dcatalog.db import new_id, utcnow
from dcatalog.demo.data import BENEFITS
from dcatalog.demo.service import load_demo
from dcatalog.tokens import digest
from tests import factories
from tests.factories import csrf_from, sign_in_citizen

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

Keys = dict[str, dict[str, str]]  # agency code -> Authorization header of its API key

TODAY = today_in_thailand()


@pytest.fixture(autouse=True)
def _today_when_the_test_runs() -> None:
    """The app counts with the Thai date of each request: a test here takes the date
    when it starts, not when the module was collected (a run that crosses Thai
    midnight, 17:00 UTC, otherwise records "today" as yesterday)."""
    global TODAY
    TODAY = today_in_thailand()


ACADEMIC_START = (5, 16)  # the settings' default (16 May)
BORN = date(1995, 7, 1)  # adults: no guardian's consent needed
_CODE = re.compile(r"<code>([A-Z0-9]{5}) ([A-Z0-9]{5})</code>")


nid = partial(factories.nid, series="42")  # this file's own citizens


@pytest.fixture
def keys(session: Session) -> Keys:
    """The demo partners, and an API key (as Authorization headers) for each."""
    load_demo(session)
    scopes = {
        "demouniv": ["deeds:write", "deeds:verify"],
        "korat_hospital": ["deeds:write", "deeds:verify"],
        "thaihealth": ["deeds:write", "eligibility:read", "benefits:redeem"],
        "kys": ["eligibility:read", "benefits:redeem"],
        "redcross": ["eligibility:read", "benefits:redeem"],
        "greenmart": ["eligibility:read", "benefits:redeem"],
    }
    found = {}
    for agency, wanted in scopes.items():
        _key, plain = accounts.create_api_key(
            session, SYSTEM, get_agency(session, agency), f"{agency} system", wanted
        )
        found[agency] = {"Authorization": f"Bearer {plain}"}
    return found


def deed(
    national_id: str, deed_type: str, day: date, quantity: int = 1, ref: str | None = None
) -> dict[str, Any]:
    return {
        "national_id": national_id,
        "deed_type": deed_type,
        "quantity": str(quantity),
        "occurred_on": day.isoformat(),
        "province": "TH-30",
        "evidence": "certificate",
        "external_id": ref or f"{deed_type}-{national_id}-{day.isoformat()}",
    }


def record(client: TestClient, key: dict[str, str], *deeds: dict[str, Any]) -> list[dict[str, Any]]:
    """Record deeds in one batch; every one must be created. Returns them."""
    sent = client.post("/api/v1/deeds", json={"deeds": list(deeds)}, headers=key)
    assert sent.status_code == 200, sent.text
    results = sent.json()["results"]
    assert [r["result"] for r in results] == ["created"] * len(deeds), results
    return [r["deed"] for r in results]


def verify(client: TestClient, key: dict[str, str], found: list[dict[str, Any]]) -> None:
    done = client.post("/api/v1/deeds/verify", json={"ids": [d["id"] for d in found]}, headers=key)
    assert done.status_code == 200, done.text
    assert {d["status"] for d in done.json()} == {"verified"}


def consent(
    client: TestClient,
    session: Session,
    national_id: str,
    agency: str,
    scope: list[str],
    includes_health: bool = False,
    expect: int = 303,
) -> None:
    """The citizen signs in (on this client) and lets the agency see ``scope``."""
    sign_in_citizen(client, session, national_id, born_on=BORN)
    form: dict[str, Any] = {"agency": agency, "purpose": "to give me the benefit", "scope": scope}
    if includes_health:
        form["includes_health"] = "true"
    form["csrf_token"] = csrf_from(client, "/me/consents")
    granted = client.post("/me/consents", data=form, follow_redirects=False)
    assert granted.status_code == expect, granted.text


def eligibility(
    client: TestClient, key: dict[str, str], national_id: str, benefit: str
) -> dict[str, Any]:
    body = {"national_id": national_id, "benefit": benefit, "purpose": "checking the benefit"}
    answer = client.post("/api/v1/eligibility", json=body, headers=key)
    assert answer.status_code == 200, answer.text
    assert national_id not in answer.text
    found: dict[str, Any] = answer.json()
    return found


def figures(answer: dict[str, Any]) -> tuple[bool, str, Decimal, Decimal, Decimal]:
    """(met, period, have, need, missing) of a one-condition rule's answer."""
    assert answer["outcome"] == "allowed", answer
    (condition,) = answer["conditions"]
    return (
        answer["met"],
        condition["period"],
        Decimal(condition["have"]),
        Decimal(condition["need"]),
        Decimal(condition["missing"]),
    )


def claim_form(client: TestClient, benefit: str, **headers: str) -> Any:
    """The "Claim it" button on "My good deeds", as the browser sends it."""
    token = csrf_from(client, "/me")
    return client.post(
        f"/me/benefits/{benefit}/claim",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def claim(client: TestClient, benefit: str) -> str:
    """The signed-in citizen claims; returns the code their claim page shows."""
    claimed = claim_form(client, benefit)
    assert claimed.status_code == 303, claimed.text
    assert re.fullmatch(r"/me/claims/[0-9a-f-]{36}", claimed.headers["location"])
    shown = client.get(claimed.headers["location"])
    assert shown.status_code == 200
    assert "data:image/svg+xml" in shown.text  # the QR code
    match = _CODE.search(shown.text)
    assert match, "no claim code on the claim page"
    return match.group(1) + match.group(2)


def redeem_once(client: TestClient, key: dict[str, str], code: str, benefit: str) -> None:
    """The partner redeems the code once; the second time it is refused as used."""
    first = client.post("/api/v1/claims/redeem", json={"code": code}, headers=key)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "redeemed"
    assert first.json()["benefit"] == benefit
    spaced = f"{code[:5].lower()} {code[5:]}"  # as a person types it
    again = client.post("/api/v1/claims/redeem", json={"code": spaced}, headers=key)
    assert again.status_code == 200
    assert again.json()["outcome"] == "used"
    assert again.json()["at"] == first.json()["at"]


def test_student_loan_renewal(client: TestClient, session: Session, keys: Keys) -> None:
    """30 volunteer hours in the previous academic year, then 6 more: 36, renewed."""
    student = nid(1)
    previous = period_bounds(
        PeriodKind.ACADEMIC_YEAR, academic_year(TODAY, ACADEMIC_START) - 1, ACADEMIC_START
    )
    assert previous.start is not None
    assert previous.end is not None
    hours = [
        deed(student, "kys.volunteer_activity", previous.start + timedelta(days=30 + 45 * i), q)
        for i, q in enumerate([8, 8, 8, 6])
    ]
    verify(client, keys["demouniv"], record(client, keys["demouniv"], *hours))
    consent(client, session, student, "kys", ["type:kys.volunteer_activity"])
    period = f"academic_year:{academic_year(TODAY, ACADEMIC_START) - 1}"
    before = eligibility(client, keys["kys"], student, "kys.loan_renewal")
    assert figures(before) == (False, period, 30, 36, 6)
    refused = claim_form(client, "kys.loan_renewal", accept="application/json")
    assert refused.status_code == 403
    assert "rule" in refused.json()["detail"]

    # The university records the 6 hours she still needed, and verifies them.
    more = record(
        client, keys["demouniv"], deed(student, "kys.volunteer_activity", previous.end, 6)
    )
    assert more[0]["status"] == "pending"  # not counted until verified
    assert figures(eligibility(client, keys["kys"], student, "kys.loan_renewal"))[0] is False
    verify(client, keys["demouniv"], more)
    after = eligibility(client, keys["kys"], student, "kys.loan_renewal")
    assert figures(after) == (True, period, 36, 36, 0)

    code = claim(client, "kys.loan_renewal")
    (mine,) = session.scalars(select(Claim).where(Claim.code_digest == digest(code))).all()
    home = client.get("/me").text  # "My claims" lists it, ready to use
    assert f'href="/me/claims/{mine.id}"' in home
    assert "พร้อมใช้" in home
    # Another partner's counter does not know the Fund's code.
    elsewhere = client.post("/api/v1/claims/redeem", json={"code": code}, headers=keys["redcross"])
    assert elsewhere.json()["outcome"] == "unknown"
    redeem_once(client, keys["kys"], code, "kys.loan_renewal")
    shown = client.get(f"/me/claims/{mine.id}").text
    assert "ใช้แล้วเมื่อ" in shown  # used on …
    assert code[:5] not in shown  # a used code is not shown any more


def test_new_borrower(client: TestClient, session: Session, keys: Keys) -> None:
    """18 hours in the last 365 days (today and the 364 days before it)."""
    borrower = nid(2)
    found = record(
        client,
        keys["demouniv"],
        deed(borrower, "kys.volunteer_activity", TODAY - timedelta(days=365), 12),  # outside
        deed(borrower, "kys.volunteer_activity", TODAY - timedelta(days=364), 6),
        deed(borrower, "kys.volunteer_activity", TODAY, 12),
    )
    verify(client, keys["demouniv"], found)
    consent(client, session, borrower, "kys", ["virtue:volunteering"])
    answer = eligibility(client, keys["kys"], borrower, "kys.new_borrower")
    assert figures(answer) == (True, "rolling_days:365", 18, 18, 0)
    code = claim(client, "kys.new_borrower")
    redeem_once(client, keys["kys"], code, "kys.new_borrower")


def test_greenmart_discount_and_its_quota_of_100(
    client: TestClient, session: Session, keys: Keys
) -> None:
    benefit = session.scalars(
        select(Benefit).where(Benefit.code == "greenmart.volunteer_discount")
    ).one()
    assert benefit.quota == 100
    shopper, late = nid(3), nid(4)
    for who in (shopper, late):
        verify(
            client,
            keys["demouniv"],
            record(client, keys["demouniv"], deed(who, "kys.volunteer_activity", TODAY, 10)),
        )
    # Without her consent Greenmart learns nothing; with it, the figures.
    refused = eligibility(client, keys["greenmart"], shopper, "greenmart.volunteer_discount")
    assert refused["outcome"] == "refused"
    assert refused["met"] is None
    assert refused["conditions"] == []
    consent(client, session, shopper, "greenmart", ["type:kys.volunteer_activity"])
    answer = eligibility(client, keys["greenmart"], shopper, "greenmart.volunteer_discount")
    assert figures(answer) == (True, f"calendar_year:{TODAY.year + 543}", 10, 10, 0)

    # 99 people have claimed already (set-based: the quota counts rows, not people).
    session.execute(
        insert(Claim),
        [
            {
                "id": new_id(),
                "benefit_id": benefit.id,
                "citizen_key": f"earlier-{n:03d}",
                "code_digest": digest(f"earlier-code-{n:03d}"),
                "status": ClaimStatus.ISSUED,
                "claimed_at": utcnow(),
                "expires_at": utcnow() + timedelta(days=30),
            }
            for n in range(99)
        ],
    )
    code = claim(client, "greenmart.volunteer_discount")  # the 100th
    redeem_once(client, keys["greenmart"], code, "greenmart.volunteer_discount")
    once = claim_form(client, "greenmart.volunteer_discount", accept="application/json")
    assert once.status_code == 409
    assert "as many times" in once.json()["detail"]

    # The 101st, who qualifies as well, is refused with a clear problem document.
    sign_in_citizen(client, session, late, born_on=BORN)
    page = client.get("/me").text  # she did reach it, but the button would only fail
    assert "greenmart.volunteer_discount/claim" not in page
    assert "สิทธิ์นี้มีผู้รับครบแล้ว" in page
    full = claim_form(client, "greenmart.volunteer_discount", accept="application/json")
    assert full.status_code == 409
    assert full.headers["content-type"].startswith("application/problem+json")
    problem = full.json()
    assert problem["type"] == "/problems/conflict"
    assert "quota is used up" in problem["detail"]
    taken = session.scalar(select(func.count(Claim.id)).where(Claim.benefit_id == benefit.id))
    assert taken == 100  # the refusal changed nothing


@pytest.mark.skipif(
    TODAY.timetuple().tm_yday < 30, reason="30 active days this year need 30 days of the year"
)
def test_thaihealth_30_day_challenge(client: TestClient, session: Session, keys: Keys) -> None:
    """30 active days this calendar year: awarded by itself at the 30th, then claimed."""
    walker = nid(5)
    days = [TODAY - timedelta(days=n) for n in range(30)]  # all this year (see skipif)
    challenge = "thaihealth.activity_challenge"
    record(client, keys["thaihealth"], *(deed(walker, challenge, d) for d in days[1:]))
    benefit = session.scalars(select(Benefit).where(Benefit.code == "thaihealth.challenge_30"))
    milestone = benefit.one()
    assert session.scalars(select(Award).where(Award.benefit_id == milestone.id)).all() == []
    (thirtieth,) = record(client, keys["thaihealth"], deed(walker, challenge, days[0]))
    assert thirtieth["status"] == "verified"  # attested by ThaiHealth itself
    (award,) = session.scalars(select(Award).where(Award.benefit_id == milestone.id)).all()
    assert award.status is AwardStatus.AWARDED
    assert award.deed_id == uuid.UUID(thirtieth["id"])
    assert award.reached_on == TODAY

    consent(client, session, walker, "thaihealth", [f"type:{challenge}"], includes_health=True)
    answer = eligibility(client, keys["thaihealth"], walker, "thaihealth.challenge_30")
    assert figures(answer) == (True, f"calendar_year:{TODAY.year + 543}", 30, 30, 0)
    code = claim(client, "thaihealth.challenge_30")
    redeem_once(client, keys["thaihealth"], code, "thaihealth.challenge_30")


def test_red_cross_fast_lane_up_to_4_times(
    client: TestClient, session: Session, keys: Keys
) -> None:
    """3 donations in the last 365 days open the fast lane; it can be claimed 4 times."""
    donor = nid(6)
    record(
        client,
        keys["korat_hospital"],
        *(
            deed(donor, "redcross.blood_donation", TODAY - timedelta(days=n))
            for n in (400, 300, 200, 100)  # the first is more than 365 days ago
        ),
    )
    # Blood donation is health data: it is shared only with its own tick.
    consent(client, session, donor, "redcross", ["type:redcross.blood_donation"], expect=422)
    refused = eligibility(client, keys["redcross"], donor, "redcross.donor_privilege")
    assert (refused["outcome"], refused["met"], refused["conditions"]) == ("refused", None, [])
    consent(
        client, session, donor, "redcross", ["type:redcross.blood_donation"], includes_health=True
    )
    answer = eligibility(client, keys["redcross"], donor, "redcross.donor_privilege")
    assert figures(answer) == (True, "rolling_days:365", 3, 3, 0)
    codes = [claim(client, "redcross.donor_privilege") for _ in range(4)]
    assert len(set(codes)) == 4
    for code in codes:
        redeem_once(client, keys["redcross"], code, "redcross.donor_privilege")
    fifth = claim_form(client, "redcross.donor_privilege", accept="application/json")
    assert fifth.status_code == 409
    assert "as many times" in fifth.json()["detail"]


def test_milestone_awarded_at_the_7th_donation_and_withdrawn_with_it(
    client: TestClient, session: Session, keys: Keys
) -> None:
    donor = nid(7)
    hospital = keys["korat_hospital"]
    donor_7 = session.scalars(select(Benefit).where(Benefit.code == "redcross.donor_7")).one()

    def awards() -> list[Award]:
        session.expire_all()
        return list(session.scalars(select(Award).where(Award.benefit_id == donor_7.id)))

    record(
        client,
        hospital,
        *(deed(donor, "redcross.blood_donation", TODAY - timedelta(days=90 * k)) for k in range(6, 0, -1)),
    )  # fmt: skip
    assert awards() == []  # 6 donations: not yet
    (seventh,) = record(client, hospital, deed(donor, "redcross.blood_donation", TODAY))
    (award,) = awards()
    assert (award.status, award.deed_id, award.reached_on) == (
        AwardStatus.AWARDED,
        uuid.UUID(seventh["id"]),
        TODAY,
    )

    consent(
        client, session, donor, "redcross", ["type:redcross.blood_donation"], includes_health=True
    )
    answer = eligibility(client, keys["redcross"], donor, "redcross.donor_7")
    assert figures(answer) == (True, "lifetime", 7, 7, 0)
    code = claim(client, "redcross.donor_7")
    redeem_once(client, keys["redcross"], code, "redcross.donor_7")

    # The hospital finds the 7th was entered twice by mistake and revokes it.
    reason = "entered twice by mistake: the donation of the same day is already recorded"
    revoked = client.post(
        f"/api/v1/deeds/{seventh['id']}/revoke", json={"reason": reason}, headers=hospital
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    (award,) = awards()
    assert award.status is AwardStatus.WITHDRAWN
    assert award.withdrawal_reason == reason
    assert award.withdrawn_at is not None
    logged = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "award.withdraw", AuditEvent.entity_id == str(award.id)
        )
    ).one()
    assert logged.reason == reason
    # She reads why on "My good deeds": the donation taken back, with the reason.
    home = client.get("/me").text
    assert "เพิกถอนแล้ว" in home
    assert reason in home
    # ...and on "My milestones": the pin withdrawn, and why.
    milestones = client.get("/me/awards")
    assert milestones.status_code == 200
    assert reason in milestones.text
    # The partner's check now says not met, and the citizen cannot claim it again.
    answer = eligibility(client, keys["redcross"], donor, "redcross.donor_7")
    assert figures(answer) == (False, "lifetime", 6, 7, 1)
    again = claim_form(client, "redcross.donor_7", accept="application/json")
    assert again.status_code == 403
    # The claim already redeemed stays as it was: history is not rewritten.
    used = session.scalars(select(Claim).where(Claim.benefit_id == donor_7.id)).one()
    assert used.status is ClaimStatus.REDEEMED
    # A new 7th donation (a real one, today: the revoked one leaves room) awards it anew.
    (real,) = record(
        client, hospital, deed(donor, "redcross.blood_donation", TODAY, ref="real-seventh")
    )
    statuses = sorted(a.status.value for a in awards())
    assert statuses == ["awarded", "withdrawn"]
    assert {a.deed_id for a in awards() if a.status is AwardStatus.AWARDED} == {
        uuid.UUID(real["id"])
    }


def test_every_demo_benefit_has_a_journey_here() -> None:
    """When a benefit is added to the demo, this file should get its journey."""
    covered = {
        "kys.loan_renewal",
        "kys.new_borrower",
        "greenmart.volunteer_discount",
        "thaihealth.challenge_30",
        "redcross.donor_privilege",
        "redcross.donor_7",
    }
    milestones = {b["code"] for b in BENEFITS if b["code"].startswith("redcross.donor_")}
    milestones.discard("redcross.donor_privilege")
    others = {b["code"] for b in BENEFITS} - milestones
    # The other milestones share donor_7's code path (same rule, another bound).
    assert others | {"redcross.donor_7"} == covered
