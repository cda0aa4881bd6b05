"""Staff pages for deeds: record one, verify the queue; the ID is never echoed."""

import re
import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens.disclosure import access_log
from dcatalog.citizens.service import REVIEW_PURPOSE
from dcatalog.deeds.models import Deed, DeedStatus
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from tests.conftest import TEST_PEPPER
from tests.factories import make_account, post_form, sign_in

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

TODAY = today_in_thailand()
NID = with_check_digit("510370012345")


def form(**overrides: str) -> dict[str, str]:
    day = TODAY - timedelta(days=2)
    values = {
        "national_id": NID,
        "deed_type": "kys.volunteer_activity",
        "quantity": "๔",
        "occurred_on": f"{day.day:02d}/{day.month:02d}/{day.year + 543}",
        "province": "TH-50",
        "evidence": "ใบรับรอง 12/2569",
        "external_id": "page-1",
    }
    values.update(overrides)
    return values


THAI_NAME = "กิจกรรมจิตอาสา (ชั่วโมงจิตอาสา กยศ.)"  # kys.volunteer_activity in the demo


def test_record_then_verify_on_the_pages(app: FastAPI, session: Session) -> None:
    load_demo(session)
    university = get_agency(session, "demouniv")
    recorder = make_account(session, Role.RECORDER, university)
    verifier = make_account(session, Role.VERIFIER, university)
    with TestClient(app) as client:
        sign_in(client, recorder.email)
        page = client.get("/staff/deeds/record").text
        assert "kys.volunteer_activity" in page
        assert "redcross.blood_donation" not in page  # a school may not record it
        done = post_form(client, "/staff/deeds/record", form(), page="/staff/deeds/record")
        assert done.status_code == 201
        assert "รอตรวจรับรอง" in done.text
        again = post_form(client, "/staff/deeds/record", form(), page="/staff/deeds/record")
        assert again.status_code == 200
        assert "เคยบันทึกแล้ว" in again.text
        bad = post_form(
            client,
            "/staff/deeds/record",
            form(national_id=NID[:-1] + "0", external_id="page-2"),
            page="/staff/deeds/record",
        )
        assert bad.status_code == 422
        assert "หลักตรวจสอบไม่ตรง" in bad.text
        assert NID[:-1] not in bad.text  # the ID is not put back into the form
        assert client.get("/staff/deeds/queue").status_code == 403
    with TestClient(app) as client:
        sign_in(client, verifier.email)
        queue = client.get("/staff/deeds/queue").text
        assert "page-1" in queue
        assert NID[-4:] in queue
        assert NID not in queue
        deed_id = re.search(r'name="ids" value="([0-9a-f-]+)"', queue).group(1)  # type: ignore[union-attr]
        verified = post_form(
            client, "/staff/deeds/queue/verify", {"ids": [deed_id]}, page="/staff/deeds/queue"
        )
        assert verified.status_code == 303
    deed = session.scalars(select(Deed)).one()
    session.refresh(deed)
    assert deed.status is DeedStatus.VERIFIED
    assert deed.credits == 40


