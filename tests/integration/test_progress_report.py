"""The progress report for the Prime Minister's office: the dashboard's figures
of a period as a Thai PDF with charts and tables and an XLSX, made in the
background from the dashboard's button and by `dcatalog report progress`, on
SQLite and PostgreSQL. Real figures (the demo data, a real snapshot refresh),
the real PDF read back as text, the XLSX read back with openpyxl."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from dcatalog.accounts.permissions import Role, Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import get_agency
from dcatalog.app import create_app
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import fiscal_year
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.deeds import service as deeds
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from dcatalog.problems import ValidationProblem
from dcatalog.schema import upgrade_engine
from dcatalog.stats import progress_report, service, snapshot
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY
from tests.factories import make_account, post_form, sign_in
from tests.helpers import run_cli

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

KEYER = CitizenKeyer(TEST_PEPPER.encode())
TODAY = today_in_thailand()
YEAR = fiscal_year(TODAY)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2570", "fy:2570"),
        (" 2570-Q1 ", "q:2570-1"),
        ("2570-q4", "q:2570-4"),
        ("2569-11", "m:2026-11"),
        ("2569-1", "m:2026-01"),
    ],
)
def test_periods_are_named_as_the_office_names_them(text: str, key: str) -> None:
    assert progress_report.period_key(text) == key


@pytest.mark.parametrize("text", ["", "2570-Q5", "2569-13", "2569-00", "Q1-2570", "70"])
def test_a_period_that_is_none_is_refused_with_the_reason(text: str) -> None:
    with pytest.raises(ValidationProblem) as found:
        progress_report.period_key(text)
    assert found.value.errors[0].pointer == "#/period"


@pytest.fixture
def national(fresh_database_url: str) -> Database:
    """The demo, plus 30 volunteers in this fiscal year (enough to show figures),
    with the dashboard's snapshot refreshed."""
    database = Database.from_url(fresh_database_url)
    upgrade_engine(database.engine)
    with database.write_session() as session:
        load_demo(session, with_accounts=True, keyer=KEYER)
        school = Actor.api_key(
            "uni",
            get_agency(session, "demouniv").id,
            frozenset({Scope.DEEDS_WRITE, Scope.DEEDS_VERIFY}),
        )
        rules = deeds.Rules(today=TODAY, max_age_days=730, academic_start=(5, 16))
        items = [
            deeds.DeedInput(
                with_check_digit(f"4{n:011d}"),
                "kys.volunteer_activity",
                Decimal(3),
                max(
                    TODAY - timedelta(days=2),
                    date(TODAY.year if TODAY.month >= 10 else TODAY.year - 1, 10, 1),
                ),
                "TH-10",
                "",
                f"national-{n}",
            )
            for n in range(30)
        ]
        outcomes = deeds.record(session, school, KEYER, rules, items)
        deeds.verify(session, school, rules, [o.deed["id"] for o in outcomes if o.deed])
        session.commit()
    snapshot.refresh(database, "test", everything=True)
    return database


def _pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def test_the_report_says_what_the_dashboard_says(national: Database) -> None:
    period = f"fy:{YEAR}"
    with national.session() as session:
        report, pdf, xlsx = progress_report.build(session, period, "th")
        dashboard = service.dashboard(session, service.Filters(period))
    assert dashboard.total.deeds is not None
    assert dashboard.total.deeds >= 30  # real figures, shown
    total = f"{dashboard.total.deeds:,}"
    text = _pdf_text(pdf)
    assert f"ปีงบประมาณ {YEAR}" in text  # Thai, typeset (the font's glyphs, not boxes)
    assert total in text
    assert "จิตอาสา" in text
    book = load_workbook(io.BytesIO(xlsx))
    months = book.worksheets[1]
    header = [c.value for c in months[1]]
    last = next(line for line in months.iter_rows(values_only=True) if line[0] == "รวม")
    assert last[header.index(report.context["tables"]["month"]["columns"][0].title)] == (
        dashboard.total.deeds
    )
    # A figure the dashboard hides stays hidden in the report: never a number.
    hidden_rows = [
        (name, row)
        for name, table in report.context["tables"].items()
        for row in table["rows"]
        if row.hidden
    ]
    assert hidden_rows, "the demo's small cells should be hidden somewhere"
    sheet_of = dict(zip(progress_report.TABLES, book.worksheets[1:], strict=True))
    for name, row in hidden_rows:
        keys = [c.key for c in report.context["tables"][name]["columns"]]
        values = next(
            [c.value for c in line]
            for line in sheet_of[name].iter_rows()
            if line[0].value == row.label
        )
        # (a deed type's row has no quantity in the other units: an empty cell)
        deeds_figures = [
            v
            for k, v in zip(keys, values[1:-1], strict=True)  # (the last: the note)
            if "claim" not in k and not (name == "deed_type" and k.startswith("unit:") and not v)
        ]
        assert deeds_figures
        # Never a number, and never text in a numeric column: the cell is empty and
        # the row's note says why ("<10", explained under the table).
        assert all(v is None for v in deeds_figures), (name, row.label, values)
        assert values[-1] == "<10", (name, row.label, values)


