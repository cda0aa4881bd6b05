"""The school clerk's journey in a real browser, in Thai, on a phone (SQLite) and on a
desktop (PostgreSQL):
the recorder downloads the template from the import page, uploads 3,000 volunteer
rows with 50 mistakes of five kinds, sees a partial success with the Thai reasons,
downloads the rows to fix, fixes them and uploads that file as it is; the verifier
works the queue (count, pages, filters, type names), verifies a page and rejects a
student's deed with a reason from the list, which the student reads in Thai."""

import csv
import io
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.demo.data import DEMO_PASSWORD, DEMO_STUDENT_BORN, DEMO_STUDENT_ID
from dcatalog.identity.national_id import with_check_digit
from tests.browser.test_catalog_story import sign_in, sign_out

pytestmark = pytest.mark.browser
SHOTS = Path(tempfile.gettempdir()) / "shots-clerk"  # looked at by people, not asserted
TODAY = today_in_thailand()
ROWS = 3000
MISTAKE_AT = range(30, ROWS, 60)  # 50 rows, five kinds in turn
FORMULA = '=HYPERLINK("http://evil.example/","click")'
STUDENT_DAY = TODAY - timedelta(days=45)  # a day nobody else in the file has
TYPE_TH = "กิจกรรมจิตอาสา (ชั่วโมงจิตอาสา กยศ.)"


def be(day: object) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543}"  # type: ignore[attr-defined]


def good(n: int) -> list[str]:
    if n == 0:  # the demo student, who signs in at the end
        return [DEMO_STUDENT_ID, "kys.volunteer_activity", "2", be(STUDENT_DAY), "TH-10", "ใบรับรอง 0", "j-0"]  # fmt: skip
    day = TODAY - timedelta(days=1 + n % 30)
    person = with_check_digit(f"6{n:011d}")
    return [person, "kys.volunteer_activity", "2", be(day), "TH-50", f"ใบรับรอง {n}", f"j-{n}"]


def with_mistake(n: int, kind: int) -> list[str]:
    cells = good(n)
    if kind == 0:  # a typo in the ID: the check digit does not match
        cells[0] = cells[0][:-1] + str((int(cells[0][-1]) + 1) % 10)
    elif kind == 1:
        cells[1] = "kys.volunteer"  # an unknown deed type
    elif kind == 2:
        cells[3] = "30/02/2569"  # no such day
    elif kind == 3:
        cells[2] = "-2"  # negative hours
    else:
        cells[0] = FORMULA  # formula text where the ID goes
    return cells


