"""The catalog story end to end in a real browser, in Thai: the programme office
onboards an agency, the agency's admin creates staff and an API key and submits
a deed type, the programme office approves it, and the public finds it."""

import re
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dcatalog.demo.data import DEMO_PASSWORD

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "a long enough password"


def sign_in(page: Page, server: str, email: str, password: str) -> None:
    page.goto(server + "/login")
    page.get_by_label("อีเมล").fill(email)
    page.get_by_label("รหัสผ่าน").fill(password)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(page.get_by_role("heading", name="ส่วนเจ้าหน้าที่")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="ออกจากระบบ").click()
    expect(page.get_by_role("link", name="เจ้าหน้าที่เข้าสู่ระบบ")).to_be_visible()


def test_from_onboarding_to_the_public_catalog(
    browser: Browser, page: Page, server: str, backend: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. The programme office onboards a school and creates its administrator.
    sign_in(page, server, "office@pmdu.demo", DEMO_PASSWORD)
    page.get_by_role("link", name="หน่วยงานพันธมิตร").first.click()
    page.get_by_label("รหัส").fill("nakhon_school")
    page.get_by_label("ชื่อภาษาไทย").fill("โรงเรียนนครสาธิต")
    page.get_by_label("ชื่อภาษาอังกฤษ").fill("Nakhon Demonstration School")
    page.get_by_label("ประเภท").select_option("school")
    page.get_by_role("button", name="รับเข้าร่วม").click()
    expect(page.get_by_role("heading", name="โรงเรียนนครสาธิต")).to_be_visible()
    page.goto(server + "/staff/accounts")
    page.get_by_label("อีเมล").fill("admin@nakhon.ac.th")
    page.get_by_label("ชื่อ", exact=True).fill("ครูสมศรี")
    page.get_by_label("บทบาท").select_option("agency_admin")
    page.get_by_label("หน่วยงาน").select_option("nakhon_school")
    page.get_by_label("รหัสผ่านแรกเข้า").fill(PASSWORD)
    page.get_by_role("button", name="สร้างบัญชี").click()
    expect(page.get_by_text("สร้างบัญชีให้ admin@nakhon.ac.th แล้ว")).to_be_visible()
    sign_out(page)

    # 2. The school's administrator creates a recorder and an API key...
    sign_in(page, server, "admin@nakhon.ac.th", PASSWORD)
    page.get_by_role("link", name="บัญชีเจ้าหน้าที่").click()
    page.get_by_label("อีเมล").fill("recorder@nakhon.ac.th")
    page.get_by_label("ชื่อ", exact=True).fill("ครูผู้บันทึก")
    page.get_by_label("บทบาท").select_option("recorder")
    page.get_by_label("รหัสผ่านแรกเข้า").fill(PASSWORD)
    page.get_by_role("button", name="สร้างบัญชี").click()
    expect(page.get_by_role("cell", name="recorder@nakhon.ac.th")).to_be_visible()
    page.goto(server + "/staff/keys")
    page.get_by_label("ระบบที่ใช้ key นี้").fill("ระบบกิจกรรมของโรงเรียน")
    page.get_by_label("catalog:write").check()
    page.get_by_role("button", name="สร้าง key").click()
    key = page.get_by_test_id("new-key").inner_text()
    assert key.startswith("dck_")
    page.screenshot(path=SCREENSHOTS / f"staff-keys-{backend}.png", full_page=True)
    # ...which works on the API at once (authenticated: the empty body is what is refused).
    answer = httpx.post(
        f"{server}/api/v1/catalog/deed-types", json={}, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 422

    # 3. ...and drafts and submits a deed type.
    page.goto(server + "/staff/deed-types")
    page.get_by_role("link", name="ประเภทความดีใหม่").click()
    page.get_by_label("รหัส").fill("reading_buddy")
    page.get_by_label("ชื่อภาษาไทย").fill("พี่อ่านให้น้องฟัง")
    page.get_by_label("ชื่อภาษาอังกฤษ").fill("Reading buddy")
    page.get_by_label("สิ่งที่นับได้ (ภาษาไทย)").fill("นักเรียนรุ่นพี่อ่านหนังสือให้น้องฟังหลังเลิกเรียน")
    page.get_by_label("คุณธรรม", exact=True).select_option("volunteering")
    page.get_by_label("หน่วย", exact=True).select_option("hour")
    page.get_by_label("เครดิตต่อหน่วย").fill("10")
    page.get_by_label("สูงสุดต่อคนต่อวัน").fill("2")
    page.get_by_role("button", name="บันทึกเป็นฉบับร่าง").click()
    expect(page.get_by_role("heading", name="nakhon_school.reading_buddy")).to_be_visible()
    page.get_by_role("button", name="เสนอขออนุมัติ").click()
    expect(page.get_by_text("ส่งให้สำนักงานโครงการพิจารณาอนุมัติแล้ว")).to_be_visible()
    sign_out(page)

    # 4. The programme office compares and approves.
    sign_in(page, server, "office@pmdu.demo", DEMO_PASSWORD)
    page.get_by_role("link", name="อนุมัติแค็ตตาล็อก").click()
    page.get_by_role("link", name="พี่อ่านให้น้องฟัง").click()
    expect(page.get_by_role("rowheader", name="เครดิตต่อหน่วย")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / f"catalog-review-{backend}.png", full_page=True)
    page.get_by_role("button", name="อนุมัติ").click()
    expect(page.get_by_role("status")).to_have_text("อนุมัติแล้ว: พี่อ่านให้น้องฟัง")  # by its name
    sign_out(page)

    # 5. The public finds it.
    public = browser.new_context(viewport={"width": 360, "height": 780}).new_page()
    public.goto(server + "/catalog")
    public.get_by_label("ค้นหา").fill("อ่านให้น้อง")
    # The results are swapped in 300 ms after typing (htmx), then the address says
    # so: clicking a link of the unfiltered list meanwhile would be lost in the swap.
    expect(public).to_have_url(re.compile(r"[?&]q="))
    result = public.get_by_role("link", name="พี่อ่านให้น้องฟัง")
    expect(result).to_be_visible()
    result.click()
    expect(public.get_by_role("heading", name="พี่อ่านให้น้องฟัง")).to_be_visible()
    expect(public.get_by_text("10 เครดิตต่อ ชั่วโมง")).to_be_visible()
    expect(public.get_by_text("โรงเรียนนครสาธิต").first).to_be_visible()
    public.screenshot(path=SCREENSHOTS / f"catalog-entry-{backend}.png", full_page=True)
    assert public.evaluate("document.documentElement.scrollWidth") <= 360
    public.context.close()
