"""A certificate, end to end in a real browser: the demo student asks for a
transcript of her volunteer hours, shares it and downloads the PDF; a stranger
(another browser) opens the QR code's link and sees it valid; the university
revokes one of the deeds and the same link says revoked."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from dcatalog.actors import operator_for
from dcatalog.agencies.service import get_agency
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.credentials.multikey import encode_secret_key
from dcatalog.db import Database
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import Deed
from dcatalog.demo.data import DEMO_STUDENT_BORN, DEMO_STUDENT_ID
from tests.browser.test_catalog_story import SCREENSHOTS
from tests.browser.test_citizen_story import accessible
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY
from tests.helpers import run_cli, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def issuing_server(fresh_database_url: str, tmp_path: Path) -> Iterator[str]:
    """The demo, served, with an issuer key given as a setting (as on PostgreSQL)."""
    env = {
        "DCATALOG_DATABASE_URL": fresh_database_url,
        "DCATALOG_INSTANCE_DIR": str(tmp_path / "var"),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
        "DCATALOG_ISSUER_KEY": encode_secret_key(Ed25519PrivateKey.generate()),
        "DCATALOG_DEMO": "true",
        "DCATALOG_WORKERS": "1",
    }
    loaded = run_cli("demo", env=env)
    assert loaded.returncode == 0, loaded.stderr
    with serving(env, tmp_path / "server.log") as base:
        yield base


def revoke_a_deed(database_url: str) -> None:
    """The university takes one of her volunteer-hour records back (the service, as
    its staff page or API would)."""
    database = Database.from_url(database_url)
    try:
        with database.write_session() as session:
            deed = session.scalar(select(Deed).where(Deed.external_id == "demo-student-hours-3"))
            assert deed is not None
            rules = deeds.Rules(today=today_in_thailand(), max_age_days=730, academic_start=(5, 16))
            university = operator_for(get_agency(session, "demouniv").id)
            deeds.revoke(session, university, rules, deed.id, "บันทึกซ้ำ")
            session.commit()
    finally:
        database.dispose()


def test_a_certificate_checked_by_a_stranger(
    browser: Browser,
    page: Page,
    issuing_server: str,
    fresh_database_url: str,
    backend: str,
    tmp_path: Path,
) -> None:
    server = issuing_server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. She signs in and asks for a certificate of last academic year's hours.
    page.goto(server + "/me/credentials")
    page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_STUDENT_ID)
    page.get_by_label("วันเกิด").fill(DEMO_STUDENT_BORN)
    page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
    expect(page.get_by_role("heading", name="ใบรับรองของฉัน", level=1)).to_be_visible()
    accessible(page, "/me/credentials (empty)")
    total = page.get_by_label("ยอดรวมใด")
    option = total.locator("option", has_text="กิจกรรมจิตอาสา").filter(has_text="ปีการศึกษา").first
    total.select_option(option.get_attribute("value"))
    page.get_by_label("แบ่งปันทันที", exact=False).check()
    page.get_by_role("button", name="ออกใบรับรอง").click()
    expect(page.get_by_role("status")).to_contain_text("ใบรับรองของคุณพร้อมแล้ว")
    accessible(page, "/me/credentials")
    page.screenshot(path=SCREENSHOTS / f"credentials-mine-{backend}.png", full_page=True)
    assert DEMO_STUDENT_ID not in page.content()
    link = page.locator("a.share-link").first.inner_text()
    assert re.fullmatch(re.escape(server) + r"/c/[2-9a-z]{12}", link)

    # 2. She types the name to print, then downloads the PDF: Thai, with the link of its QR code.
    page.get_by_label("ชื่อของคุณที่จะพิมพ์บนใบรับรอง (ไม่บังคับ)").first.fill("สมหญิง ดีใจ")
    with page.expect_download() as download:
        page.get_by_role("button", name="ดาวน์โหลดใบรับรอง (PDF)").first.click()
    saved = tmp_path / "certificate.pdf"
    download.value.save_as(saved)
    pdf = pdfium.PdfDocument(io.BytesIO(saved.read_bytes()))
    text = pdf[0].get_textpage().get_text_range().replace("\r", "").replace("\n", "")
    assert "ใบรับรองผลความดี" in text
    assert "สมหญิง ดีใจ" in text  # the name she typed, printed as hers
    assert link in text
    pdf[0].render(scale=1).to_pil().save(SCREENSHOTS / f"credentials-pdf-{backend}.png")
    assert pdf.count_attachments() == 1

    # 3. A stranger, in a browser of their own, opens the QR code's link.
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="th-TH")
    stranger = context.new_page()
    stranger.goto(link)
    verdict = stranger.locator("[data-outcome]")
    expect(verdict).to_have_attribute("data-outcome", "valid")
    expect(verdict).to_contain_text("ถูกต้อง")
    expect(stranger.locator("main")).to_contain_text("30")
    assert DEMO_STUDENT_ID not in stranger.content()
    accessible(stranger, "/c/<id> valid")
    stranger.screenshot(
        path=SCREENSHOTS / f"credentials-public-valid-{backend}.png", full_page=True
    )

    # 4. The university revokes one of the deeds: the same link says revoked.
    revoke_a_deed(fresh_database_url)
    stranger.reload()
    expect(verdict).to_have_attribute("data-outcome", "revoked")
    expect(verdict).to_contain_text("ถูกเพิกถอน")
    assert "บันทึกซ้ำ" not in stranger.content()  # the reason is hers, not the public's
    accessible(stranger, "/c/<id> revoked")
    stranger.screenshot(
        path=SCREENSHOTS / f"credentials-public-revoked-{backend}.png", full_page=True
    )

    # 5. She sees why, and stops sharing: the link says so.
    page.reload()
    expect(page.locator("main")).to_contain_text("บันทึกซ้ำ")
    page.get_by_role("button", name="หยุดแบ่งปัน").first.click()
    expect(page.get_by_role("status")).to_contain_text("หยุดแบ่งปันแล้ว")
    stranger.reload()
    expect(verdict).to_have_attribute("data-outcome", "withdrawn")
    expect(verdict).to_contain_text("ไม่ได้แบ่งปันแล้ว")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    context.close()