def clerk_file(heading: list[str]) -> bytes:
    rows = [good(n) for n in range(ROWS)]
    for index, n in enumerate(MISTAKE_AT):
        rows[n] = with_mistake(n, index % 5)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(heading)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def shot(page: Page, name: str, width: int, backend: str) -> None:
    page.screenshot(path=SHOTS / f"{name}-{width}-{backend}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name


def wait_until_done(page: Page) -> None:
    # The page polls the import as a person would reload it: a generous, bounded wait.
    expect(page.locator("#import-job")).to_have_attribute("data-status", "done", timeout=240_000)


# Each width once and each database once: the layout is the browser's, the import
# and the queue the database's.
WIDTH = {"sqlite": 390, "postgresql": 1280}


def test_the_clerks_journey(browser: Browser, server: str, backend: str, tmp_path: Path) -> None:
    width = WIDTH[backend]
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="th-TH", accept_downloads=True
    )
    page = context.new_page()

    # 1. The recorder signs in and opens the import page.
    sign_in(page, server, "recorder@demouniv.demo", DEMO_PASSWORD)
    shot(page, "staff-home", width, backend)
    page.get_by_role("link", name="นำเข้าไฟล์ข้อมูลความดี").first.click()
    expect(page.get_by_role("heading", name="แบบฟอร์มสำหรับนำเข้า")).to_be_visible()
    shot(page, "import-page", width, backend)

    # 2. The template of the deed type, with Thai headings and an example that passes.
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(f"แบบฟอร์ม {re.escape(TYPE_TH)} \\(CSV\\)")).click()
    template = Path(download.value.path()).read_text(encoding="utf-8-sig")
    heading, example = list(csv.reader(io.StringIO(template)))
    assert heading == ["เลขประจำตัวประชาชน", "ประเภทความดี", "จำนวน", "วันที่", "จังหวัด", "หลักฐาน", "รหัสอ้างอิง"]  # fmt: skip
    assert example[1] == "kys.volunteer_activity"

    # 3. 3,000 rows with 50 mistakes: a partial success, with the rows to fix in Thai.
    source = tmp_path / "ชั่วโมงจิตอาสา-2569.csv"
    source.write_bytes(clerk_file(heading))
    page.get_by_label("ไฟล์", exact=True).set_input_files(source)
    page.get_by_role("button", name="นำเข้า", exact=True).click()
    wait_until_done(page)
    job = page.locator("#import-job")
    outcome = job.get_by_test_id("import-outcome")
    expect(outcome).to_contain_text("นำเข้าแล้ว 2,950 แถว · 50 แถวต้องแก้ไข")
    expect(outcome).to_have_class(re.compile("alert-ok"))
    expect(job.get_by_test_id("count-rejected")).to_have_text("50")
    table = job.locator("table")
    for reason in (
        "เลขประจำตัวประชาชนไม่ถูกต้อง (หลักตรวจสอบไม่ตรง)",
        "'kys.volunteer' ไม่ใช่ประเภทความดีที่อนุมัติแล้วในบัญชีความดี",
        "ไม่มีวันนี้ในปฏิทิน",
        "ต้องมากกว่า 0",
        "เลขประจำตัวประชาชนต้องเป็นตัวเลขเท่านั้น",
    ):
        expect(table).to_contain_text(reason)
    expect(table).to_contain_text("ประเภทความดี")  # columns named as the template names them
    expect(table).not_to_contain_text("national_id")
    shot(page, "import-partial", width, backend)

    # 4. The rows to fix, as uploaded, with the reason; fixed and uploaded as they are.
    with page.expect_download() as download:
        job.get_by_role("link", name="ดาวน์โหลดแถวที่ต้องแก้ไข (CSV)").click()
    lines = list(
        csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig")))
    )
    assert lines[0] == [*heading, "เหตุที่ไม่รับ"]
    refused = lines[1:]
    assert len(refused) == 50
    assert all(r[-1].startswith("แถว ") for r in refused)
    assert any(r[0] == "'" + FORMULA for r in refused)  # neutralised for the spreadsheet
    fixed = []
    for cells in refused:
        n = int(cells[6].removeprefix("j-"))
        fixed.append([*good(n)[:4], *cells[4:]])
    repaired = tmp_path / "แถวที่แก้แล้ว.csv"
    with repaired.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([lines[0], *fixed])
    page.goto(server + "/staff/deeds/import")
    page.get_by_label("ไฟล์", exact=True).set_input_files(repaired)
    page.get_by_role("button", name="นำเข้า", exact=True).click()
    wait_until_done(page)
    expect(page.locator("#import-job").get_by_test_id("import-outcome")).to_contain_text(
        "นำเข้าแล้ว 50 แถว"
    )
    expect(page.locator("#import-job").get_by_test_id("count-rejected")).to_have_text("0")
    shot(page, "import-fixed", width, backend)
    sign_out(page)

    # 5. The verifier: the count, the pages, the filters, the names of the deed types.
    sign_in(page, server, "verifier@demouniv.demo", DEMO_PASSWORD)
    page.get_by_role("link", name="รายการรอตรวจรับรอง").first.click()
    count = page.get_by_test_id("queue-count")
    expect(count).to_contain_text("3,000 รายการรอตรวจรับรอง")
    expect(count).to_contain_text("หน้า 1 จาก 60")
    expect(page.locator("tbody tr").first).to_contain_text(TYPE_TH)
    shot(page, "queue", width, backend)
    page.get_by_role("link", name="หน้าถัดไป").click()
    expect(count).to_contain_text("แสดงรายการที่ 51–100 หน้า 2 จาก 60")

    day = TODAY - timedelta(days=3)
    page.get_by_label("ประเภทความดี").select_option("kys.volunteer_activity")
    page.get_by_label("ทำความดีตั้งแต่วันที่ (วว/ดด/ปปปป)").fill(be(day))
    page.get_by_label("ถึงวันที่ (วว/ดด/ปปปป)").fill(be(day))
    page.get_by_role("button", name="กรอง").click()
    expect(count).to_contain_text("ตรงตามตัวกรอง 100 จาก 3,000 รายการที่รอตรวจรับรอง")
    shot(page, "queue-filtered", width, backend)
    page.get_by_label("เลือกทั้งหมดในหน้านี้").check()
    page.get_by_role("button", name="รับรองรายการที่เลือก").click()
    expect(page.get_by_role("status")).to_contain_text("บันทึกผลแล้ว")
    expect(count).to_contain_text("ตรงตามตัวกรอง 50 จาก 2,950 รายการที่รอตรวจรับรอง")  # same filter

    # 6. The student's deed is rejected with a reason from the list...
    page.goto(server + "/staff/deeds/queue")
    page.get_by_label("ทำความดีตั้งแต่วันที่ (วว/ดด/ปปปป)").fill(be(STUDENT_DAY))
    page.get_by_label("ถึงวันที่ (วว/ดด/ปปปป)").fill(be(STUDENT_DAY))
    page.get_by_role("button", name="กรอง").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    student = page.locator("tbody tr").first
    expect(student).to_contain_text("j-0")
    student.get_by_label("เหตุผล", exact=True).select_option("no_evidence")
    student.get_by_role("button", name="ไม่รับรอง").click()
    expect(page.get_by_role("status")).to_contain_text("บันทึกผลแล้ว")
    expect(count).to_contain_text("0 จาก 2,949")
    sign_out(page)

    # 7. ...and the student reads it in Thai.
    page.goto(server + "/me")
    page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_STUDENT_ID)
    page.get_by_label("วันเกิด").fill(DEMO_STUDENT_BORN)
    page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
    expect(page.get_by_text("ไม่มีหลักฐาน หรืออ่านหลักฐานไม่ได้")).to_be_visible()
    shot(page, "student-reason", width, backend)
    context.close()
