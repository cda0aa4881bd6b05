"""The programme dashboard in a real browser, in Thai, over the synthetic national
dataset: the demo server, the dataset of ``benchmarks.dataset`` imported through
``dcatalog import deeds`` (the real path: volunteer hours stay pending, donations
and activity days are verified), then ``dcatalog stats refresh``. The programme
office finds the dashboard, sees real figures, the map and the trend, filters,
downloads a table, and no figure under 10 people shows. Screenshots (phone and
desktop) are saved under /tmp/dashboard-screens for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from benchmarks.dataset import MIX, generate
from playwright.sync_api import Browser, Page, expect

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import fiscal_year
from dcatalog.demo.data import DEMO_PASSWORD
from tests.browser.test_catalog_story import sign_in
from tests.conftest import (
    DemoTemplate,
    PostgresDatabases,
    _new_database_url,
    copy_demo,
    serve_env,
)
from tests.helpers import run_cli, serving

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/dashboard-screens")  # noqa: S108 (for a person to look at)
ROWS = 40_000  # 5,000 citizens; those with verified deeds: about 40 a province
PEOPLE = ("ผู้ร่วมทำความดี", "Citizens taking part")  # the column, in Thai once translated


@pytest.fixture(scope="module")
def national(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
    demo_template: Callable[[str], DemoTemplate],
) -> Iterator[str]:
    """A copy of the demo (made by ``dcatalog demo``), the national dataset imported
    and the statistics refreshed by the real commands, then ``dcatalog serve``."""
    folder = tmp_path_factory.mktemp(f"dashboard-{backend}")
    env = serve_env(_new_database_url(backend, folder, postgres_databases), folder / "var")
    copy_demo(demo_template(backend), env["DCATALOG_DATABASE_URL"], folder / "var")
    generate(folder / "data", ROWS)
    for agency in MIX:
        imported = run_cli(
            "import", "deeds", str(folder / "data" / f"{agency}.csv"), "--agency", agency, env=env
        )
        assert imported.returncode == 0, imported.stderr[-2000:]
    refreshed = run_cli("stats", "refresh", env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    with serving(env, folder / "server.log") as base:
        yield base


def figures_in(page: Page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_the_programme_office_reads_the_dashboard(
    browser: Browser, page: Page, national: str, backend: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, national, "office@pmdu.demo", DEMO_PASSWORD)
    page.locator('a[href="/admin/dashboard"]').click()
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator(".freshness")).to_contain_text("2569")  # a Thai date, Buddhist Era
    this_year = int(figures_in(page, ".totals dd")[0].replace(",", ""))
    assert this_year > 0  # the current fiscal year: a month or two so far

    # The last fiscal year: most of the dataset. Real figures, not hidden.
    last_year = f"fy:{fiscal_year(today_in_thailand()) - 1}"
    page.locator("#f-period").select_option(last_year)
    expect(page).to_have_url(re.compile(f"period={last_year.replace(':', '(:|%3A)')}$"))
    totals = figures_in(page, ".totals dd")
    assert totals[0] not in ("<10", "x", "—")
    assert int(totals[0].replace(",", "")) > 5 * this_year, totals  # verified deeds
    citizens = int(totals[5].replace(",", ""))  # after deeds and a quantity per unit
    assert citizens > 1000  # people, each counted once

    # The map: all 77 provinces, coloured or hatched; the table under it.
    expect(page.locator("svg.choropleth use.province")).to_have_count(77)
    coloured = page.locator("svg.choropleth use.province:not(.hidden)").count()
    assert coloured > 50
    rows = page.locator("table.figures").nth(2).locator("tbody tr")
    assert rows.count() > 40

    # No figure of fewer than 10 people anywhere on the page: in every table, the
    # citizens column reads "<10", "x", 0 or 10 and more.
    checked = 0
    for table in page.locator("table.figures").all():
        headers = [t.strip() for t in table.locator("thead th").all_inner_texts()]
        column = next(i for i, h in enumerate(headers) if h in PEOPLE)
        for row in table.locator("tbody tr").all():
            cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
            if len(cells) > column:
                value = cells[column]
                if value not in ("<10", "x"):
                    assert int(value.replace(",", "")) == 0 or int(value.replace(",", "")) >= 10
                checked += 1
    assert checked > 60

    page.screenshot(path=str(SHOTS / f"dashboard-phone-{backend}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / f"dashboard-desktop-{backend}.png"), full_page=True)

    # Filters apply at once (htmx) and stay in the address.
    page.locator("#f-virtue").select_option("health")
    expect(page).to_have_url(re.compile(r"virtue=health"))
    expect(page.locator("#f-virtue")).to_have_value("health")
    health = int(figures_in(page, ".totals dd")[0].replace(",", ""))
    assert 0 < health < int(totals[0].replace(",", ""))
    page.locator("#f-province").select_option("TH-58")  # Mae Hong Son: few people
    expect(page).to_have_url(re.compile(r"province=TH-58"))
    page.screenshot(path=str(SHOTS / f"dashboard-filtered-{backend}.png"), full_page=True)

    # Every table downloads as CSV, with what the page shows.
    page.locator("#f-province").select_option("")  # (each change swaps the form: one at a time)
    expect(page).not_to_have_url(re.compile(r"province=TH-58"))
    page.locator("#f-virtue").select_option("")
    expect(page).not_to_have_url(re.compile(r"virtue=health"))
    with page.expect_download() as caught:
        page.locator('a[href^="/admin/dashboard.csv?table=province"]').click()
    content = Path(caught.value.path()).read_bytes()
    assert content.startswith("\ufeff".encode())
    lines = content.decode("utf-8-sig").splitlines()
    # One quantity per unit of the catalog (hours, times, days), then the counts.
    assert lines[0].startswith("code,name,deeds,hours,times,days,donations,citizens")
    assert len(lines) > 40
    assert lines[-1].startswith("total,")
