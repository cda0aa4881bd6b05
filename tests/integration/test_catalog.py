"""The catalog: drafting, approval, versions, public reading; service, API and pages."""

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM
from dcatalog.audit.models import AuditEvent
from dcatalog.catalog import service
from dcatalog.catalog.models import DeedType
from dcatalog.catalog.schemas import DeedTypeFields, NewDeedType
from dcatalog.demo.service import load_demo
from dcatalog.problems import Conflict, Forbidden, NotFound, ValidationProblem
from dcatalog.review import ReviewStatus
from tests.factories import deed_type_fields, make_account, make_agency, post_form, sign_in


@pytest.fixture
def kys_admin(session: Session):  # type: ignore[no-untyped-def]
    kys = make_agency(session, "kys")
    return kys, accounts.actor_for(make_account(session, Role.AGENCY_ADMIN, kys))


def _fields(**overrides: object) -> DeedTypeFields:
    data = deed_type_fields(**overrides)
    data.pop("name")
    return DeedTypeFields(**data)  # type: ignore[arg-type]


def test_lifecycle_draft_submit_approve_new_version(session: Session, kys_admin) -> None:  # type: ignore[no-untyped-def]
    kys, admin = kys_admin
    entry = service.create_deed_type(session, admin, kys, NewDeedType(**deed_type_fields()))
    assert entry.code == "kys.tree_planting"
    assert entry.in_force is None
    with pytest.raises(NotFound):
        service.get_public(session, entry.code)
    service.save_draft(session, admin, entry, _fields(credits_per_unit=6))
    assert [v.version for v in entry.versions] == [1]  # drafts are edited in place
    service.submit(session, admin, entry)
    with pytest.raises(Conflict, match="programme office"):
        service.save_draft(session, admin, entry, _fields())
    with pytest.raises(Forbidden):
        service.approve(session, admin, entry, 1)  # agencies don't approve themselves
    service.approve(session, SYSTEM, entry, 1, note="fine")
    assert service.get_public(session, entry.code).in_force.credits_per_unit == 6  # type: ignore[union-attr]

    # Changing an approved entry starts version 2; version 1 stays in force meanwhile.
    draft = service.save_draft(session, admin, entry, _fields(credits_per_unit=8))
    assert draft.version == 2
    assert entry.in_force.version == 1  # type: ignore[union-attr]
    changes = service.diff(entry.in_force, draft)
    assert [(c.field, c.before, c.after) for c in changes] == [("credits_per_unit", 6, 8)]
    service.submit(session, admin, entry)
    with pytest.raises(ValidationProblem, match="Say what"):
        service.send_back(session, SYSTEM, entry, 2, note=" ")
    service.send_back(session, SYSTEM, entry, 2, note="8 is too many")
    assert entry.open_version.status is ReviewStatus.DRAFT  # type: ignore[union-attr]
    service.submit(session, admin, entry)
    service.approve(session, SYSTEM, entry, 2)
    statuses = {v.version: v.status for v in entry.versions}
    assert statuses == {1: ReviewStatus.SUPERSEDED, 2: ReviewStatus.APPROVED}
    service.retire(session, SYSTEM, entry, reason="replaced by a broader entry")
    with pytest.raises(NotFound):
        service.get_public(session, entry.code)
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "deed_type_version")
    ).all()
    assert actions.count("deed_type.approve") == 2
    assert "deed_type.retire" in actions
    assert "deed_type.supersede" in actions


def test_agencies_cannot_touch_each_others_entries(session: Session, kys_admin) -> None:  # type: ignore[no-untyped-def]
    kys, admin = kys_admin
    redcross = make_agency(session, "redcross", "ngo")
    other = accounts.actor_for(make_account(session, Role.AGENCY_ADMIN, redcross))
    entry = service.create_deed_type(session, admin, kys, NewDeedType(**deed_type_fields()))
    with pytest.raises(NotFound):
        service.save_draft(session, other, entry, _fields())
    with pytest.raises(NotFound):
        service.submit(session, other, entry)
    with pytest.raises(NotFound):
        service.create_deed_type(session, other, kys, NewDeedType(**deed_type_fields(name="x_y")))
    recorder = accounts.actor_for(make_account(session, Role.RECORDER, kys))
    with pytest.raises(Forbidden):
        service.save_draft(session, recorder, entry, _fields())


def test_references_are_checked(session: Session, kys_admin) -> None:  # type: ignore[no-untyped-def]
    kys, admin = kys_admin
    bad = NewDeedType(
        **deed_type_fields(virtue="kindness", unit="parsec", recorders=["nosuch", "kind:club"])
    )
    with pytest.raises(ValidationProblem) as caught:
        service.create_deed_type(session, admin, kys, bad)
    pointers = {e.pointer for e in caught.value.errors}
    assert pointers == {"#/virtue", "#/unit", "#/recorders/0", "#/recorders/1"}
    assert session.scalar(select(DeedType)) is None  # nothing half-written


