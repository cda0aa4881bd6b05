"""Two counters end to end in a real browser, in Thai, on SQLite and PostgreSQL.

(a) The Red Cross counter (1280 px) checks the demo donor for the regular donors'
    fast lane, is told she has not consented, and shows a consent request: a QR
    code (decoded here with the vendored npm jsQR, in the browser) of the consent
    page for that benefit, its address as text, and what to do, in Thai. The donor,
    on her phone (390 px), opens that address, signs in and consents; the counter
    checks again, without the ID, and gets the answer. The Red Cross milestones are
    listed by number (7, 16 … 108) on the counter's lists.
(b) A partner shop's till (390 px) reads a citizen's claim QR code with the camera
    (Chromium's fake camera plays a frame of that QR code, made with segno and
    Pillow; headless Chromium on Linux has no BarcodeDetector, so jsQR decodes it),
    redeems it and says so in Thai; the same code again is refused as used.

Screenshots at 390 and 1280 px go to /tmp/shots-counter/."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
import segno
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from dcatalog.benefits.claims import CODE_LENGTH
from dcatalog.demo.data import (
    DEMO_DONOR_BORN,
    DEMO_DONOR_ID,
    DEMO_PASSWORD,
    RED_CROSS_MILESTONES,
)
from dcatalog.identity.national_id import with_check_digit
from tests.browser import test_benefits_story as story
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_benefits_story import (
    BENEFIT,
    TODAY,
    Demo,
    api_key,
    citizen_signs_in,
    claims,
    deed,
    record,
)
from tests.browser.test_catalog_story import sign_in
from tests.browser.test_citizen_story import accessible
from tests.browser.test_content_security_policy import WATCH, Watched

pytestmark = pytest.mark.browser
demo = story.demo  # one demo server per database for this file too
SHOTS = Path("/tmp/shots-counter")  # noqa: S108 (where the brief asks for them, to look at)
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FAST_LANE = "redcross.donor_privilege"  # 3 donations in 365 days: the donor has 4
JSQR = "/static/vendor/jsqr/jsQR.js"

# The consent request's QR code, decoded with the vendored jsQR (the same file the
# redeem page falls back on), drawn large on a white canvas.
DECODE_QR = """async ([selector, src]) => {
  if (!window.jsQR) {
    await new Promise((done, failed) => {
      const script = document.createElement("script");
      script.src = src; script.onload = done; script.onerror = failed;
      document.head.appendChild(script);
    });
  }
  const image = document.querySelector(selector);
  await image.decode();
  const size = 600, canvas = document.createElement("canvas");
  canvas.width = size; canvas.height = size;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; context.fillRect(0, 0, size, size);
  context.drawImage(image, 0, 0, size, size);
  const found = jsQR(context.getImageData(0, 0, size, size).data, size, size);
  return found ? found.data : null;
}"""


def shot(page: Page, name: str, demo: Demo) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{demo.backend}.png", full_page=True)


def options(page: Page, selector: str) -> list[str]:
    return [o.get_attribute("value") or "" for o in page.locator(f"{selector} option").all()]


def milestones_in(values: list[str]) -> list[int]:
    return [int(v.rsplit("_", 1)[1]) for v in values if re.fullmatch(r"redcross\.donor_\d+", v)]


def test_the_red_cross_counter_asks_the_donor_for_consent(browser: Browser, demo: Demo) -> None:
    desk = browser.new_context(viewport=DESK, locale="th-TH")
    desk.add_init_script(WATCH)  # the page and the decoding script pass the CSP
    counter = desk.new_page()
    policy = Watched(counter)
    sign_in(counter, demo.base, "admin@redcross.demo", DEMO_PASSWORD)

    # The milestones, by number, on the counter's lists.
    counter.goto(demo.base + "/staff/ceremonies")
    assert milestones_in(options(counter, "#f-benefit")) == list(RED_CROSS_MILESTONES)
    counter.goto(demo.base + "/staff/eligibility")
    offered = options(counter, "#f-benefit")
    assert milestones_in(offered) == list(RED_CROSS_MILESTONES)
    assert milestones_in(offered)[-3:] == [84, 96, 108]
    # The Red Cross's own benefits come first on its counter.
    own = [code.startswith("redcross.") for code in offered]
    assert own == sorted(own, reverse=True), offered

    # 1. The check: no consent yet, so the counter asks for it.
    counter.get_by_label("เลขประจำตัวประชาชน").fill(DEMO_DONOR_ID)
    counter.get_by_label("สิทธิประโยชน์").select_option(FAST_LANE)
    counter.get_by_label("เหตุผลที่ตรวจสอบ (ประชาชนจะได้อ่าน)").fill("ตรวจสิทธิ์ช่องบริการพิเศษ")
    counter.get_by_role("button", name="ตรวจสอบ", exact=True).click()
    result = counter.locator("#eligibility-result")
    expect(result).to_have_attribute("data-outcome", "refused")
    expect(result).to_contain_text("ไม่มีคำตอบ: ประชาชนยังไม่ได้ให้ความยินยอม")
    request = result.locator("#consent-request")
    expect(request.get_by_role("heading")).to_have_text("ขอความยินยอมจากประชาชน")
    expect(request).to_contain_text("ให้ประชาชนสแกนคิวอาร์โค้ดนี้ด้วยกล้องโทรศัพท์มือถือของตนเอง")
    expect(request).to_contain_text(BENEFIT[FAST_LANE]["name_th"])
    expect(request).to_contain_text("จากนั้นกด “ตรวจอีกครั้ง” ที่หน้านี้")
    expect(request.get_by_role("button", name="ตรวจอีกครั้ง")).to_be_visible()
    qr = request.get_by_role("img", name="คิวอาร์โค้ดของหน้าให้ความยินยอมสำหรับสิทธิประโยชน์นี้")
    expect(qr).to_be_visible()
    url = counter.evaluate(DECODE_QR, ["#consent-request img.qr", JSQR])
    assert url == f"{demo.base}/me/consents?benefit={FAST_LANE}"  # absolute, the benefit only
    expect(request.locator("code.consent-url")).to_have_text(url)
    assert DEMO_DONOR_ID not in counter.content()  # not on the page, in the QR or the address
    accessible(counter, "/staff/eligibility (consent request)")
    shot(counter, "counter-consent-request-1280", demo)

    # 2. The donor scans it with her phone: signs in, and consents.
    phone = browser.new_context(viewport=PHONE, locale="th-TH").new_page()
    phone.goto(url)
    expect(phone).to_have_url(re.compile(r"/me/sign-in\?next="))
    phone.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_DONOR_ID)
    phone.get_by_label("วันเกิด").fill(DEMO_DONOR_BORN)
    phone.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
    expect(phone.get_by_role("heading", name="ใครเห็นความดีของฉันได้บ้าง")).to_be_visible()
    shot(phone, "donor-consent-page-390", demo)
    # The page arrives filled in from the benefit: the Red Cross, for its fast lane,
    # blood donations; health information needs her own separate tick.
    offer = phone.locator("form", has=phone.get_by_role("button", name="ให้ความยินยอม"))
    expect(offer).to_contain_text("สภากาชาดไทย")
    expect(offer).to_contain_text("บริจาคโลหิต (โลหิตรวม)")
    phone.get_by_label("ฉันยินยอมให้เปิดเผยข้อมูลสุขภาพด้วย", exact=False).check()
    phone.get_by_role("button", name="ให้ความยินยอม").click()
    expect(phone.get_by_role("status")).to_contain_text("ให้ความยินยอมแล้ว")
    shot(phone, "donor-consented-390", demo)

    # 3. The counter checks again (no ID typed) and gets the answer with its figures.
    counter.get_by_role("button", name="ตรวจอีกครั้ง").click()
    result = counter.locator("#eligibility-result")
    expect(result).to_have_attribute("data-outcome", "allowed")
    expect(result.get_by_role("status")).to_contain_text("ผ่านเงื่อนไข")
    expect(result.locator("tbody tr")).to_have_count(1)
    expect(result.locator("#consent-request")).to_have_count(0)
    assert DEMO_DONOR_ID not in counter.content()
    policy.check()
    shot(counter, "counter-answered-1280", demo)

    # 4. She sees the check in her access log; her milestones run by number too.
    phone.goto(demo.base + "/me/access-log")
    expect(phone.locator("tbody tr").first).to_contain_text("ตรวจสิทธิ์ช่องบริการพิเศษ")
    phone.goto(demo.base + "/me/awards")
    names = phone.locator("li.entry h2").all_inner_texts()
    reached = [int(n) for t in names for n in re.findall(r"ครบ (\d+) ครั้ง", t)]
    assert reached, names
    assert reached == sorted(reached, reverse=True), names  # the latest first: 16, then 7
    phone.context.close()
    counter.context.close()


def fake_camera_file(folder: Path, text: str) -> Path:
    """An MJPEG file for Chromium's fake camera: one frame of a QR code of ``text``
    on a grey background, repeated (the camera loops it)."""
    symbol = io.BytesIO()
    segno.make(text, error="m", micro=False).save(symbol, kind="png", scale=10, border=4)
    image = Image.open(io.BytesIO(symbol.getvalue())).convert("RGB").resize((400, 400))
    frame = Image.new("RGB", (640, 480), (190, 190, 190))
    frame.paste(image, (120, 40))
    jpeg = io.BytesIO()
    frame.save(jpeg, format="JPEG", quality=90)
    path = folder / "claim-qr.mjpeg"
    path.write_bytes(jpeg.getvalue() * 30)
    return path


def test_the_shop_counter_redeems_a_claim_by_camera(
    browser: Browser, page: Page, demo: Demo, tmp_path: Path
) -> None:
    # A volunteer with 12 hours this year (Greenmart thanks 10) claims the discount.
    volunteer = with_check_digit("520000000015")
    university = api_key(demo, "demouniv", "deeds:write", "deeds:verify")
    done = record(
        demo,
        university,
        [deed(volunteer, "kys.volunteer_activity", TODAY - timedelta(days=1), 12, "till-1")],
    )
    verified = httpx.post(
        f"{demo.base}/api/v1/deeds/verify",
        json={"ids": [d["id"] for d in done]},
        headers=university,
    )
    assert verified.status_code == 200, verified.text
    citizen_signs_in(page, demo, volunteer, "1999-09-09")
    code, _url = claims(page, demo, "greenmart.volunteer_discount")
    assert len(code) == CODE_LENGTH

    # The till: a phone whose camera sees the citizen's QR code.
    camera = fake_camera_file(tmp_path, code)
    with_camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
        ],
    )
    try:
        phone = with_camera.new_context(viewport=PHONE, locale="th-TH", permissions=["camera"])
        phone.add_init_script(WATCH)  # the scanner and jsQR run under the CSP
        till = phone.new_page()
        policy = Watched(till)
        sign_in(till, demo.base, "counter@greenmart.demo", DEMO_PASSWORD)
        till.goto(demo.base + "/staff/redeem")
        expect(till.get_by_label("รหัสรับสิทธิ์")).to_be_visible()  # typing stays possible
        accessible(till, "/staff/redeem")
        shot(till, "till-redeem-390", demo)
        with till.expect_request(lambda r: r.method == "POST") as sent:
            till.get_by_role("button", name="สแกนด้วยกล้อง").click()
        # The code read went into the form's own field, and the form was sent.
        assert f"code={code}" in (sent.value.post_data or ""), sent.value.post_data
        result = till.get_by_role("status").filter(has_text="ใช้สิทธิ์เรียบร้อย")
        expect(result).to_contain_text(BENEFIT["greenmart.volunteer_discount"]["name_th"])
        shot(till, "till-redeemed-390", demo)

        # The same code again, by camera: refused, it was used.
        till.get_by_role("button", name="สแกนด้วยกล้อง").click()
        used = till.locator(".alert-error[role=status]")
        expect(used).to_contain_text("ใช้แล้ว")
        expect(used).to_contain_text(BENEFIT["greenmart.volunteer_discount"]["name_th"])
        expect(till.get_by_text("ใช้สิทธิ์เรียบร้อย")).to_have_count(0)
        shot(till, "till-used-390", demo)

        # A photo of a QR code (the file input opens the phone's camera app) is read
        # the same way: here one of a code this shop never issued.
        photo = tmp_path / "photo.png"
        segno.make("ABCDE FGHJK", error="m", micro=False).save(photo, scale=8, border=4)
        till.locator("#f-photo").set_input_files(photo)
        expect(till.get_by_role("status").first).to_contain_text("ไม่พบรหัสนี้ในสิทธิประโยชน์ของหน่วยงานคุณ")
        policy.check()
        till.set_viewport_size(DESK)
        shot(till, "till-unknown-1280", demo)
    finally:
        with_camera.close()
