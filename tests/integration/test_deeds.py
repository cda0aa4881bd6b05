"""Recording deeds: idempotency, plausibility, duplicates, verification, credits and
tallies, through the service and the API, on both databases."""

import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.models import ApiKey
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.catalog import service as catalog
from dcatalog.catalog.models import DeedType
from dcatalog.db import Database, create_db_engine
from dcatalog.deeds import service, tallies
from dcatalog.deeds.models import Deed, DeedStatus, Tally
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from dcatalog.problems import Conflict, Forbidden, NotFound
from dcatalog.schema import upgrade_engine
from tests import factories
from tests.conftest import TEST_PEPPER

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

TODAY = today_in_thailand()
RULES = service.Rules(today=TODAY, max_age_days=730, academic_start=(5, 16))
KEYER = CitizenKeyer(TEST_PEPPER.encode())
SOMSRI = with_check_digit("110370012345")
NIPA = with_check_digit("310060044563")


nid = partial(factories.nid, series="1")  # this file's own citizens


def key_actor(session: Session, agency_code: str, *scopes: str) -> tuple[Actor, str]:
    agency = get_agency(session, agency_code)
    _key, plain = accounts.create_api_key(
        session, SYSTEM, agency, f"{agency_code} system", list(scopes)
    )
    found = accounts.authenticate_api_key(session, plain)
    assert found is not None
    return Actor.api_key(found.prefix, found.agency_id, frozenset(Scope(s) for s in scopes)), plain


def deed(**overrides: object) -> service.DeedInput:
    values: dict[str, object] = {
        "national_id": SOMSRI,
        "deed_type": "kys.volunteer_activity",
        "quantity": Decimal("3"),
        "occurred_on": TODAY - timedelta(days=10),
        "province": "TH-10",
        "evidence": "certificate 2569/001",
        "external_id": "act-001",
    }
    values.update(overrides)
    return service.DeedInput(**values)  # type: ignore[arg-type]


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session)


@pytest.fixture
def university(session: Session, demo: None) -> Actor:
    return key_actor(session, "demouniv", "deeds:write", "deeds:verify")[0]


@pytest.fixture
def hospital(session: Session, demo: None) -> Actor:
    return key_actor(session, "korat_hospital", "deeds:write")[0]


def record(session: Session, actor: Actor, *items: service.DeedInput) -> list[service.Outcome]:
    return service.record(session, actor, KEYER, RULES, list(items))


def test_idempotent_by_external_id(session: Session, university: Actor) -> None:
    (first,) = record(session, university, deed())
    assert first.result == "created"
    assert first.deed is not None
    assert first.deed["status"] is DeedStatus.PENDING  # the Fund's hours need a verifier
    assert first.deed["id_last4"] == SOMSRI[-4:]
    (again,) = record(
        session,
        university,
        deed(national_id=f"{SOMSRI[0]}-{SOMSRI[1:5]}-{SOMSRI[5:10]}-{SOMSRI[10:12]}-{SOMSRI[12]}"),
    )
    assert again.result == "unchanged"
    assert again.deed is not None
    assert again.deed["id"] == first.deed["id"]
    (different,) = record(session, university, deed(quantity=Decimal("4")))
    assert different.result == "conflict"
    assert session.scalar(select(func.count()).select_from(Deed)) == 1


@pytest.mark.parametrize(
    ("overrides", "pointer", "words"),
    [
        ({"national_id": "1-2345-45678-78-9"}, "#/national_id", "check digit"),
        ({"deed_type": "kys.no_such_thing"}, "#/deed_type", "not an approved"),
        (
            {"deed_type": "redcross.blood_donation", "quantity": Decimal(1)},
            "#/deed_type",
            "may not record",
        ),
        ({"province": "TH-99"}, "#/province", "not a province"),
        ({"quantity": Decimal(0)}, "#/quantity", "more than 0"),
        ({"quantity": Decimal(13)}, "#/quantity", "more than 12 in one record"),
        ({"occurred_on": TODAY + timedelta(days=1)}, "#/occurred_on", "future"),
        ({"occurred_on": TODAY - timedelta(days=731)}, "#/occurred_on", "730 days ago"),
    ],
)
def test_implausible_rows_are_refused_with_a_reason(
    session: Session, university: Actor, overrides: dict, pointer: str, words: str
) -> None:
    (outcome,) = record(session, university, deed(**overrides))
    assert outcome.result == "rejected"
    assert any(e.pointer == pointer and words in e.detail for e in outcome.errors), outcome.errors
    assert session.scalar(select(func.count()).select_from(Deed)) == 0


