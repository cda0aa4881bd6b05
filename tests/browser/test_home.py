"""What a person sees on the home page, in Thai and in English, on a phone."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.one_backend("sqlite")]  # words and layout

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_home_page_in_thai_then_english_on_a_phone(page: Page, server: str, backend: str) -> None:
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.get_by_role("heading", level=1)).to_have_text("ความดีที่นับได้ มองเห็นได้ และได้รับคำขอบคุณ")
    virtues = page.locator(".virtue h3")
    expect(virtues).to_have_text(["พอเพียง", "วินัย", "สุจริต", "จิตอาสา", "สุขภาวะ"])
    expect(page.get_by_text("กองทุนเงินให้กู้ยืมเพื่อการศึกษา (กยศ.)")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("ข้อมูลสมมติ")  # the demo banner
    expect(page.locator("footer")).to_contain_text(re.compile(r"พ\.ศ\. 25\d\d"))

    # The self-hosted Sarabun font is the one the Thai text is drawn with.
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px Sarabun', 'ความดี')")
    assert page.evaluate(
        "[...document.fonts].some(f => f.family.includes('Sarabun') && f.status === 'loaded')"
    )
    # Phone first: nothing sticks out sideways at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"home-th-{backend}.png", full_page=True)

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Good deeds, counted, seen and thanked"
    )
    expect(page.locator(".virtue h3").first).to_have_text("Sufficiency")
    expect(page.get_by_text("Student Loan Fund (SLF)")).to_be_visible()
    expect(page.locator("footer")).to_contain_text(re.compile(r"Today is \d+ \w+ 20\d\d"))
    page.screenshot(path=SCREENSHOTS / f"home-en-{backend}.png", full_page=True)

    # The choice is remembered on the next visit, and can be switched back.
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="ไทย").click()
    expect(page.locator("html")).to_have_attribute("lang", "th")


def test_api_docs_render_from_self_hosted_assets(page: Page, server: str) -> None:
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(server + "/api/docs")
    expect(page.get_by_text("D-Catalog API").first).to_be_visible()
    expect(page.get_by_text("/readyz").first).to_be_visible()
    assert failed == []