def test_the_report_opens_with_a_cover_a_summary_against_the_year_before_and_a_map(
    national: Database,
) -> None:
    """Page 1 is a cover (the office, the title, the period, the contents); page 2 the
    executive summary: each headline figure beside the year before's, with its change;
    the map is drawn inside the PDF (its provinces coloured, the legend beside it)."""
    period = f"fy:{YEAR}"
    with national.session() as session:
        report, pdf, _xlsx = progress_report.build(session, period, "th")
        now = service.figures(session, service.Filters(period), "month").total
        before = service.figures(session, service.Filters(f"fy:{YEAR - 1}"), "month").total
    document = pdfium.PdfDocument(pdf)
    pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    # (Text read back from the PDF garbles some Thai vowels, "า" and "ำ", in places:
    # lines are found by words without them.)
    cover = pages[0]
    assert "ป.ย.ป. · ศูนย์คุณธรรม" in cover
    assert "ส่งเสริม" in cover
    assert f"ปีงบประมาณ {YEAR}" in cover
    assert "ผู้บริหาร" in cover  # the contents
    assert "วิธีนับตัวเลขเหล่านี้" in cover
    summary = pages[1]
    assert "สรุป" in summary.splitlines()[0]  # the summary's heading opens page 2
    assert f"ปีงบประมาณ {YEAR - 1}" in summary  # the column of the year before
    rows = {c.title: c for c in report.context["summary"]["comparisons"]}
    deeds = rows["ความดีที่ได้รับการรับรอง"]
    assert deeds.now == f"{now.deeds:,}"
    assert deeds.before == ("<10" if before.hidden else f"{before.deeds or 0:,}")
    if not before.hidden and before.deeds:
        change = (now.deeds - before.deeds) * 100 / before.deeds  # type: ignore[operator]
        assert deeds.change == f"{'+' if change > 0 else '−'}{abs(change):,.1f}%"
    else:  # nothing to compare with: a dash, never a division by zero
        assert deeds.change == ""
    sentences = report.context["summary"]["sentences"]
    assert sentences[0].startswith(f"ความดีที่ได้รับการรับรอง {now.deeds:,} ครั้ง")
    assert f"{now.deeds:,} ครั้ง" in summary
    assert sentences[-1].startswith("มีผู้ร่วมทำความดีใน")
    # The map: every province a coloured path of the PDF's own SVG, Bangkok's as the page's.
    svg = str(report.context["map_svg"])
    assert svg.count("<path") >= 77
    bangkok = next(p for p in report.context["map"]["provinces"] if p["code"] == "TH-10")
    assert f'id="bkk" fill="{bangkok["fill"]}"' in svg
    assert any("จังหวัด" in page and "ไม่มีข้อมูล" in page for page in pages)  # map, legend
    assert "วิธีนับตัวเลข" in pages[-1]  # the method note closes the report