def test_who_may_record(session: Session) -> None:
    load_demo(session)
    volunteer = service.get_public(session, "kys.volunteer_activity")
    blood = service.get_public(session, "redcross.blood_donation")
    agencies = {
        a.code: a
        for a in __import__("dcatalog.agencies.service", fromlist=["x"]).list_agencies(session)
    }
    assert service.may_record(
        volunteer.in_force.recorders, volunteer.owner_agency_id, agencies["demouniv"]
    )  # type: ignore[arg-type]
    assert service.may_record(
        volunteer.in_force.recorders, volunteer.owner_agency_id, agencies["kys"]
    )  # type: ignore[arg-type]
    assert not service.may_record(
        volunteer.in_force.recorders, volunteer.owner_agency_id, agencies["redcross"]
    )  # type: ignore[arg-type]
    assert service.may_record(
        blood.in_force.recorders, blood.owner_agency_id, agencies["korat_hospital"]
    )  # type: ignore[arg-type]
    assert not service.may_record(
        blood.in_force.recorders, blood.owner_agency_id, agencies["demouniv"]
    )  # type: ignore[arg-type]


def test_demo_catalog_has_the_first_partners_entries(session: Session) -> None:
    load_demo(session)
    codes = [t.code for t in service.search_public(session)]
    assert codes == sorted(
        [
            "kys.volunteer_activity",
            "redcross.blood_donation",
            "redcross.platelet_donation",
            "redcross.plasma_donation",
            "thaihealth.activity_challenge",
            "thaihealth.lent_abstention",
        ]
    )
    blood = service.get_public(session, "redcross.blood_donation").in_force
    assert blood is not None
    assert blood.min_days_between == 84
    volunteer = service.get_public(session, "kys.volunteer_activity").in_force
    assert volunteer is not None
    assert volunteer.max_per_day == Decimal("12.00")
    assert volunteer.unit == "hour"


# --- the API ----------------------------------------------------------------------------


