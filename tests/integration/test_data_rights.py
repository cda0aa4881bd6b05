"""Data rights cover everything kept under a citizen key: the copy of my data
holds it all and erasure leaves none of it behind. The guard at the end finds
the tables from the metadata, so a new table holding a citizen key fails here
until both the export and the erasure know it. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Table, func, or_, select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role, Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import get_agency
from dcatalog.benefits import awards, claims
from dcatalog.benefits import service as benefits
from dcatalog.benefits.models import Award, Claim
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens import consent, disclosure, rights
from dcatalog.citizens import service as my_record
from dcatalog.citizens.models import GuardianConsent
from dcatalog.deeds import service as deeds
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen
from dcatalog.identity.national_id import with_check_digit
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.models import Base
from dcatalog.proposals import service as proposals
from tests.conftest import TEST_PEPPER
from tests.factories import count_rule, make_account, make_benefit, post_form, sign_in_citizen
from tests.helpers import dump_all_rows

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

KEYER = CitizenKeyer(TEST_PEPPER.encode())
TODAY = today_in_thailand()
FIRST = TODAY - timedelta(days=90 * 8)
RULES = deeds.Rules(today=TODAY, max_age_days=90 * 9, academic_start=(5, 16))
DONOR = with_check_digit("310060044563")
MINOR = with_check_digit("110370012345")


def donate(session: Session, national_id: str, times: int, start: int = 0) -> None:
    """Blood donations recorded by the hospital (verified at once), 90 days apart."""
    hospital = Actor.api_key(
        "hosp", get_agency(session, "korat_hospital").id, frozenset({Scope.DEEDS_WRITE})
    )
    for i in range(start, start + times):
        (outcome,) = deeds.record(
            session, hospital, KEYER, RULES,
            [deeds.DeedInput(national_id, "redcross.blood_donation", Decimal(1), FIRST + timedelta(days=90 * i), "TH-30", "", f"gift-{national_id[-4:]}-{i}")],
        )  # fmt: skip
        assert outcome.result == "created", outcome.errors


def voucher(session: Session, quota: int) -> None:
    """The Red Cross gives each donor one voucher, while its quota lasts."""
    make_benefit(
        session, agency=get_agency(session, "redcross"), code="redcross.voucher",
        name_th="บัตรกำนัล", name_en="Voucher", thanks_th="ขอบคุณ", thanks_en="Thank you",
        rule=count_rule("redcross.blood_donation"), quota=quota,
    )  # fmt: skip


def erase(client: TestClient, session: Session) -> None:
    """The citizen asks on /me/data; the programme office carries it out."""
    assert post_form(client, "/me/erasure", {"confirm": "true"}, page="/me/data").status_code == 303
    office = accounts.actor_for(
        make_account(session, Role.PROGRAM_ADMIN, email="erasures@example.org")
    )
    for request in rights.erasure_requests(session, office):
        if request.citizen_key is not None:
            rights.erase(session, office, request.id)


def test_after_erasure_the_same_person_starts_without_the_earlier_claim(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    voucher(session, quota=2)
    donate(session, DONOR, 1)
    sign_in_citizen(client, session, DONOR, born_on=date(1990, 1, 1))
    assert (
        post_form(client, "/me/benefits/redcross.voucher/claim", {}, page="/me").status_code == 303
    )
    assert "สิทธิ์ที่ฉันรับแล้ว" in client.get("/me").text or "My claims" in client.get("/me").text
    erase(client, session)

    # They come back, give blood again and sign in with the same ID: a new record.
    donate(session, DONOR, 1, start=5)
    again = sign_in_citizen(client, session, DONOR, born_on=date(1990, 1, 1))
    page = client.get("/me").text
    assert "สิทธิ์ที่ฉันรับแล้ว" not in page
    assert "My claims" not in page
    assert client.get("/me/data.json").json()["claims"] == []
    # The earlier claim no longer counts against their limit of one...
    claimed = post_form(client, "/me/benefits/redcross.voucher/claim", {}, page="/me")
    assert claimed.status_code == 303, claimed.text
    assert len(claims.claims_of(session, again)) == 1
    # ...but it still used up its share of the quota: two vouchers, both gone.
    assert session.scalar(select(func.count()).select_from(Claim)) == 2
    benefit = benefits.get(session, "redcross.voucher")
    assert claims.no_room(session, benefit, "someone else") == claims.QUOTA_USED_UP


def test_erasing_a_guardian_keeps_the_minors_consent_without_naming_them(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    young = sign_in_citizen(
        TestClient(client.app), session, MINOR, born_on=TODAY.replace(year=TODAY.year - 15)
    )
    consent.grant(session, young, agency_code="kys", purpose="loan", scope=["virtue:volunteering"])
    office = accounts.actor_for(make_account(session, Role.PROGRAM_ADMIN))
    consent.record_guardian_consent(
        session, office, KEYER, minor_national_id=MINOR, guardian_national_id=DONOR,
        relation="mother", today=TODAY,
    )  # fmt: skip
    mother = sign_in_citizen(client, session, DONOR, born_on=date(1980, 1, 1))
    exported = client.get("/me/data.json").json()
    assert [g["role"] for g in exported["guardian_consents"]] == ["guardian"]
    assert young.citizen_key not in json.dumps(exported)  # the minor is not given away
    erase(client, session)
    left = session.scalars(select(GuardianConsent)).one()
    assert left.guardian_key != mother.citizen_key
    assert left.withdrawn_at is None  # still in force for the minor
    assert not consent.needs_guardian(session, young.citizen_key, TODAY)


# --- the guard: every table that holds a citizen key ----------------------------------


def citizen_key_columns() -> list[tuple[Table, Column[Any]]]:
    """Columns that hold a citizen key: named so (``citizen_key``, ``guardian_key``,
    any ``…citizen_key``) or pointing at the citizen table."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            points_at_citizen = any(fk.column.table.name == "citizen" for fk in column.foreign_keys)
            if (
                column.name.endswith("citizen_key")
                or column.name == "guardian_key"
                or points_at_citizen
            ):
                found.append((table, column))
    return found


