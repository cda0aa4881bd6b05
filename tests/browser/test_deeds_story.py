"""Recording good deeds end to end in a real browser, in Thai: a university's
recorder records one deed with the form, uploads a messy file of a few hundred
volunteer records and watches the import to its result and error report; the
verifier approves the waiting deeds in bulk and rejects one with a reason."""

import csv
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.demo.data import DEMO_PASSWORD
from tests import factories
from tests.browser.test_catalog_story import SCREENSHOTS, sign_in, sign_out

pytestmark = pytest.mark.browser
TODAY = today_in_thailand()
THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
ROWS = 300
BAD_IDS = {5, 47, 120, 233}  # data rows (0-based) whose ID has a typo


nid = partial(factories.nid, series="5")  # this file's own citizens


def be(days_ago: int) -> str:
    day = TODAY - timedelta(days=days_ago)
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543}"


def messy_file(path: Path) -> None:
    """A clerk's export: Thai headings, Buddhist-Era dates, some Thai digits, typos."""
    rows = []
    for n in range(ROWS):
        national_id = nid(n)
        if n in BAD_IDS:
            national_id = national_id[:-1] + str((int(national_id[-1]) + 1) % 10)
        if n % 7 == 0:
            national_id = national_id.translate(THAI)
        quantity = "๓" if n % 5 == 0 else str(1 + n % 4)
        rows.append(
            [national_id, "kys.volunteer_activity", quantity, be(3 + n % 20), "TH-50", "", f"v-{n}"]
        )
    rows.append(rows[10])  # sent twice in the same file: recorded once
    rows.append([nid(900), "kys.volunteer_activity", "2", be(4), "TH-50", "", "v-20"])  # reused id
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["เลขประจำตัวประชาชน", "ประเภทความดี", "จำนวน", "วันที่", "จังหวัด", "หลักฐาน", "รหัสอ้างอิง"])  # fmt: skip
        writer.writerows(rows)


def test_record_import_and_verify(page: Page, server: str, backend: str, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. The recorder records one deed with the form.
    sign_in(page, server, "recorder@demouniv.demo", DEMO_PASSWORD)
    page.get_by_role("link", name="บันทึกความดี").first.click()
    page.get_by_label("เลขประจำตัวประชาชนของผู้ทำความดี").fill(nid(1000))
    page.get_by_label("ประเภทความดี").select_option("kys.volunteer_activity")
    page.get_by_label("จำนวน").fill("๔")
    page.get_by_label("วันที่", exact=True).fill(be(2))
    page.get_by_label("จังหวัด").select_option("TH-50")
    page.get_by_label("หลักฐาน").fill("ใบรับรองกิจกรรม 12/2569")
    page.get_by_label("เลขที่อ้างอิงของหน่วยงาน").fill("form-1")
    page.get_by_role("button", name="บันทึกรายการนี้").click()
    expect(page.get_by_role("status")).to_contain_text("บันทึกแล้ว")
    expect(page.get_by_role("status")).to_contain_text("รอตรวจรับรอง")

    # 2. ...then uploads a messy file and watches the import to its end.
    source = tmp_path / "จิตอาสา-2569.csv"
    messy_file(source)
    page.goto(server + "/staff/deeds/import")
    page.get_by_label("ไฟล์", exact=True).set_input_files(source)
    page.get_by_role("button", name="นำเข้า", exact=True).click()
    job = page.locator("#import-job")
    expect(job).to_have_attribute("data-status", "done", timeout=60_000)
    progress = job.locator("progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == str(ROWS + 2)
    expect(job.get_by_test_id("import-rows")).to_contain_text("ประมวลผลแล้ว 302 จาก 302 แถว")
    expect(job.get_by_test_id("count-imported")).to_have_text(str(ROWS - len(BAD_IDS)))
    expect(job.get_by_test_id("count-unchanged")).to_have_text("1")
    expect(job.get_by_test_id("count-rejected")).to_have_text(str(len(BAD_IDS) + 1))
    page.screenshot(path=SCREENSHOTS / f"import-done-phone-{backend}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    with page.expect_download() as download:
        job.get_by_role("link", name="ดาวน์โหลดแถวที่ต้องแก้ไข (CSV)").click()
    report = Path(download.value.path()).read_bytes()
    assert report.startswith("\ufeff".encode())  # Excel shows the Thai
    refused = list(csv.DictReader(report.decode("utf-8-sig").splitlines()))
    # The rows to fix as they were sent (to fix and send again), each with its reason.
    why = {r["รหัสอ้างอิง"]: r["เหตุที่ไม่รับ"] for r in refused}
    for n in BAD_IDS:
        assert why[f"v-{n}"].startswith(f"แถว {n + 2}: เลขประจำตัวประชาชน:")
    assert {r["รหัสอ้างอิง"] for r in refused} == {*(f"v-{n}" for n in BAD_IDS), "v-20"}
    assert all(r["เหตุที่ไม่รับ"] for r in refused)

    # The import is listed at once, to come back to.
    listed = page.locator("#recent-imports").get_by_role("link", name=source.name)
    expect(listed).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SCREENSHOTS / f"import-page-desktop-{backend}.png", full_page=True)
    listed.click()
    expect(page.locator("#import-job")).to_have_attribute("data-status", "done")
    page.screenshot(path=SCREENSHOTS / f"import-done-desktop-{backend}.png", full_page=True)
    page.set_viewport_size({"width": 360, "height": 780})
    sign_out(page)

    # 3. The verifier approves what waits, in bulk, and rejects one with a reason.
    sign_in(page, server, "verifier@demouniv.demo", DEMO_PASSWORD)
    page.get_by_role("link", name="รายการรอตรวจรับรอง").click()
    page.screenshot(path=SCREENSHOTS / f"queue-phone-{backend}.png")
    first = page.locator("tbody tr").first
    reason = first.get_by_role("textbox")
    reason.fill("ไม่มีใบรับรองกิจกรรมแนบมา")
    first.get_by_role("button", name="ไม่รับรอง").click()
    expect(page.get_by_role("status")).to_contain_text("บันทึกผลแล้ว")
    # The queue shows 50 at a time, and says how many wait.
    expect(page.locator('input[name="ids"]')).to_have_count(50)
    expect(page.get_by_test_id("queue-count")).to_contain_text("296 รายการรอตรวจรับรอง")
    page.get_by_label("เลือกทั้งหมดในหน้านี้").check()
    page.get_by_role("button", name="รับรองรายการที่เลือก").click()
    expect(page.get_by_role("status")).to_contain_text("บันทึกผลแล้ว")
    # 296 imported + 1 from the form - 1 rejected - 50 verified are left.
    expect(page.get_by_test_id("queue-count")).to_contain_text(
        f"{ROWS - len(BAD_IDS) + 1 - 1 - 50} รายการรอตรวจรับรอง"
    )
    page.screenshot(path=SCREENSHOTS / f"queue-after-{backend}.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
