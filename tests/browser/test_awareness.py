"""The public thank-you page (/thanks) of the demo, in a real browser on a phone,
in Thai then English: this year's national counters, the partners' two demo
campaigns with their progress bars, and the donor's milestone she chose to
share — all the same figures the database gives. Then the donor takes her
milestone off the page and it is gone at once. axe-core checks the page; the
screenshots go to /tmp and var/screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.campaigns import service, thank_you
from dcatalog.campaigns.pages import grouped
from dcatalog.db import create_db_engine
from dcatalog.demo.data import (
    CAMPAIGNS,
    DEMO_DONOR_BORN,
    DEMO_DONOR_ID,
    DEMO_DONOR_PUBLIC_NAME,
)
from tests.browser.test_catalog_story import SCREENSHOTS
from tests.browser.test_citizen_story import accessible

pytestmark = pytest.mark.browser
TMP = Path("/tmp")  # noqa: S108 (the screenshots are for a person to look at)


def expected(database_url: str) -> tuple[thank_you.NationalFigures, dict[str, service.Progress]]:
    """What the page should say, counted from the served database."""
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            national = thank_you.national_counters(session, fresh=True)
            shown = service.public(session, today_in_thailand())
            progress = service.progress(session, shown, fresh=True)
            return national, {c.code: progress[c.id] for c in shown}
    finally:
        engine.dispose()


def test_the_public_thank_you_page_shows_real_figures(
    page: Page, server: str, fresh_database_url: str, backend: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    national, progress = expected(fresh_database_url)

    # 1. From the home page, in Thai, on a phone.
    page.goto(server + "/")
    page.locator("main a[href='/thanks']").click()
    expect(page).to_have_url(f"{server}/thanks")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.locator("nav a[href='/thanks']")).to_be_visible()  # also in the site's nav

    # 2. This year's national counters: every one is a real figure (the demo has
    #    more than ten people behind each), the same as the database says.
    counters = page.locator("li.counter")
    expect(counters).to_have_count(4)
    heading = page.locator("#counters")
    expect(heading).to_contain_text(str(national.year + 543))  # the Buddhist Era
    for figure in national.figures:
        assert figure.shown, figure
        shown = page.locator(f"li.counter-{figure.key} .counter-figure")
        expect(shown).to_have_text(grouped(figure.value))
        assert re.fullmatch(r"[\d,]+", shown.inner_text())

    # 3. Both demo campaigns, their Thai titles, and progress as counted.
    assert set(progress) == {f"{c['agency']}.{c['name']}" for c in CAMPAIGNS}
    for spec in CAMPAIGNS:
        code = f"{spec['agency']}.{spec['name']}"
        card = page.locator(f"li.campaign[id='c-{code}']")
        expect(card.get_by_role("heading", level=3)).to_have_text(spec["title_th"])
        counted = progress[code]
        if counted.shown:
            bar = card.locator("progress")
            expect(bar).to_have_attribute("max", str(spec["goal"]))
            assert float(bar.get_attribute("value") or 0) == float(counted.bar_value)
            # Past the goal is a success, never "745%".
            reached = "✓ ถึงเป้าแล้ว"
            expect(card.locator(".percent")).to_have_text(
                reached if counted.reached else f"{counted.percent}%"
            )
            expect(card).to_contain_text(grouped(counted.value))
            assert bar.get_attribute("aria-labelledby")  # named by the title and figures
        else:
            expect(card.locator("progress")).to_have_count(0)
    # The blood drive runs in three provinces and has more than ten donors.
    blood = progress["redcross.blood_drive"]
    assert blood.shown
    assert blood.citizens >= 10
    expect(page.locator("li.campaign[id='c-redcross.blood_drive']")).to_contain_text(
        "กรุงเทพมหานคร, นครราชสีมา, เชียงใหม่"
    )

    # 4. The donor's milestone, under the name she chose, with her province.
    shared = page.locator("li.recognition", has_text=DEMO_DONOR_PUBLIC_NAME)
    expect(shared).to_have_count(1)
    expect(shared).to_contain_text("เข็มที่ระลึกบริจาคโลหิตครบ 16 ครั้ง")
    expect(shared).to_contain_text("นครราชสีมา")
    expect(shared).to_contain_text(re.compile(r"25\d\d"))  # a month of the Buddhist Era
    assert DEMO_DONOR_ID not in page.content()

    # Phone first: nothing sticks out sideways at 360 px; nothing serious for axe.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    accessible(page, "/thanks")
    for folder in (TMP, SCREENSHOTS):
        page.screenshot(path=folder / f"dcatalog-thanks-th-{backend}.png", full_page=True)

    # 5. In English too.
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for the good you do")
    expect(page.locator("li.counter-volunteer_hours")).to_contain_text("hours of volunteering")
    expect(page.locator("li.campaign[id='c-redcross.blood_drive'] h3")).to_have_text(
        next(c["title_en"] for c in CAMPAIGNS if c["name"] == "blood_drive")
    )
    expect(page.locator("li.recognition", has_text=DEMO_DONOR_PUBLIC_NAME)).to_contain_text(
        "Pin for 16 blood donations"
    )
    accessible(page, "/thanks (English)")
    for folder in (TMP, SCREENSHOTS):
        page.screenshot(path=folder / f"dcatalog-thanks-en-{backend}.png", full_page=True)
    page.get_by_role("link", name="ไทย").click()

    # 6. The donor takes her milestone off the page: it is gone at once.
    page.goto(server + "/me/sign-in?next=/me/awards")
    page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_DONOR_ID)
    page.get_by_label("วันเกิด").fill(DEMO_DONOR_BORN)
    page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
    expect(page).to_have_url(re.compile(r"/me/awards$"))
    choice = page.locator("form[action$='/public']").filter(
        has=page.locator(f"input[value='{DEMO_DONOR_PUBLIC_NAME}']")
    )
    expect(choice.locator("input[name='shown']")).to_be_checked()
    accessible(page, "/me/awards")
    choice.locator("input[name='shown']").uncheck()
    choice.locator("button[type='submit']").click()
    expect(page).to_have_url(re.compile(r"/me/awards\?done=hidden"))
    page.goto(server + "/thanks")
    expect(page.locator("li.recognition", has_text=DEMO_DONOR_PUBLIC_NAME)).to_have_count(0)