def test_api_import(app: FastAPI, session: Session) -> None:
    """The API answers 202 with the import job's address; its result there accounts
    for every row (test_import_jobs.py has the page's side and the workers')."""
    load_demo(session)
    university = get_agency(session, "demouniv")
    day = TODAY - timedelta(days=3)
    content = (
        "national_id,deed_type,quantity,occurred_on,province,evidence,external_id\n"
        f"{NID},kys.volunteer_activity,2,{day.isoformat()},TH-10,,u-1\n"
        f"{NID},kys.volunteer_activity,2,{day.isoformat()},Atlantis,,u-2\n"
    ).encode("utf-8-sig")
    _key, plain = accounts.create_api_key(session, SYSTEM, university, "import", ["deeds:write"])
    client, auth = TestClient(app), {"Authorization": f"Bearer {plain}"}
    api = client.post(
        "/api/v1/deeds/import", headers=auth, files={"file": ("hours.csv", content, "text/csv")}
    )
    assert api.status_code == 202, api.text  # a job: follow its address
    location = api.headers["location"]
    assert location == f"/api/v1/deeds/imports/{api.json()['id']}"
    job = client.get(location, headers=auth).json()  # the test queue ran it at once
    assert (job["status"], job["file_name"], job["rows_done"]) == ("done", "hours.csv", 2)
    body = job["result"]
    assert (body["rows"], body["imported"], body["unchanged"], body["rejected"]) == (2, 1, 0, 1)
    assert body["errors"][0]["column"] == "province"
    assert body["errors"][0]["external_id"] == "u-2"
    listed = client.get("/api/v1/deeds/imports", headers=auth).json()
    assert [(j["id"], j["result"]["imported"]) for j in listed] == [(api.json()["id"], 1)]
    # Another agency does not see it; an unknown id is a problem document too.
    fund = get_agency(session, "kys")
    _other_key, other = accounts.create_api_key(session, SYSTEM, fund, "other", ["deeds:write"])
    session.commit()
    hidden = client.get(location, headers={"Authorization": f"Bearer {other}"})
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")


def test_the_office_reviews_a_pair_and_the_agencies_see_only_their_own(
    app: FastAPI, session: Session
) -> None:
    """The second agency's answer says "held for review"; the office sees both records,
    its look is in the person's access log, and its decision counts the deed."""
    load_demo(session)
    keys = {
        code: accounts.create_api_key(session, SYSTEM, get_agency(session, code), code, scopes)[1]
        for code, scopes in (
            ("demouniv", ["deeds:write"]),
            ("kys", ["deeds:write", "deeds:verify"]),
        )
    }
    office = make_account(session, Role.PROGRAM_ADMIN)
    session.commit()
    day = (TODAY - timedelta(days=4)).isoformat()
    body = {
        "national_id": NID,
        "deed_type": "kys.volunteer_activity",
        "quantity": "2",
        "occurred_on": day,
        "province": "TH-10",
        "evidence": "university certificate 7/2569",
    }
    with TestClient(app) as client:
        first = client.post(
            "/api/v1/deeds",
            json={**body, "external_id": "u-1"},
            headers={"authorization": f"Bearer {keys['demouniv']}"},
        ).json()
        second = client.post(
            "/api/v1/deeds",
            json={**body, "evidence": "fund form 3", "external_id": "k-1"},
            headers={"authorization": f"Bearer {keys['kys']}"},
        )
        assert second.status_code == 201, second.text
        held = second.json()
        assert held["status"] == "pending"
        assert held["status_reason"] == "held for review by the programme office"
        assert first["id"] not in second.text
        assert "university certificate" not in second.text
        refused = client.post(
            "/api/v1/deeds/verify",
            json={"ids": [held["id"]]},
            headers={"authorization": f"Bearer {keys['kys']}"},
        )
        assert refused.status_code == 409
        sign_in(client, office.email)
        page = client.get("/admin/duplicates")
        assert page.status_code == 200
        assert "university certificate 7/2569" in page.text
        assert "fund form 3" in page.text
        assert THAI_NAME in page.text  # the deed type by its name, not its code
        assert "<code>kys.volunteer_activity</code>" not in page.text
        counted = post_form(
            client, f"/admin/duplicates/{held['id']}/count", {}, page="/admin/duplicates"
        )
        assert counted.status_code == 303
        confirmed = client.get(counted.headers["location"]).text
        assert f"นับแล้ว: {THAI_NAME}" in confirmed  # what was decided, in Thai
    stored = session.get(Deed, uuid.UUID(held["id"]))
    assert stored is not None
    session.refresh(stored)
    assert stored.status is DeedStatus.VERIFIED
    citizen_key = CitizenKeyer(TEST_PEPPER.encode()).key(NID)
    assert REVIEW_PURPOSE in [line.purpose for line in access_log(session, citizen_key)]
