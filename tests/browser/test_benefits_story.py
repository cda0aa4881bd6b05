"""Every demo benefit end to end in a real browser, in Thai: the citizen qualifies
(deeds recorded over the API with keys made by the CLI, or already in the demo),
signs in, sees the benefit reached with the partner's thanks, claims it and gets
a code and its QR; at the partner's counter, in another browser, the staff
redeem the code once, and a second time it is refused as used.

One demo server per database serves the whole file (``demo`` below): loading the
demo and starting a server is most of a browser test's time."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dcatalog.benefits.pages.claiming import qr_data_uri
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import PeriodKind, academic_year, period_bounds
from dcatalog.demo.data import (
    BENEFITS,
    DEMO_DONOR_BORN,
    DEMO_DONOR_ID,
    DEMO_PASSWORD,
    DEMO_STUDENT_BORN,
    DEMO_STUDENT_ID,
)
from dcatalog.identity.national_id import with_check_digit
from tests.browser.test_catalog_story import SCREENSHOTS, sign_in
from tests.conftest import (
    DemoTemplate,
    PostgresDatabases,
    _new_database_url,
    copy_demo,
    serve_env,
)
from tests.helpers import run_cli, serving

pytestmark = pytest.mark.browser
TODAY = today_in_thailand()
ACADEMIC_START = (5, 16)  # the settings' default
BENEFIT = {b["code"]: b for b in BENEFITS}
DESK = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Demo:
    base: str
    env: dict[str, str]
    backend: str


@pytest.fixture(scope="module")
def demo(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
    demo_template: Callable[[str], DemoTemplate],
) -> Iterator[Demo]:
    """A copy of the demo (made by ``dcatalog demo``), then ``dcatalog serve``, once
    per database for this file (the tests use different citizens, so they do not
    disturb each other)."""
    folder = tmp_path_factory.mktemp(f"benefits-{backend}")
    env = serve_env(_new_database_url(backend, folder, postgres_databases), folder / "var")
    copy_demo(demo_template(backend), env["DCATALOG_DATABASE_URL"], folder / "var")
    with serving(env, folder / "server.log") as base:
        yield Demo(base, env, backend)


def api_key(demo: Demo, agency: str, *scopes: str) -> dict[str, str]:
    """An agency's API key, made as an operator would (``dcatalog keys create``)."""
    args = [arg for scope in scopes for arg in ("--scope", scope)]
    made = run_cli("keys", "create", "--agency", agency, *args, env=demo.env)
    assert made.returncode == 0, made.stderr
    return {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}