# Where each table's rows appear in /me/data.json. A table missing here fails the guard.
EXPORTED_AS = {
    "citizen": "citizen",
    "citizen_session": "sessions",
    "consent": "consents",
    "guardian_consent": "guardian_consents",
    "access_log": "access_log",
    "dispute": "disputes",
    "erasure_request": "erasure_requests",
    "deed": "deeds",
    "tally": "tallies",
    "claim": "claims",
    "award": "awards",
    "issued_credential": "credentials",
}


def rows_holding(session: Session, key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, _column in citizen_key_columns():
        columns = [c for t, c in citizen_key_columns() if t is table]
        counts[table.name] = (
            session.scalar(
                select(func.count()).select_from(table).where(or_(*(c == key for c in columns)))
            )
            or 0
        )
    return counts


def everything_for(client: TestClient, session: Session) -> CitizenPrincipal:
    """One citizen with a row in every table that can hold their key, made as they
    and the partners would make it."""
    load_demo(session)
    voucher(session, quota=10)
    donate(session, DONOR, 7)  # the seventh donation reaches the milestone redcross.donor_7
    me = sign_in_citizen(client, session, DONOR, born_on=date(1990, 1, 1))
    consent.grant(
        session,
        me,
        agency_code="redcross",
        purpose="check",
        scope=["type:redcross.blood_donation"],
        includes_health=True,
    )
    reader = Actor.api_key(
        "rc", get_agency(session, "redcross").id, frozenset({Scope.CITIZENS_READ})
    )
    disclosure.read_record(
        session, reader, KEYER, national_id=DONOR, purpose="donor check", today=TODAY
    )
    assert (
        post_form(client, "/me/benefits/redcross.voucher/claim", {}, page="/me").status_code == 303
    )
    (award,) = awards.awards_of(session, me)
    for path, form in (
        (f"/me/awards/{award.id}/ceremony", {"listed": "true", "name": "คุณใจดี พิธี"}),
        (f"/me/awards/{award.id}/public", {"shown": "true", "public_name": "คุณใจดี สาธารณะ"}),
        (f"/me/awards/{award.id}/credential", {}),
    ):
        assert post_form(client, path, form, page="/me/awards").status_code == 303, path
    deed = my_record.deeds(session, me)[0].deed
    rights.dispute(session, me, deed.id, "the date is wrong")
    # What the person wrote in public: a proposal, a comment, a support.
    mine = proposals.propose(
        session, Actor.citizen(me.label), title="ปลูกป่าชายเลน", description="ทุกเดือน"
    )
    proposals.comment(session, Actor.citizen(me.label), mine, "ใครสนใจบ้าง")
    young = sign_in_citizen(
        TestClient(client.app), session, MINOR, born_on=TODAY.replace(year=TODAY.year - 15)
    )
    assert young.citizen_key != me.citizen_key
    office = accounts.actor_for(make_account(session, Role.PROGRAM_ADMIN))
    consent.record_guardian_consent(
        session, office, KEYER, minor_national_id=MINOR, guardian_national_id=DONOR,
        relation="father", today=TODAY,
    )  # fmt: skip
    rights.request_erasure(session, me)
    return me


def test_every_table_holding_a_citizen_key_is_in_the_copy_of_my_data(
    client: TestClient, session: Session
) -> None:
    me = everything_for(client, session)
    held = rows_holding(session, me.citizen_key)
    missing = {name for name, count in held.items() if count == 0}
    assert not missing, f"the story makes no row in {missing}: add one (and export, erase it)"
    not_exported = set(held) - set(EXPORTED_AS)
    assert not not_exported, f"{not_exported} hold a citizen key but are not in the export"
    data = client.get("/me/data.json")
    assert data.status_code == 200
    body = data.json()
    for table, section in EXPORTED_AS.items():
        assert body.get(section), f"{table}'s rows are not in /me/data.json ({section})"
    (award,) = body["awards"]
    assert award["benefit"] == "redcross.donor_7"
    assert (award["ceremony_name"], award["public_name"]) == ("คุณใจดี พิธี", "คุณใจดี สาธารณะ")
    assert [c["benefit"] for c in body["claims"]] == ["redcross.voucher"]
    (credential,) = body["credentials"]
    assert credential["kind"] == "award"
    assert credential["document"]["proof"]  # the signed document itself
    assert DONOR not in data.text
    assert [p["title"] for p in body["proposals"]] == ["ปลูกป่าชายเลน"]
    assert [c["text"] for c in body["proposal_comments"]] == ["ใครสนใจบ้าง"]
    table = client.get("/me/data.csv")
    rows = list(csv.DictReader(io.StringIO(table.text.removeprefix("\ufeff"))))
    assert {r["record"] for r in rows} == {"deed", "award", "claim", "credential"}
    (award_row,) = (r for r in rows if r["record"] == "award")
    assert award_row["deed_type"] == "redcross.donor_7"
    assert award_row["ceremony_name"] == "คุณใจดี พิธี"


def test_erasure_leaves_no_row_under_the_citizen_key(client: TestClient, session: Session) -> None:
    me = everything_for(client, session)
    office = accounts.actor_for(
        make_account(session, Role.PROGRAM_ADMIN, email="erasures@example.org")
    )
    (request,) = (r for r in rights.erasure_requests(session, office) if r.citizen_key)
    rights.erase(session, office, request.id)
    session.expire_all()
    left = {name: count for name, count in rows_holding(session, me.citizen_key).items() if count}
    assert left == {}, f"erasure left rows under the citizen key: {left}"
    # The chosen names went with it; the award itself still counts.
    (award,) = session.scalars(select(Award)).all()
    assert (award.ceremony_name, award.public_name) == (None, None)


def test_after_erasure_nothing_in_the_database_links_back_to_the_person(
    client: TestClient, session: Session
) -> None:
    """Not only the tables with a citizen key: the audit trail's snapshots and
    actor names, and the proposals' authors, named the person by their key or by
    a pseudonym derived from it. After erasure neither appears anywhere."""
    me = everything_for(client, session)
    session.commit()
    before = dump_all_rows(session)
    assert me.citizen_key in before
    assert me.label in before
    office = accounts.actor_for(
        make_account(session, Role.PROGRAM_ADMIN, email="erasures@example.org")
    )
    (request,) = (r for r in rights.erasure_requests(session, office) if r.citizen_key)
    rights.erase(session, office, request.id)
    session.commit()
    after = dump_all_rows(session)
    assert me.citizen_key not in after
    assert me.citizen_key[:12] not in after
    # The alias still names the proposal's author and the audit trail's actor, but
    # nothing maps it to a person any more: its citizen row is gone, and the same
    # person signing in again is someone new who sees none of it as theirs.
    assert session.scalar(select(Citizen).where(Citizen.alias == me.alias)) is None
    again = sign_in_citizen(client, session, DONOR, born_on=date(1990, 1, 1))
    assert again.citizen_key == me.citizen_key
    assert again.label != me.label
    body = client.get("/me/data.json").json()
    assert (body["proposals"], body["proposal_comments"]) == ([], [])
    assert "ปลูกป่าชายเลน" in after  # what was written in public stays, unsigned