def test_limits_against_earlier_records(
    session: Session, university: Actor, hospital: Actor
) -> None:
    day = TODAY - timedelta(days=5)
    outcomes = record(
        session,
        university,
        deed(external_id="a", quantity=Decimal(8), occurred_on=day),
        deed(external_id="b", quantity=Decimal(5), occurred_on=day),  # 13 > 12 a day
    )
    assert [o.result for o in outcomes] == ["created", "rejected"]
    assert "over the limit of 12 per day" in outcomes[1].errors[0].detail
    blood = {"deed_type": "redcross.blood_donation", "quantity": Decimal(1)}
    first, too_soon, later = record(
        session,
        hospital,
        deed(external_id="b1", occurred_on=TODAY - timedelta(days=100), **blood),
        deed(external_id="b2", occurred_on=TODAY - timedelta(days=20), **blood),  # 80 days later
        deed(external_id="b3", occurred_on=TODAY - timedelta(days=16), **blood),  # 84 days later
    )
    assert (first.result, too_soon.result, later.result) == ("created", "rejected", "created")
    assert "at least 84 days" in too_soon.errors[0].detail
    assert first.deed is not None
    assert first.deed["status"] is DeedStatus.VERIFIED  # agency-attested: counts at once
    assert first.deed["credits"] == 10


def test_yearly_cap(session: Session, demo: None) -> None:
    thaihealth = key_actor(session, "thaihealth", "deeds:write")[0]
    lent = {"deed_type": "thaihealth.lent_abstention", "quantity": Decimal(1)}
    start = date(TODAY.year, 1, 1)
    outcomes = record(
        session,
        thaihealth,
        deed(external_id="l1", occurred_on=max(start, TODAY - timedelta(days=400)), **lent),
    )
    assert outcomes[0].result == "created"
    again = record(session, thaihealth, deed(external_id="l2", occurred_on=TODAY, **lent))
    assert again[0].result == "rejected"


def test_the_same_activity_reported_by_two_agencies_is_held_without_disclosing_the_other(
    session: Session, university: Actor
) -> None:
    kys = key_actor(session, "kys", "deeds:write", "deeds:verify")[0]
    (mine,) = record(session, university, deed())
    (theirs,) = record(session, kys, deed(external_id="kys-77"))
    assert theirs.result == "created"
    assert theirs.deed is not None
    assert mine.deed is not None
    assert theirs.deed["status"] is DeedStatus.PENDING
    # The second agency learns that it is held, nothing of the first agency's record.
    assert theirs.deed["status_reason"] == "held for review by the programme office"
    assert str(mine.deed["id"]) not in repr(theirs.deed)
    assert "duplicate_of" not in theirs.deed
    # It is the office's to decide, not the second agency's own verifier's.
    with pytest.raises(Conflict, match="programme office"):
        service.verify(session, kys, RULES, [theirs.deed["id"]])
    session.rollback()
    assert theirs.deed["id"] not in [d.id for d in service.pending_queue(session, kys)]
    (pair,) = service.held_pairs(session, SYSTEM)
    assert (pair.held.id, pair.other.id if pair.other else None) == (
        theirs.deed["id"],
        mine.deed["id"],
    )
    with pytest.raises(Forbidden):
        service.held_pairs(session, kys)
    service.verify(session, SYSTEM, RULES, [theirs.deed["id"]])
    assert session.get(Deed, theirs.deed["id"]).status is DeedStatus.VERIFIED  # type: ignore[union-attr]


