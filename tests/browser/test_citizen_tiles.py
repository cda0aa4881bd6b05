"""The totals on /me are the tiles' own big figures: no rule of another page
(the home page's ``.points`` lists once made them small, grey and indented)."""

import pytest
from playwright.sync_api import Page, expect

from dcatalog.demo.data import DEMO_STUDENT_BORN, DEMO_STUDENT_ID

pytestmark = pytest.mark.browser

STYLE = """element => {
  const style = getComputedStyle(element);
  const label = getComputedStyle(element.nextElementSibling);
  return {size: style.fontSize, weight: style.fontWeight, colour: style.color,
          indent: style.paddingLeft, labelSize: label.fontSize};
}"""


def test_the_totals_on_my_good_deeds_are_the_tiles_own(page: Page, server: str) -> None:
    page.goto(server + "/me/sign-in?next=/me")
    page.get_by_label("เลขประจำตัวประชาชน (13 หลัก)").fill(DEMO_STUDENT_ID)
    page.get_by_label("วันเกิด").fill(DEMO_STUDENT_BORN)
    page.get_by_role("button", name="ลงชื่อเข้าใช้ (สาธิต)").click()
    total = page.get_by_role("region", name="ยอดรวม").locator(".tile .points").first
    expect(total).to_be_visible()
    seen = total.evaluate(STYLE)
    assert seen["indent"] == "0px"  # the home page's lists indent by 1.2rem
    assert seen["colour"] == "rgb(29, 36, 51)"  # --ink, not the labels' grey --muted
    assert seen["weight"] == "700"
    assert float(seen["size"].removesuffix("px")) > 1.5 * float(
        seen["labelSize"].removesuffix("px")
    )  # a figure that stands out above its label
