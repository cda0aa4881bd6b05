"""The pages under the strict Content-Security-Policy in a real Chromium: a public
visitor, a citizen and staff walk the main pages and the browser refuses
nothing; the scripts that moved out of the pages into /static/js still work
(a refused upload is explained, the queue's "select all" ticks every box,
Swagger UI draws the API)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.demo.data import DEMO_PASSWORD, DEMO_STUDENT_BORN, DEMO_STUDENT_ID
from dcatalog.identity.national_id import with_check_digit
from tests.browser.test_catalog_story import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.one_backend("sqlite")]  # the policy is the app's

# Records every violation the page sees, whatever its kind (script, style, frame…).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


class Watched:
    """A browser context whose pages report CSP refusals and script errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.refused: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.refused.append(f"script error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            self.refused.append(f"{self.page.url}: {message.text}")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None, url
        assert response.ok, (url, response.status)
        self.page.wait_for_load_state("networkidle")
        self.check()

    def check(self) -> None:
        violations = self.page.evaluate("window.__violations || []")
        assert violations == [], (self.page.url, violations)
        assert self.refused == [], self.refused


@contextmanager
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    context.add_init_script(WATCH)
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


def two_deeds(path: Path) -> None:
    day = today_in_thailand() - timedelta(days=3)
    when = f"{day.day:02d}/{day.month:02d}/{day.year + 543}"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["เลขประจำตัวประชาชน", "ประเภทความดี", "จำนวน", "วันที่", "จังหวัด", "หลักฐาน", "รหัสอ้างอิง"])  # fmt: skip
        for n in (1, 2):
            national_id = with_check_digit(f"6{n:011d}")
            writer.writerow(
                [national_id, "kys.volunteer_activity", "2", when, "TH-50", "", f"csp-{n}"]
            )


def test_pages_pass_the_policy_and_their_scripts_work(
    browser: Browser, server: str, tmp_path: Path
) -> None:
    # A public visitor.
    with watched(browser) as public:
        for path in ("/", "/catalog", "/catalog/kys.volunteer_activity", "/verify", "/problems"):
            public.visit(server + path)
        public.visit(server + "/api/docs")
        expect(public.page.locator(".swagger-ui .info .title")).to_contain_text("D-Catalog API")
        expect(public.page.locator(".opblock").first).to_be_visible()
        public.check()

    # A citizen (demo sign-in).
    with watched(browser) as citizen:
        citizen.visit(server + "/me/sign-in?next=/me")
        citizen.page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_STUDENT_ID)
        citizen.page.get_by_label("วันเกิด").fill(DEMO_STUDENT_BORN)
        citizen.page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
        expect(citizen.page.get_by_role("heading", name="ความดีของฉัน", exact=True)).to_be_visible()
        citizen.check()
        citizen.visit(server + "/me/credentials")

    # The recorder imports: a refused file is explained where the result goes
    # (upload-progress.js turns htmx's 422 into a swap), then a good file is imported.
    with watched(browser) as recorder:
        sign_in(recorder.page, server, "recorder@demouniv.demo", DEMO_PASSWORD)
        recorder.visit(server + "/staff/deeds/import")
        wrong = tmp_path / "notes.pdf"
        wrong.write_bytes(b"%PDF-1.4 not a list of deeds")
        recorder.page.get_by_label("ไฟล์", exact=True).set_input_files(wrong)
        recorder.page.get_by_role("button", name="นำเข้า", exact=True).click()
        expect(recorder.page.locator("#import-result")).to_contain_text(".csv")
        good = tmp_path / "csp.csv"
        two_deeds(good)
        recorder.page.get_by_label("ไฟล์", exact=True).set_input_files(good)
        recorder.page.get_by_role("button", name="นำเข้า", exact=True).click()
        job = recorder.page.locator("#import-job")
        expect(job).to_have_attribute("data-status", "done", timeout=60_000)
        expect(recorder.page.locator(".upload-progress")).to_be_hidden()
        recorder.check()

    # The verifier ticks "select all" in the queue.
    with watched(browser) as verifier:
        sign_in(verifier.page, server, "verifier@demouniv.demo", DEMO_PASSWORD)
        verifier.visit(server + "/staff/deeds/queue")
        boxes = verifier.page.locator('input[name="ids"]')
        expect(boxes).to_have_count(2)
        verifier.page.get_by_label("เลือกทั้งหมด").check()
        for n in range(2):
            expect(boxes.nth(n)).to_be_checked()
        verifier.page.get_by_label("เลือกทั้งหมด").uncheck()
        expect(boxes.first).not_to_be_checked()
        verifier.check()

    # The Student Loan Fund's eligibility reports; the programme office's dashboard.
    with watched(browser) as fund:
        sign_in(fund.page, server, "admin@kys.demo", DEMO_PASSWORD)
        fund.visit(server + "/staff/reports")
        expect(fund.page.locator("form[data-upload-progress]")).to_be_visible()
    with watched(browser) as office:
        sign_in(office.page, server, "office@pmdu.demo", DEMO_PASSWORD)
        office.visit(server + "/admin/dashboard")
        office.visit(server + "/staff")