def test_public_api_search_and_pagination(client: TestClient, session: Session) -> None:
    load_demo(session)
    first = client.get("/api/v1/catalog/deed-types", params={"limit": 4})
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 4
    second = client.get(
        "/api/v1/catalog/deed-types", params={"limit": 4, "cursor": page["next_cursor"]}
    ).json()
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    codes = [i["code"] for i in page["items"] + second["items"]]
    assert codes == sorted(codes)
    assert len(set(codes)) == 6
    health = client.get("/api/v1/catalog/deed-types", params={"virtue": "health"}).json()["items"]
    assert {i["code"] for i in health} == {
        "thaihealth.activity_challenge",
        "thaihealth.lent_abstention",
    }
    found = client.get("/api/v1/catalog/deed-types", params={"q": "โลหิตรวม"}).json()["items"]
    assert [i["code"] for i in found] == ["redcross.blood_donation"]
    by_agency = client.get("/api/v1/catalog/deed-types", params={"agency": "kys"}).json()["items"]
    assert [i["owner"]["code"] for i in by_agency] == ["kys"]
    one = client.get("/api/v1/catalog/deed-types/redcross.blood_donation").json()
    assert one["min_days_between"] == 84
    assert one["health_related"] is True
    assert one["version"] == 1
    missing = client.get("/api/v1/catalog/deed-types/redcross.nothing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    virtues = client.get("/api/v1/catalog/virtues").json()
    assert [v["code"] for v in virtues][:2] == ["sufficiency", "discipline"]


def test_api_drafting_with_a_key(client: TestClient, session: Session) -> None:
    kys = make_agency(session, "kys")
    redcross = make_agency(session, "redcross", "ngo")
    _k, key = accounts.create_api_key(session, SYSTEM, kys, "catalog tool", ["catalog:write"])
    _k, other = accounts.create_api_key(session, SYSTEM, redcross, "theirs", ["catalog:write"])
    _k, weak = accounts.create_api_key(session, SYSTEM, kys, "deeds only", ["deeds:write"])
    auth = {"Authorization": f"Bearer {key}"}
    created = client.post("/api/v1/catalog/deed-types", json=deed_type_fields(), headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"
    again = client.post("/api/v1/catalog/deed-types", json=deed_type_fields(), headers=auth)
    assert again.status_code == 409
    invalid = client.post(
        "/api/v1/catalog/deed-types",
        headers=auth,
        json=deed_type_fields(credits_per_unit=-1, name="Bad Name"),
    )
    assert invalid.status_code == 422
    assert {e["pointer"] for e in invalid.json()["errors"]} == {"#/credits_per_unit", "#/name"}
    forbidden = client.post(
        "/api/v1/catalog/deed-types",
        json=deed_type_fields(name="z_z"),
        headers={"Authorization": f"Bearer {weak}"},
    )
    assert forbidden.status_code == 403
    body = {k: v for k, v in deed_type_fields(credits_per_unit=7).items() if k != "name"}
    theirs = client.put(
        "/api/v1/catalog/deed-types/kys.tree_planting/draft",
        json=body,
        headers={"Authorization": f"Bearer {other}"},
    )
    assert theirs.status_code == 404
    saved = client.put(
        "/api/v1/catalog/deed-types/kys.tree_planting/draft", json=body, headers=auth
    )
    assert saved.json()["credits_per_unit"] == 7
    submitted = client.post("/api/v1/catalog/deed-types/kys.tree_planting/submit", headers=auth)
    assert submitted.json()["status"] == "submitted"
    assert client.get("/api/v1/catalog/deed-types/kys.tree_planting").status_code == 404
    entry = service.get_deed_type(session, "kys.tree_planting")
    service.approve(session, SYSTEM, entry, 1)
    public = client.get("/api/v1/catalog/deed-types/kys.tree_planting").json()
    assert public["status"] == "approved"
    assert (
        client.get(
            "/api/v1/catalog/deed-types/kys.tree_planting", params={"version": 1}
        ).status_code
        == 200
    )
    assert (
        client.get(
            "/api/v1/catalog/deed-types/kys.tree_planting", params={"version": 2}
        ).status_code
        == 404
    )


# --- the pages ----------------------------------------------------------------------------


def test_public_catalog_pages(client: TestClient, session: Session) -> None:
    load_demo(session)
    page = client.get("/catalog")
    assert page.status_code == 200
    assert "บริจาคโลหิต (โลหิตรวม)" in page.text
    assert "6 ประเภท" in page.text
    partial = client.get("/catalog", params={"q": "พรรษา"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text
    assert "งดเหล้าครบพรรษา" in partial.text
    assert "บริจาคโลหิต" not in partial.text
    detail = client.get("/catalog/redcross.blood_donation").text
    assert "อย่างน้อย 84 วัน" in detail
    assert "โรงพยาบาลมหาราชนครราชสีมา" in detail  # who may record it
    assert "สภากาชาดไทย" in detail
    assert client.get("/catalog/redcross.nothing").status_code == 404


def test_drafting_and_approval_on_the_pages(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    kys = make_agency(session, "kys")
    agency_admin = make_account(session, Role.AGENCY_ADMIN, kys)
    office = make_account(session, Role.PROGRAM_ADMIN)
    with TestClient(app) as staff, TestClient(app) as program:
        sign_in(staff, agency_admin.email)
        form = deed_type_fields()
        form["recorders"] = "kind:school"
        form["evidence_required"] = "on"
        created = post_form(staff, "/staff/deed-types/new", form, page="/staff/deed-types/new")
        assert created.status_code == 303, created.text
        bad = post_form(
            staff,
            "/staff/deed-types/new",
            {**form, "name": "other", "credits_per_unit": "x"},
            page="/staff/deed-types/new",
        )
        assert bad.status_code == 422
        submitted = post_form(
            staff, "/staff/deed-types/kys.tree_planting/submit", {}, page="/staff/deed-types"
        )
        assert submitted.status_code == 303
        sign_in(program, office.email)
        queue = program.get("/admin/catalog").text
        assert "ปลูกต้นไม้" in queue
        review = program.get("/admin/catalog/kys.tree_planting/1").text
        assert "เครดิตต่อหน่วย" in review
        approved = post_form(
            program,
            "/admin/catalog/kys.tree_planting/1/decision",
            {"decision": "approve", "note": ""},
            page="/admin/catalog",
        )
        assert approved.status_code == 303
        # The confirmation names the entry and the decision in Thai, not its code.
        confirmed = program.get(approved.headers["location"]).text
        assert "อนุมัติแล้ว: ปลูกต้นไม้" in confirmed
        assert "kys.tree_planting แล้ว" not in confirmed
        assert '<th scope="row">ปลูกต้นไม้<br>' in confirmed  # the whole catalog, by name
    assert "ปลูกต้นไม้" in TestClient(app).get("/catalog", params={"q": "ต้นไม้"}).text


def test_bulk_file_template_per_deed_type(client: TestClient, session: Session) -> None:
    load_demo(session)
    response = client.get("/catalog/kys.volunteer_activity/template.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "kys.volunteer_activity-template.csv" in response.headers["content-disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "เลขประจำตัวประชาชน,ประเภทความดี,จำนวน,วันที่,จังหวัด,หลักฐาน,รหัสอ้างอิง"
    assert client.get("/catalog/kys.nothing/template.csv").status_code == 404
