"""A member of the public on a phone, in Thai (and once on a wide screen): searches
the catalog for a good deed it does not have and follows the link to propose it,
is asked to sign in as a citizen and comes back to the form with the words typed;
reads one campaign past its goal and one under it; opens a staff member's proposal
and reads the agency's Thai name; meets a Thai "not found" page with a way home.
axe-core checks each page; screenshots go to /tmp/shots-public/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.campaigns import service as campaigns
from dcatalog.campaigns.models import GoalMeasure
from dcatalog.campaigns.pages import grouped
from dcatalog.campaigns.schemas import NewCampaign
from dcatalog.db import Database
from dcatalog.demo.data import DEMO_PASSWORD, DEMO_STUDENT_BORN, DEMO_STUDENT_ID
from tests.browser.test_catalog_story import sign_in
from tests.browser.test_citizen_story import accessible

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-public")  # noqa: S108 (screenshots for a person to look at)
ABSENT = "ปลูกป่าชายเลน"
PAST = "kys.hours_together"


def past_goal_campaign(database_url: str) -> tuple[str, str]:
    """An approved campaign of the Student Loan Fund whose goal (50 hours) the demo's
    volunteers have passed; returns what its card should say, counted by the service."""
    today = today_in_thailand()
    # A write session: on SQLite it takes the write lock when it begins, so it waits
    # for the server's own writers instead of failing "database is locked" at once.
    database = Database.from_url(database_url)
    try:
        with database.write_session() as session:
            campaign = campaigns.create(
                session,
                SYSTEM,
                get_agency(session, "kys"),
                NewCampaign(
                    name="hours_together",
                    title_th="ชั่วโมงจิตอาสาร่วมกัน",
                    title_en="Volunteer hours together",
                    deed_types=["kys.volunteer_activity"],
                    provinces=[],
                    starts_on=today - timedelta(days=100),
                    ends_on=today + timedelta(days=10),
                    goal_measure=GoalMeasure.QUANTITY,
                    goal=50,
                ),
            )
            campaigns.submit(session, SYSTEM, campaign)
            campaigns.approve(session, SYSTEM, campaign)
            session.commit()
            progress = campaigns.progress(session, [campaign], fresh=True)[campaign.id]
            assert progress.shown, progress
            assert progress.value > 50, progress
            blood = campaigns.get(session, "redcross.blood_drive")
            under = campaigns.progress(session, [blood], fresh=True)[blood.id]
            assert under.shown, under
            assert not under.reached, under
            return (
                f"{grouped(progress.value)} ชั่วโมง · เกินเป้า 50 ชั่วโมง",
                f"{grouped(under.value)} จาก {blood.goal} ครั้ง",
            )
    finally:
        database.dispose()


def staff_proposes(browser: Browser, server: str) -> str:
    """The Red Cross's administrator proposes a good deed (wide screen); its address."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    staff = context.new_page()
    sign_in(staff, server, "admin@redcross.demo", DEMO_PASSWORD)
    staff.goto(server + "/proposals")
    staff.get_by_label("ความดีที่เสนอ (สั้น ๆ)").fill("ชวนเพื่อนบริจาคโลหิตครั้งแรก")
    staff.get_by_label("สิ่งที่ผู้คนทำ และเหตุใดจึงควรได้รับคำขอบคุณ").fill(
        "พาเพื่อนที่ไม่เคยบริจาคมาบริจาคโลหิตเป็นครั้งแรก"
    )
    staff.get_by_role("button", name="เสนอ", exact=True).click()
    expect(staff).to_have_url(re.compile(r"/proposals/[0-9a-f-]{36}$"))
    address = staff.url
    context.close()
    return address


