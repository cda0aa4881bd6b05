"""The student's journey on her phone (390 px, Thai), in a real browser: she signs
in typing her birth date in the Buddhist Era, reads on her loan card which academic
year counts for which renewal (the last one closed, the one open now with its
progress), opens the benefits folded away, sends her hours to the Student Loan
Fund from the card (the consent filled in for the renewal), sees it listed and
signs out. The same consent link works from a signed-out start: sign-in brings
her back to it. axe-core checks every page; each is photographed at 390 and
1280 px into /tmp/shots-student/."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from dcatalog.calendars.buddhist_era import format_date, today_in_thailand
from dcatalog.calendars.periods import DEFAULT_ACADEMIC_START, PeriodKind, academic_year
from dcatalog.calendars.periods import period_bounds as bounds
from dcatalog.demo.data import DEMO_STUDENT_ID
from tests.browser.test_citizen_story import accessible

pytestmark = pytest.mark.browser
SHOTS = Path(tempfile.gettempdir()) / "shots-student"  # /tmp/shots-student, to review
LOAN = "ต่อสัญญากู้ยืมเงิน กยศ. ปีการศึกษาถัดไป"
ME = "ลงชื่อเข้าใช้: ประชาชน เกิด 1 มิ.ย. 2548"


def shoot(page: Page, name: str, backend: str) -> None:
    """The page as it is, at the phone's width and at a desktop's."""
    size = page.viewport_size
    assert size is not None
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": size["height"]})
        page.screenshot(path=SHOTS / f"{name}-{width}-{backend}.png", full_page=True)
    page.set_viewport_size(size)


def signs_in(page: Page, born_on: str) -> None:
    page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_STUDENT_ID)
    page.get_by_label("วันเกิด").fill(born_on)
    page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()


def test_the_student_checks_her_loan_renewal_and_sends_her_hours(
    browser: Browser, server: str, backend: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="th-TH")
    page = context.new_page()
    now = academic_year(today_in_thailand(), DEFAULT_ACADEMIC_START)
    closes = bounds(PeriodKind.ACADEMIC_YEAR, now, DEFAULT_ACADEMIC_START).end
    assert closes is not None

    # 1. She signs in, typing her birth date as Thai people write it (a CE year first).
    page.goto(server + "/me")
    expect(page.get_by_label("วันเกิด")).to_have_attribute("type", "text")
    accessible(page, "/me/sign-in")
    shoot(page, "1-sign-in", backend)
    signs_in(page, "01/06/2005")
    expect(page.get_by_role("alert")).to_contain_text("กรอกปีเป็น พ.ศ.")
    expect(page.get_by_label("วันเกิด")).to_have_value("01/06/2005")  # kept as typed
    shoot(page, "2-sign-in-mistake", backend)
    signs_in(page, "01/06/2548")
    expect(page.get_by_role("heading", name="ความดีของฉัน", exact=True)).to_be_visible()
    header = page.locator("header.site-header")
    expect(header).to_contain_text(ME)
    expect(header.get_by_role("button", name="ออกจากระบบ")).to_be_visible()

    # 2. The loan card: last year closed (30 of 36), this year open (0 of 36, closing
    #    at its end), each for which renewal, with progress bars that say the figures.
    loan = page.locator("li.benefit").filter(has=page.get_by_role("heading", name=LOAN, exact=True))
    expect(loan).to_contain_text(f"ปีการศึกษา {now - 1}: 30 จาก 36 ชั่วโมง")
    expect(loan).to_contain_text("ปิดรับแล้ว")
    expect(loan).to_contain_text(f"ใช้สำหรับสิทธิ์ในปีการศึกษา {now}")
    expect(loan).to_contain_text(f"ปีการศึกษา {now}: 0 จาก 36 ชั่วโมง")
    expect(loan).to_contain_text(f"ปิดรับ {format_date(closes)}")
    expect(loan).to_contain_text(f"ใช้สำหรับสิทธิ์ในปีการศึกษา {now + 1}")
    expect(loan).not_to_contain_text("อีก 6 ชั่วโมง")
    bars = loan.get_by_role("progressbar")
    expect(bars).to_have_count(2)
    expect(bars.first).to_have_attribute("value", "30")
    expect(bars.first).to_have_attribute("max", "36")
    expect(bars.first).to_have_accessible_name(re.compile(f"ปีการศึกษา {now - 1}: 30 จาก 36"))
    # It is the first card: what she works toward comes first.
    expect(page.locator("li.benefit").first).to_contain_text(LOAN)
    accessible(page, "/me")
    shoot(page, "3-me", backend)

    # 3. The benefits that cannot concern her yet are folded away; she opens them.
    others = page.locator("details.other-benefits")
    challenge = others.get_by_role("heading", name="ผู้พิชิตชาเลนจ์ 30 วัน")
    expect(challenge).to_be_hidden()
    others.locator("summary").click()
    expect(challenge).to_be_visible()
    accessible(page, "/me (the others open)")
    shoot(page, "4-me-others-open", backend)

    # 4. "Send to the Fund": the consent filled in for the renewal; she gives it.
    loan.get_by_role("link", name="ส่งให้ กยศ.").click()
    expect(page).to_have_url(f"{server}/me/consents?benefit=kys.loan_renewal")
    form = page.locator("form", has=page.get_by_role("button", name="ให้ความยินยอม"))
    expect(form).to_contain_text("กองทุนเงินให้กู้ยืมเพื่อการศึกษา (กยศ.)")
    expect(form).to_contain_text(f"เพื่อ {LOAN}")
    expect(form).to_contain_text("กิจกรรมจิตอาสา")
    accessible(page, "/me/consents?benefit=")
    shoot(page, "5-consent-filled-in", backend)
    page.get_by_role("button", name="ให้ความยินยอม").click()
    expect(page.get_by_role("status")).to_contain_text("ให้ความยินยอมแล้ว")
    mine = page.locator("ul.entries li.entry").first
    expect(mine).to_contain_text("กองทุนเงินให้กู้ยืมเพื่อการศึกษา (กยศ.)")
    expect(mine).to_contain_text(f"เพื่อ: {LOAN}")
    accessible(page, "/me/consents")
    shoot(page, "6-consent-given", backend)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # 5. She signs out: the header no longer shows her.
    header.get_by_role("button", name="ออกจากระบบ").click()
    expect(page).to_have_url(server + "/")
    expect(page.locator("header.site-header")).not_to_contain_text(ME)
    shoot(page, "7-signed-out", backend)

    # 6. The Red Cross counter's QR code, from a signed-out start: sign-in, then back.
    page.goto(server + "/me/consents?benefit=redcross.donor_privilege")
    expect(page).to_have_url(
        f"{server}/me/sign-in?next=/me/consents%3Fbenefit%3Dredcross.donor_privilege"
    )
    signs_in(page, "1/6/2548")
    expect(page).to_have_url(f"{server}/me/consents?benefit=redcross.donor_privilege")
    expect(page.locator("main")).to_contain_text("สภากาชาดไทย")
    expect(page.get_by_label("ข้อมูลสุขภาพ", exact=False)).not_to_be_checked()
    accessible(page, "/me/consents?benefit= (after sign-in)")
    shoot(page, "8-consent-after-sign-in", backend)
    context.close()