def test_a_limit_met_through_another_agencys_record_does_not_describe_it(
    session: Session, demo: None
) -> None:
    """Red Cross donations 84 days apart: the refusal of a second agency's record says
    only that it is too close to another record, not when that record was."""
    hospital = key_actor(session, "redcross", "deeds:write")[0]
    other = key_actor(session, "korat_hospital", "deeds:write")[0]
    donation = {"deed_type": "redcross.blood_donation", "quantity": Decimal(1)}
    (first,) = record(
        session,
        hospital,
        deed(external_id="d1", occurred_on=TODAY - timedelta(days=40), **donation),
    )
    assert first.result == "created", first.errors
    (own,) = record(
        session,
        hospital,
        deed(external_id="d2", occurred_on=TODAY - timedelta(days=10), **donation),
    )
    assert own.result == "rejected"
    assert (TODAY - timedelta(days=40)).isoformat() in own.errors[0].detail
    (foreign,) = record(
        session, other, deed(external_id="d3", occurred_on=TODAY - timedelta(days=10), **donation)
    )
    assert foreign.result == "rejected"
    (error,) = foreign.errors
    assert error.detail == "too close to another record of this person; at least 84 days are needed"


def test_verify_reject_revoke_keep_tallies_right(session: Session, university: Actor) -> None:
    day = date(2026, 6, 1) if date(2026, 6, 1) <= TODAY else TODAY - timedelta(days=1)
    outcomes = record(
        session,
        university,
        deed(external_id="x1", quantity=Decimal("2.5"), occurred_on=day),
        deed(external_id="x2", quantity=Decimal(3), occurred_on=day - timedelta(days=1)),
        deed(external_id="x3", quantity=Decimal(1), occurred_on=day - timedelta(days=2)),
    )
    ids = [o.deed["id"] for o in outcomes]  # type: ignore[index]
    verified = service.verify(session, university, RULES, ids[:2])
    assert [d.credits for d in verified] == [25, 30]
    service.reject(session, university, ids[2], "no certificate was attached")
    with pytest.raises(Exception, match="not pending"):
        service.verify(session, university, RULES, [ids[2]])
    key = KEYER.key(SOMSRI)
    lifetime = session.get(Tally, (key, "type:kys.volunteer_activity", "lifetime"))
    assert lifetime is not None
    assert (lifetime.count, lifetime.quantity, lifetime.credits) == (2, Decimal("5.5"), 55)
    virtue = session.get(Tally, (key, "virtue:volunteering", "lifetime"))
    assert virtue is not None
    assert virtue.credits == 55
    service.revoke(session, university, RULES, ids[0], "recorded twice by mistake")
    session.expire_all()
    lifetime = session.get(Tally, (key, "type:kys.volunteer_activity", "lifetime"))
    assert lifetime is not None
    assert (lifetime.count, lifetime.credits) == (1, 30)
    assert tallies.differences(session, RULES.academic_start) == []
    # Rebuilding from the deeds gives what was kept incrementally.
    before = {
        (t.subject, t.period): (t.count, t.quantity, t.credits)
        for t in session.scalars(select(Tally))
        if t.count
    }
    tallies.rebuild(session, RULES.academic_start)
    after = {
        (t.subject, t.period): (t.count, t.quantity, t.credits)
        for t in session.scalars(select(Tally))
    }
    assert before == after


def test_one_agency_cannot_touch_anothers_deeds(
    session: Session, university: Actor, hospital: Actor
) -> None:
    (mine,) = record(session, university, deed())
    deed_id = mine.deed["id"]  # type: ignore[index]
    with pytest.raises(NotFound):
        service.get_own(session, hospital, deed_id)
    other_verifier = key_actor(session, "kys", "deeds:verify")[0]
    with pytest.raises(NotFound):
        service.verify(session, other_verifier, RULES, [deed_id])
    assert service.list_own(session, hospital) == []


# --- the API ------------------------------------------------------------------------------