def fits(page: Page, width: int) -> None:
    """Nothing sticks out sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def shot(page: Page, name: str, width: int, backend: str) -> None:
    page.screenshot(path=SHOTS / f"{name}-{width}-{backend}.png", full_page=True)


def test_a_visitor_browses_proposes_and_finds_a_way_back(
    browser: Browser, server: str, fresh_database_url: str, backend: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    past_words, under_words = past_goal_campaign(fresh_database_url)
    proposal = staff_proposes(browser, server)
    for width in (390, 1280):  # a phone first, then once on a wide screen
        context = browser.new_context(viewport={"width": width, "height": 844}, locale="th-TH")
        journey(context.new_page(), server, backend, width, proposal, past_words, under_words)
        context.close()


def journey(
    page: Page,
    server: str,
    backend: str,
    width: int,
    proposal: str,
    past_words: str,
    under_words: str,
) -> None:

    # 1. Home, then the catalog: a search for a good deed it does not have.
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    page.locator("main").get_by_role("link", name="ดูแค็ตตาล็อกความดี").click()
    expect(page).to_have_url(f"{server}/catalog")
    page.get_by_label("ค้นหา", exact=True).fill(ABSENT)
    # The search's own swap has landed (it writes the address): only then click in
    # its results, or the click lands on a list about to be replaced.
    expect(page).to_have_url(re.compile(r"[?&]q="))
    empty = page.locator("#results .empty")
    expect(empty).to_contain_text("ไม่พบประเภทความดีที่ตรงกัน")
    fits(page, width)
    accessible(page, "/catalog, nothing found")
    shot(page, "catalog-nothing-found", width, backend)

    # 2. The suggestion is a link; it keeps the words; proposing needs the citizens' sign-in.
    # Clicked as a person clicks, the button held a moment: leaving the search box
    # once fired a second search whose swap replaced the link under the pointer,
    # and the click was lost.
    box = empty.get_by_role("link", name="เสนอเป็นความดีประเภทใหม่").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(400)  # a person's click, not a measurement
    page.mouse.up()
    expect(page).to_have_url(re.compile(r"/proposals\?title="))
    page.get_by_role("link", name="เข้าสู่ระบบเพื่อเสนอ สนับสนุน หรือแสดงความคิดเห็น").click()
    expect(page).to_have_url(re.compile(r"/me/sign-in\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("ลงชื่อเข้าใช้เพื่อดูความดีของคุณ")
    accessible(page, "/me/sign-in from proposing")
    shot(page, "citizen-sign-in", width, backend)
    page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_STUDENT_ID)
    page.get_by_label("วันเกิด").fill(DEMO_STUDENT_BORN)
    page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
    # ...and comes back to the form, the searched words already in it.
    expect(page).to_have_url(f"{server}/proposals?title={quote(ABSENT)}")
    expect(page.get_by_label("ความดีที่เสนอ (สั้น ๆ)")).to_have_value(ABSENT)
    fits(page, width)
    accessible(page, "/proposals, signed in")
    shot(page, "proposal-form", width, backend)

    # 3. Campaigns: one past its goal reads as a success, one under it as a share.
    page.goto(server + "/thanks")
    past = page.locator(f"li.campaign[id='c-{PAST}']")
    expect(past.get_by_role("heading", level=3)).to_have_text("ชั่วโมงจิตอาสาร่วมกัน")
    expect(past.locator(".progress-head")).to_contain_text(past_words)
    expect(past.locator(".percent")).to_have_text("✓ ถึงเป้าแล้ว")
    expect(past).not_to_contain_text("%")
    bar = past.locator("progress")
    expect(bar).to_have_attribute("value", "50")
    expect(bar).to_have_class("progress-reached")
    under = page.locator("li.campaign[id='c-redcross.blood_drive']")
    expect(under.locator(".progress-head")).to_contain_text(under_words)
    expect(under.locator(".percent")).to_have_text(re.compile(r"^\d{1,2}%$"))
    fits(page, width)
    accessible(page, "/thanks")
    past.scroll_into_view_if_needed()
    shot(page, "thanks", width, backend)

    # 4. A staff member's proposal names the agency in Thai, not a person or a code.
    page.goto(proposal)
    expect(page.get_by_role("heading", level=1)).to_have_text("ชวนเพื่อนบริจาคโลหิตครั้งแรก")
    meta = page.locator("main p.meta").first
    expect(meta).to_contain_text("เสนอโดย สภากาชาดไทย")
    for hidden in ("Red Cross admin", "redcross", "Thai Red Cross Society"):
        expect(meta).not_to_contain_text(hidden)
    accessible(page, "a staff proposal")
    shot(page, "staff-proposal", width, backend)

    # 5. An address that does not exist: a Thai page, a way home and a search.
    missing = page.goto(server + "/catalog/no.such_deed")
    assert missing is not None
    assert missing.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("ไม่พบสิ่งที่ร้องขอ")
    expect(page.locator("main")).to_contain_text("ที่อยู่อาจพิมพ์ผิด")
    expect(page.get_by_role("search").get_by_label("หรือค้นหาในแค็ตตาล็อกความดี")).to_be_visible()
    fits(page, width)
    accessible(page, "404")
    shot(page, "not-found", width, backend)
    page.get_by_role("link", name="กลับสู่หน้าแรก").click()
    expect(page).to_have_url(f"{server}/")