def test_the_xlsx_is_what_a_civil_servant_expects(national: Database) -> None:
    with national.session() as session:
        report, _pdf, xlsx = progress_report.build(session, f"fy:{YEAR}", "th")
    book = load_workbook(io.BytesIO(xlsx))
    about = book.worksheets[0]
    about_text = " ".join(str(c.value) for line in about.iter_rows() for c in line if c.value)
    assert about.title == "เกี่ยวกับรายงาน"
    assert f"{YEAR}" in about_text  # the period and the dates in the Buddhist Era
    assert str(today_in_thailand().year + 543) in about_text
    assert "T" not in str(about["B3"].value)  # not an ISO UTC timestamp
    # The executive summary, as in the PDF: each headline figure, as a number.
    rows = {line[0]: line for line in about.iter_rows(values_only=True) if line[0]}
    assert "สรุปสำหรับผู้บริหาร" in rows
    deeds = next(
        c for c in report.context["summary"]["comparisons"] if c.title == "ความดีที่ได้รับการรับรอง"
    )
    assert rows["ความดีที่ได้รับการรับรอง"][1] == int(deeds.now.replace(",", ""))
    for name, sheet in zip(progress_report.TABLES, book.worksheets[1:], strict=True):
        table = report.context["tables"][name]
        assert sheet.freeze_panes == "B2", name  # the heading row and the labels stay
        widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
        assert all(w and w >= 8 for w in widths), (name, widths)  # every column fits
        for line in sheet.iter_rows(min_row=2, max_row=len(table["rows"]) + 2):
            for cell in line[1 : len(table["columns"]) + 1]:
                assert not isinstance(cell.value, str), (name, cell.coordinate, cell.value)
                if cell.value is not None:
                    assert cell.number_format in ("#,##0", "#,##0.00"), cell.number_format
        assert sheet._charts, f"{name}: a native chart of its main column"
        notes = " ".join(str(c.value) for c in sheet["A"] if c.value)
        assert "<10" in notes or not any(r.hidden for r in table["rows"])  # the footnote


def test_the_office_makes_it_from_the_dashboard_and_agencies_cannot(
    national: Database, settings: Settings
) -> None:
    app = create_app(settings, database=national)
    with national.session() as session:
        office = make_account(session, Role.PROGRAM_ADMIN, None)
        partner = make_account(session, Role.AGENCY_ADMIN, get_agency(session, "kys"))
        session.commit()
    with TestClient(app) as client:
        sign_in(client, office.email)
        refused = post_form(
            client, "/admin/reports/progress", {"period": "2570-Q9"}, page="/admin/reports/progress"
        )
        assert refused.status_code == 422
        assert "2570-Q1" in refused.text  # the message says how to write it
        started = post_form(
            client, "/admin/reports/progress", {"period": str(YEAR)}, page="/admin/reports/progress"
        )
        assert started.status_code == 303
        job = client.get(started.headers["location"])
        assert 'data-status="done"' in job.text
        pdf = client.get(started.headers["location"] + "/report.pdf")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert f"progress-report-fy-{YEAR}.pdf" in pdf.headers["content-disposition"]
        xlsx = client.get(started.headers["location"] + "/report.xlsx")
        assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[0]
        assert client.get(started.headers["location"] + "/report.exe").status_code == 404
        job_path = started.headers["location"]
    with TestClient(app) as other:
        sign_in(other, partner.email)
        assert other.get("/admin/reports/progress").status_code == 403
        assert other.get(job_path).status_code == 403
        assert other.get(job_path + "/report.pdf").status_code == 403


def test_the_command_line_writes_both_files(
    national: Database, fresh_database_url: str, tmp_path: Path
) -> None:
    env = {
        "DCATALOG_DATABASE_URL": fresh_database_url,
        "DCATALOG_INSTANCE_DIR": str(tmp_path / "var"),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
    }
    out = tmp_path / "report.pdf"
    done = run_cli("report", "progress", "--period", f"{YEAR}-Q1", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
    assert load_workbook(out.with_suffix(".xlsx")).sheetnames[0]
    bad = run_cli("report", "progress", "--period", "soon", env=env)
    assert bad.returncode == 1
    assert "2570-Q1" in bad.stderr
