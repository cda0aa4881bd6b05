"""A student and her record, end to end in a real browser, in Thai, on a phone:
she signs in (demo sign-in), sees her 30 volunteer hours and where they come
from, lets the Student Loan Fund see them, sees the Fund's check in her access
log, withdraws and sees the Fund refused, and downloads her data. axe-core
checks every page she sees for serious accessibility problems."""

import json
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from dcatalog.demo.data import DEMO_PASSWORD, DEMO_STUDENT_BORN, DEMO_STUDENT_ID
from tests.browser.test_catalog_story import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser
AXE = Axe()


def accessible(page: Page, name: str) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    results = AXE.run(page).response
    assert len(results["passes"]) > 20, f"{name}: axe-core did not really run"
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert violations == [], f"{name}: {violations}"


def fund_checks(browser: Browser, server: str, purpose: str) -> str:
    """The Fund's officer checks the student's record; returns what the page says."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    officer = context.new_page()
    sign_in(officer, server, "admin@kys.demo", DEMO_PASSWORD)
    officer.goto(server + "/staff/citizens/check")
    officer.get_by_label("เลขประจำตัวประชาชน").fill(DEMO_STUDENT_ID)
    officer.get_by_label("เหตุผลที่ตรวจสอบ (ประชาชนจะได้อ่าน)").fill(purpose)
    officer.get_by_role("button", name="ตรวจสอบ").click()
    expect(officer.get_by_role("status")).to_be_visible()
    text = officer.locator("main").inner_text()
    assert DEMO_STUDENT_ID not in officer.content()  # the ID is never echoed back
    context.close()
    return text


def test_a_student_and_her_record(
    browser: Browser, page: Page, server: str, backend: str, tmp_path: Path
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. She signs in and lands on her good deeds.
    page.goto(server + "/me")
    expect(page).to_have_url(f"{server}/me/sign-in?next=/me")
    page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_STUDENT_ID)
    page.get_by_label("วันเกิด").fill(DEMO_STUDENT_BORN)
    page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
    expect(page.get_by_role("heading", name="ความดีของฉัน", exact=True)).to_be_visible()
    assert DEMO_STUDENT_ID not in page.content()
    accessible(page, "/me")
    page.screenshot(path=SCREENSHOTS / f"citizen-home-{backend}.png", full_page=True)

    # 2. 30 of the Fund's 36 volunteer hours in the last academic year, in words,
    #    and where they come from.
    renewal = page.locator("li.benefit", has_text="ต่อสัญญากู้ยืมเงิน กยศ.")
    expect(renewal).to_contain_text("ปิดรับแล้ว")  # that academic year has closed
    expect(renewal).to_contain_text("30 จาก 36 ชั่วโมง")
    volunteering = page.locator("li.subject:not(.benefit)", has_text="จิตอาสา").first  # virtue
    row = volunteering.locator("tbody tr", has_text="ปีการศึกษา").first  # the last one
    expect(row).to_contain_text("30")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ปีการศึกษา")
    expect(page.locator("main")).to_contain_text("ความดีที่นับแล้ว 4 รายการ รวม 30")
    expect(page.locator("tbody tr")).to_have_count(4)
    accessible(page, "/me/explain")
    page.screenshot(path=SCREENSHOTS / f"citizen-explain-{backend}.png", full_page=True)

    # 3. She lets the Student Loan Fund see her volunteer hours.
    page.get_by_role("link", name="ใครเห็นได้บ้าง").click()
    page.get_by_label("หน่วยงาน").select_option("kys")
    page.get_by_label("เพื่อวัตถุประสงค์ใด").select_option("eligibility")
    page.get_by_label("ชั่วโมงจิตอาสา", exact=False).first.check()
    page.get_by_role("button", name="ให้ความยินยอม").click()
    expect(page.get_by_role("status")).to_contain_text("ให้ความยินยอมแล้ว")
    accessible(page, "/me/consents")
    page.screenshot(path=SCREENSHOTS / f"citizen-consents-{backend}.png", full_page=True)

    # 4. The Fund checks; she sees it in her access log.
    allowed = fund_checks(browser, server, "ตรวจคุณสมบัติการต่อสัญญา ปีการศึกษาถัดไป")
    assert "30" in allowed
    page.get_by_role("link", name="ใครเข้าดู").click()
    log = page.locator("tbody tr").first
    expect(log).to_contain_text("ตรวจคุณสมบัติการต่อสัญญา")
    expect(log).to_contain_text("อนุญาต")
    accessible(page, "/me/access-log")

    # 5. She withdraws; the Fund is refused, and she sees that too.
    page.get_by_role("link", name="ใครเห็นได้บ้าง").click()
    page.get_by_role("button", name="ถอนความยินยอม").click()
    expect(page.get_by_role("status")).to_contain_text("ถอนความยินยอมแล้ว")
    refused = fund_checks(browser, server, "ตรวจอีกครั้ง")
    assert "ไม่มีความยินยอม" in refused
    page.get_by_role("link", name="ใครเข้าดู").click()
    expect(page.locator("tbody tr").first).to_contain_text("ปฏิเสธ")
    page.screenshot(path=SCREENSHOTS / f"citizen-access-log-{backend}.png", full_page=True)

    # 6. She downloads her data: everything, and no national ID in it.
    page.get_by_role("link", name="ข้อมูลและสิทธิของฉัน").click()
    accessible(page, "/me/data")
    with page.expect_download() as download:
        page.get_by_role("link", name="ดาวน์โหลด (JSON)").click()
    saved = tmp_path / "my-data.json"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert DEMO_STUDENT_ID not in text
    data = json.loads(text)
    assert len(data["deeds"]) == 5
    assert [entry["outcome"] for entry in data["access_log"]] == ["refused", "allowed"]
    assert len(data["consents"]) == 1
    assert data["consents"][0]["withdrawn_at"] is not None

    # 7. Nothing is wider than the phone.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