def api_deed(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "national_id": SOMSRI,
        "deed_type": "kys.volunteer_activity",
        "quantity": "3",
        "occurred_on": (TODAY - timedelta(days=3)).isoformat(),
        "province": "TH-10",
        "evidence": "cert",
        "external_id": "api-1",
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("sent", [1, "1", "1.0", 1.5, "1.50"])
def test_a_quantity_reads_the_same_in_the_first_answer_its_resend_and_a_get(
    client: TestClient, session: Session, demo: None, sent: object
) -> None:
    _actor, plain = key_actor(session, "demouniv", "deeds:write")
    auth = {"Authorization": f"Bearer {plain}"}
    first = client.post("/api/v1/deeds", json=api_deed(quantity=sent), headers=auth)
    again = client.post("/api/v1/deeds", json=api_deed(quantity=sent), headers=auth)
    read = client.get(f"/api/v1/deeds/{first.json()['id']}", headers=auth)
    assert (first.status_code, again.status_code, read.status_code) == (201, 200, 200)
    expected = "1.50" if "5" in str(sent) else "1.00"  # always two places, as a string
    assert [r.json()["quantity"] for r in (first, again, read)] == [expected] * 3


def test_api_single_and_batch(client: TestClient, session: Session, demo: None) -> None:
    _actor, plain = key_actor(session, "demouniv", "deeds:write", "deeds:verify")
    auth = {"Authorization": f"Bearer {plain}"}
    created = client.post("/api/v1/deeds", json=api_deed(), headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending"
    assert body["id_last4"] == SOMSRI[-4:]
    assert SOMSRI not in created.text
    assert client.post("/api/v1/deeds", json=api_deed(), headers=auth).status_code == 200
    conflict = client.post("/api/v1/deeds", json=api_deed(quantity="4"), headers=auth)
    assert conflict.status_code == 409
    assert conflict.json()["type"] == "/problems/conflict"
    bad = client.post(
        "/api/v1/deeds", json=api_deed(external_id="x", national_id="123"), headers=auth
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "#/national_id"
    assert "detail_th" in bad.json()["errors"][0]
    malformed = client.post("/api/v1/deeds", json=api_deed(quantity="three"), headers=auth)
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["pointer"] == "#/quantity"
    batch = {
        "deeds": [api_deed(external_id=f"b{i}", national_id=nid(i)) for i in range(5)]
        + [api_deed(external_id="b-bad", province="Atlantis"), api_deed()]
    }
    result = client.post("/api/v1/deeds", json=batch, headers=auth)
    assert result.status_code == 200
    summary = result.json()
    assert (summary["created"], summary["rejected"], summary["unchanged"], summary["conflict"]) == (
        5,
        1,
        1,
        0,
    )
    assert [r["index"] for r in summary["results"]] == list(range(7))
    assert summary["results"][5]["errors"][0]["pointer"] == "#/province"
    too_many = client.post("/api/v1/deeds", json={"deeds": [api_deed()] * 1001}, headers=auth)
    assert too_many.status_code == 422
    listed = client.get("/api/v1/deeds", params={"limit": 4}, headers=auth).json()
    assert len(listed["items"]) == 4
    rest = client.get(
        "/api/v1/deeds", params={"limit": 4, "cursor": listed["next_cursor"]}, headers=auth
    ).json()
    assert len(rest["items"]) == 2
    assert rest["next_cursor"] is None
    one = client.get("/api/v1/deeds", params={"external_id": "b3"}, headers=auth).json()["items"]
    assert [d["external_id"] for d in one] == ["b3"]
    pending = client.get("/api/v1/deeds/pending", headers=auth).json()
    assert len(pending) == 6
    verified = client.post("/api/v1/deeds/verify", json={"ids": [pending[0]["id"]]}, headers=auth)
    assert verified.json()[0]["credits"] == 30
    rejected = client.post(
        f"/api/v1/deeds/{pending[1]['id']}/reject", json={"reason": "no certificate"}, headers=auth
    )
    assert rejected.json()["status"] == "rejected"
    revoked = client.post(
        f"/api/v1/deeds/{pending[0]['id']}/revoke", json={"reason": "wrong person"}, headers=auth
    )
    assert revoked.json()["status"] == "revoked"
    _other, theirs = key_actor(session, "kys", "deeds:write")
    assert (
        client.get(
            f"/api/v1/deeds/{pending[2]['id']}", headers={"Authorization": f"Bearer {theirs}"}
        ).status_code
        == 404
    )


def test_concurrent_verification_keeps_tallies_exact(fresh_database_url: str) -> None:
    """Many verifiers at once, on the same citizens: incremental == rebuilt."""
    database = Database(create_db_engine(fresh_database_url))
    upgrade_engine(database.engine)
    with database.write_session() as session:
        load_demo(session)
        actor = key_actor(session, "demouniv", "deeds:write", "deeds:verify")[0]
        items = [
            deed(
                national_id=nid(i % 5),
                external_id=f"c{i}",
                quantity=Decimal(1),
                occurred_on=TODAY - timedelta(days=1 + i // 5),
            )
            for i in range(60)
        ]
        outcomes = service.record(session, actor, KEYER, RULES, items)
        ids = [o.deed["id"] for o in outcomes]  # type: ignore[index]
    errors: list[BaseException] = []

    def verify_some(part: list[uuid.UUID]) -> None:
        try:
            for deed_id in part:
                with database.write_session() as session:
                    service.verify(session, actor, RULES, [deed_id])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=verify_some, args=(ids[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.session() as session:
        assert session.scalar(select(func.count()).where(Deed.status == DeedStatus.VERIFIED)) == 60
        assert tallies.differences(session, RULES.academic_start) == []
        total = session.scalar(
            select(func.sum(Tally.credits)).where(
                Tally.subject == "virtue:volunteering", Tally.period == "lifetime"
            )
        )
        assert total == 600
    database.dispose()


def test_a_large_batch_is_stored_exactly(session: Session, hospital: Actor) -> None:
    """Batches of 100 rows or more take the bulk path (COPY on PostgreSQL)."""
    items = [
        deed(
            national_id=nid(i),
            deed_type="redcross.blood_donation",
            quantity=Decimal(1),
            occurred_on=TODAY - timedelta(days=1 + i % 30),
            province="TH-30",
            evidence=f"donation {i}",
            external_id=f"big-{i}",
        )
        for i in range(150)
    ]
    outcomes = record(session, hospital, *items)
    assert {o.result for o in outcomes} == {"created"}
    stored = session.scalars(select(Deed).where(Deed.external_id == "big-42")).one()
    assert stored.citizen_key == KEYER.key(nid(42))
    assert stored.status is DeedStatus.VERIFIED
    assert stored.credits == 10
    assert stored.quantity == Decimal(1)
    assert stored.occurred_on == TODAY - timedelta(days=1 + 42 % 30)
    assert stored.evidence == "donation 42"
    assert stored.recorded_at.tzinfo is not None
    assert session.scalar(select(func.count()).where(Deed.external_id.like("big-%"))) == 150
    assert tallies.differences(session, RULES.academic_start) == []
    again = record(session, hospital, *items)
    assert {o.result for o in again} == {"unchanged"}


def test_a_worker_sees_its_own_changes_at_once(
    client: TestClient, session: Session, database: Database, demo: None
) -> None:
    """The hot path keeps copies of keys, agencies and deed types for a few seconds;
    a change made in the same process must apply at once all the same."""
    assert database.snapshots.ttl > 0
    _actor, plain = key_actor(session, "demouniv", "deeds:write")
    auth = {"Authorization": f"Bearer {plain}"}
    assert client.post("/api/v1/deeds", json=api_deed(), headers=auth).status_code == 201
    # Retiring the deed type: the next deed of it is refused, not served from a copy.
    entry = session.get(DeedType, "kys.volunteer_activity")
    assert entry is not None
    catalog.retire(session, SYSTEM, entry, reason="replaced")
    refused = client.post("/api/v1/deeds", json=api_deed(external_id="api-2"), headers=auth)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "#/deed_type"
    # Revoking the key: refused at once.
    prefix = plain.split("_")[1]
    accounts.revoke_api_key(session, SYSTEM, prefix, reason="leaked")
    after = client.post("/api/v1/deeds", json=api_deed(external_id="api-3"), headers=auth)
    assert after.status_code == 401


def test_an_api_key_remembers_when_it_was_last_used(
    client: TestClient, session: Session, database: Database, demo: None
) -> None:
    key, plain = accounts.create_api_key(
        session, SYSTEM, get_agency(session, "demouniv"), "uni", ["deeds:write"]
    )
    assert key.last_used_at is None
    client.get("/api/v1/deeds", headers={"Authorization": f"Bearer {plain}"})
    with database.session() as other:  # as another request would read it
        stored = other.get(ApiKey, key.id)
        assert stored is not None
        assert stored.last_used_at is not None