def record(demo: Demo, key: dict[str, str], deeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sent = httpx.post(f"{demo.base}/api/v1/deeds", json={"deeds": deeds}, headers=key, timeout=30)
    assert sent.status_code == 200, sent.text
    results = sent.json()["results"]
    assert [r["result"] for r in results] == ["created"] * len(deeds), results
    return [r["deed"] for r in results]


def deed(national_id: str, deed_type: str, day: date, quantity: int, ref: str) -> dict[str, Any]:
    return {
        "national_id": national_id,
        "deed_type": deed_type,
        "quantity": str(quantity),
        "occurred_on": day.isoformat(),
        "province": "TH-30",
        "evidence": "ใบรับรองกิจกรรม",
        "external_id": ref,
    }


def citizen_signs_in(page: Page, demo: Demo, national_id: str, born: str) -> None:
    page.goto(demo.base + "/me/sign-in?next=/me")
    page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(national_id)
    page.get_by_label("วันเกิด").fill(born)
    page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
    expect(page.get_by_role("heading", name="ความดีของฉัน", exact=True)).to_be_visible()


def card(page: Page, code: str) -> Any:
    """The benefit's card on "My good deeds"."""
    heading = page.get_by_role("heading", name=BENEFIT[code]["name_th"], exact=True)
    return page.locator("li.benefit").filter(has=heading)


def claims(page: Page, demo: Demo, code: str) -> tuple[str, str]:
    """On "My good deeds" the citizen sees the benefit reached, with the partner's
    thanks, and claims it; returns the code her claim page shows, and its URL."""
    page.goto(demo.base + "/me")
    reached = card(page, code)
    expect(reached).to_contain_text("คุณได้รับสิทธิ์นี้แล้ว")
    expect(reached).to_contain_text(BENEFIT[code]["thanks_th"])
    reached.get_by_role("button", name="รับสิทธิ์").click()
    expect(page).to_have_url(re.compile(r"/me/claims/[0-9a-f-]{36}$"))
    shown = page.locator("section.claim")
    expect(shown.get_by_role("heading", level=1)).to_have_text(BENEFIT[code]["name_th"])
    expect(shown).to_contain_text(BENEFIT[code]["thanks_th"])
    expect(shown).to_contain_text("แสดงรหัสนี้ที่จุดบริการ ใช้ได้ครั้งเดียว")
    text = shown.locator("p.claim-code code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{5} [A-Z2-9]{5}", text), text
    claim_code = text.replace(" ", "")
    qr = shown.get_by_role("img", name="คิวอาร์โค้ดของรหัสรับสิทธิ์")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # it really renders
    # The QR holds exactly the code: the same text makes the same (deterministic) symbol.
    assert qr.get_attribute("src") == qr_data_uri(claim_code)
    page.screenshot(path=SCREENSHOTS / f"claim-{code}-{demo.backend}.png", full_page=True)
    return claim_code, page.url


def counter(browser: Browser, demo: Demo, email: str) -> Page:
    """A partner's counter: staff signed in, in a browser of their own."""
    staff = browser.new_context(viewport=DESK, locale="th-TH").new_page()
    sign_in(staff, demo.base, email, DEMO_PASSWORD)
    return staff


def redeems(staff: Page, demo: Demo, claim_code: str, code: str) -> None:
    """The counter redeems the code (typed as people do: lower case, a space); the
    second time it is refused as used."""
    staff.goto(demo.base + "/staff/redeem")
    expect(staff.get_by_role("heading", name="ใช้รหัสรับสิทธิ์")).to_be_visible()
    staff.get_by_label("รหัสรับสิทธิ์").fill(f"{claim_code[:5].lower()} {claim_code[5:]}")
    staff.get_by_role("button", name="ใช้สิทธิ์", exact=True).click()
    result = staff.get_by_role("status")
    expect(result).to_contain_text("ใช้สิทธิ์เรียบร้อย")
    expect(result).to_contain_text(BENEFIT[code]["name_th"])
    staff.get_by_label("รหัสรับสิทธิ์").fill(claim_code)
    staff.get_by_role("button", name="ใช้สิทธิ์", exact=True).click()
    expect(result).to_contain_text("ใช้แล้ว")
    expect(result).not_to_contain_text("ใช้สิทธิ์เรียบร้อย")
    expect(result).to_contain_text(BENEFIT[code]["name_th"])


def my_claim(page: Page, code: str) -> Any:
    """The claim's line under "My claims" on "My good deeds"."""
    listed = page.locator("h2:has-text('สิทธิ์ที่ฉันรับแล้ว') + ul.entries > li")
    return listed.filter(has=page.get_by_role("link", name=BENEFIT[code]["name_th"], exact=True))


def milestone_listed(page: Page, code: str) -> Any:
    """The award's line under "My milestones" on "My good deeds"."""
    return page.locator('a[href^="/me/awards#a-"]', has_text=BENEFIT[code]["name_th"])


def shows_used(page: Page, url: str) -> None:
    """Her claim page now says when it was used, and shows no code to use again."""
    page.goto(url)
    expect(page.locator("section.claim")).to_contain_text("ใช้แล้วเมื่อ")
    expect(page.locator("p.claim-code")).to_have_count(0)


def test_the_student_renews_her_loan_and_gets_greenmarts_thanks(
    browser: Browser, page: Page, demo: Demo
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. Six hours short of the Fund's 36, in an academic year that has closed.
    citizen_signs_in(page, demo, DEMO_STUDENT_ID, DEMO_STUDENT_BORN)
    expect(card(page, "kys.loan_renewal")).to_contain_text("30 จาก 36 ชั่วโมง")
    expect(card(page, "kys.loan_renewal")).to_contain_text("ปิดรับแล้ว")
    expect(card(page, "kys.loan_renewal").get_by_role("button")).to_have_count(0)

    # 2. The university records the hours she did, over the API, and verifies them:
    #    6 in the last academic year (its last day), 12 today and 6 yesterday.
    previous = period_bounds(
        PeriodKind.ACADEMIC_YEAR, academic_year(TODAY, ACADEMIC_START) - 1, ACADEMIC_START
    )
    assert previous.end is not None
    university = api_key(demo, "demouniv", "deeds:write", "deeds:verify")
    activity = "kys.volunteer_activity"
    recorded = record(
        demo,
        university,
        [
            deed(DEMO_STUDENT_ID, activity, previous.end, 6, "story-hours-1"),
            deed(DEMO_STUDENT_ID, activity, TODAY, 12, "story-hours-2"),
            deed(DEMO_STUDENT_ID, activity, TODAY - timedelta(days=1), 6, "story-hours-3"),
        ],
    )
    verified = httpx.post(
        f"{demo.base}/api/v1/deeds/verify",
        json={"ids": [d["id"] for d in recorded]},
        headers=university,
    )
    assert verified.status_code == 200, verified.text

    # 3. She claims the renewal and the new borrowers' check from the Fund, and
    #    Greenmart's discount; each gets its code and QR.
    loan, loan_url = claims(page, demo, "kys.loan_renewal")
    borrower, _url = claims(page, demo, "kys.new_borrower")
    discount, discount_url = claims(page, demo, "greenmart.volunteer_discount")
    assert len({loan, borrower, discount}) == 3
    page.goto(demo.base + "/me")
    mine = my_claim(page, "kys.loan_renewal")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("พร้อมใช้")  # "My claims": ready to use

    # 4. At the Fund's counter: both codes, once each.
    fund = counter(browser, demo, "admin@kys.demo")
    redeems(fund, demo, loan, "kys.loan_renewal")
    redeems(fund, demo, borrower, "kys.new_borrower")
    # Greenmart's code means nothing at the Fund's counter.
    fund.get_by_label("รหัสรับสิทธิ์").fill(discount)
    fund.get_by_role("button", name="ใช้สิทธิ์", exact=True).click()
    expect(fund.get_by_role("status")).to_contain_text("ไม่พบรหัสนี้ในสิทธิประโยชน์ของหน่วยงานคุณ")
    fund.context.close()

    # 5. At Greenmart's till.
    till = counter(browser, demo, "counter@greenmart.demo")
    redeems(till, demo, discount, "greenmart.volunteer_discount")
    till.context.close()

    shows_used(page, loan_url)
    shows_used(page, discount_url)
    page.goto(demo.base + "/me")
    expect(my_claim(page, "kys.loan_renewal")).to_contain_text("ใช้แล้ว")


def test_the_donor_claims_the_fast_lane_and_her_pin(
    browser: Browser, page: Page, demo: Demo
) -> None:
    """The demo donor: 17 donations, the last a month ago; nothing to record."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    citizen_signs_in(page, demo, DEMO_DONOR_ID, DEMO_DONOR_BORN)
    for milestone in ("redcross.donor_7", "redcross.donor_16"):
        expect(card(page, milestone)).to_contain_text("คุณได้รับสิทธิ์นี้แล้ว")
        expect(milestone_listed(page, milestone)).to_have_count(1)  # awarded by itself
    expect(card(page, "redcross.donor_24")).to_contain_text("อีก 7 รายการ")
    lane, lane_url = claims(page, demo, "redcross.donor_privilege")
    pin, pin_url = claims(page, demo, "redcross.donor_16")

    red_cross = counter(browser, demo, "admin@redcross.demo")
    redeems(red_cross, demo, lane, "redcross.donor_privilege")
    redeems(red_cross, demo, pin, "redcross.donor_16")
    red_cross.context.close()
    shows_used(page, lane_url)
    shows_used(page, pin_url)


@pytest.mark.skipif(
    TODAY.timetuple().tm_yday < 30, reason="30 active days this year need 30 days of the year"
)
def test_thirty_active_days_make_a_challenge_champion(
    browser: Browser, page: Page, demo: Demo
) -> None:
    """ThaiHealth's challenge app sends 30 active days this year; the recognition
    is awarded by itself, and she claims it at ThaiHealth."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    walker, born = with_check_digit("150000000001"), "1988-02-14"
    challenge = "thaihealth.activity_challenge"
    record(
        demo,
        api_key(demo, "thaihealth", "deeds:write"),
        [deed(walker, challenge, TODAY - timedelta(days=n), 1, f"walk-{n}") for n in range(30)],
    )
    citizen_signs_in(page, demo, walker, born)
    expect(milestone_listed(page, "thaihealth.challenge_30")).to_have_count(1)  # awarded
    code, url = claims(page, demo, "thaihealth.challenge_30")
    thaihealth = counter(browser, demo, "admin@thaihealth.demo")
    redeems(thaihealth, demo, code, "thaihealth.challenge_30")
    thaihealth.context.close()
    shows_used(page, url)
