"""Claims and redemption: qualify → claim → QR code → redeem once; quotas and
double redemptions are race-safe (many threads at once, real commits, on
SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role, Scope
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.service import get_agency
from dcatalog.benefits import claims
from dcatalog.benefits.models import Benefit, Claim
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.db import Database, create_db_engine
from dcatalog.demo.service import load_demo
from dcatalog.identity.national_id import with_check_digit
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.problems import Conflict, Forbidden
from dcatalog.schema import upgrade_engine
from tests.factories import (
    count_rule,
    make_account,
    make_benefit,
    make_deed,
    make_principal,
    post_form,
    sign_in,
    sign_in_citizen,
)

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

SECRET = b"test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
TODAY = today_in_thailand()


def donor(session: Session, n: int) -> CitizenPrincipal:
    """A citizen with one blood donation (recorded by the hospital, so verified)."""
    national_id = with_check_digit(f"3{n:011d}")
    make_deed(
        session, deed_type="redcross.blood_donation", agency=get_agency(session, "korat_hospital"),
        national_id=national_id, occurred_on=TODAY - timedelta(days=3), province="TH-30",
        evidence="", external_id=f"d{n}",
    )  # fmt: skip
    return make_principal(session, national_id)


def give_away(session: Session, quota: int | None = 3) -> Benefit:
    """The Red Cross thanks every donor with a voucher: a quota, one each."""
    return make_benefit(
        session, agency=get_agency(session, "redcross"), code="redcross.voucher",
        name_th="บัตรกำนัล", name_en="Voucher", thanks_th="ขอบคุณ", thanks_en="Thank you",
        rule=count_rule("redcross.blood_donation"), quota=quota,
    )  # fmt: skip


def counter(session: Session, code: str = "redcross") -> Actor:
    return Actor.api_key(
        "counter", get_agency(session, code).id, frozenset({Scope.BENEFITS_REDEEM})
    )


def test_qualify_claim_show_and_redeem_once(client: TestClient, session: Session) -> None:
    load_demo(session)
    give_away(session)
    somsri = donor(session, 1)
    sign_in_citizen(client, session, with_check_digit(f"3{1:011d}"), born_on=date(1990, 1, 1))
    page = client.get("/me").text
    assert "Claim it" in page or "รับสิทธิ์" in page
    claimed = post_form(client, "/me/benefits/redcross.voucher/claim", {}, page="/me")
    assert claimed.status_code == 303
    shown = client.get(claimed.headers["location"])
    assert shown.status_code == 200
    assert "data:image/svg+xml" in shown.text  # the QR code
    (claim,) = claims.claims_of(session, somsri)
    code = claims.code_for(client.app.state.secret_key, claim.id)  # type: ignore[attr-defined]
    assert code[:5] in shown.text
    assert session.scalars(select(Claim.code_digest)).one() != code  # only a digest is kept
    # Another agency's counter does not know the code; the Red Cross's redeems it once.
    assert claims.redeem(session, counter(session, "kys"), code).outcome == "unknown"
    first = claims.redeem(session, counter(session), code.lower()[:5] + "-" + code[5:])
    assert first.outcome == "redeemed"
    assert claims.redeem(session, counter(session), code).outcome == "used"
    # Over the API too, and on the counter page.
    _key, plain = accounts.create_api_key(
        session, SYSTEM, get_agency(session, "redcross"), "counter", ["benefits:redeem"]
    )
    again = client.post(
        "/api/v1/claims/redeem", json={"code": code}, headers={"Authorization": f"Bearer {plain}"}
    )
    assert again.status_code == 200
    assert again.json()["outcome"] == "used"
    staff = TestClient(client.app)
    sign_in(staff, make_account(session, Role.VERIFIER, get_agency(session, "redcross")).email)
    assert (
        "redeem" in staff.get("/staff/redeem").text.lower()
        or staff.get("/staff/redeem").status_code == 200
    )


def test_no_claim_without_the_rule_and_never_more_than_the_limit(session: Session) -> None:
    load_demo(session)
    give_away(session)
    nobody = make_principal(session, with_check_digit("399999999999"))
    with pytest.raises(Forbidden, match="rule"):
        claims.claim(
            session, nobody, SECRET, "redcross.voucher", today=TODAY, academic_start=(5, 16)
        )
    somsri = donor(session, 2)
    claims.claim(session, somsri, SECRET, "redcross.voucher", today=TODAY, academic_start=(5, 16))
    with pytest.raises(Conflict, match="as many times"):
        claims.claim(
            session, somsri, SECRET, "redcross.voucher", today=TODAY, academic_start=(5, 16)
        )


def _fresh(url: str) -> Database:
    database = Database(create_db_engine(url))
    upgrade_engine(database.engine)
    return database


def test_the_quota_holds_under_concurrent_claims(fresh_database_url: str) -> None:
    database = _fresh(fresh_database_url)
    with database.write_session() as session:
        load_demo(session)
        give_away(session, quota=3)
        donors = [donor(session, n) for n in range(10)]
        session.commit()
    results: list[str] = []
    start = threading.Barrier(len(donors))

    def try_claim(who: CitizenPrincipal) -> None:
        start.wait()
        try:
            with database.write_session() as session:
                claims.claim(
                    session, who, SECRET, "redcross.voucher", today=TODAY, academic_start=(5, 16)
                )
            results.append("claimed")
        except Conflict:
            results.append("quota")
        except Exception as exc:  # anything else is a failure of the test
            results.append(repr(exc))

    threads = [threading.Thread(target=try_claim, args=(who,)) for who in donors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["claimed"] * 3 + ["quota"] * 7
    with database.session() as session:
        assert len(session.scalars(select(Claim)).all()) == 3
    database.dispose()


def test_a_code_is_redeemed_once_however_many_counters_try(fresh_database_url: str) -> None:
    database = _fresh(fresh_database_url)
    with database.write_session() as session:
        load_demo(session)
        give_away(session, quota=None)
        somsri = donor(session, 7)
        claim = claims.claim(
            session, somsri, SECRET, "redcross.voucher", today=TODAY, academic_start=(5, 16)
        )
        code = claims.code_for(SECRET, claim.id)
        till = counter(session)
        session.commit()
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def try_redeem() -> None:
        start.wait()
        try:
            with database.write_session() as session:
                outcomes.append(claims.redeem(session, till, code).outcome)
        except Exception as exc:
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=try_redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["redeemed"] + ["used"] * 7
    database.dispose()
