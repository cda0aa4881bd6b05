"""A real server (``dcatalog demo`` then ``dcatalog serve``) and a real headless
Chromium (Debian's /usr/bin/chromium) driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import DemoTemplate, copy_demo, serve_env
from tests.helpers import serving

CHROMIUM = os.environ.get("DCATALOG_TEST_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium keeps trying to reach Google's services from a machine
# that has no network, and starts slowly or fails.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (./dev test installs Debian's chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(
    fresh_database_url: str,
    tmp_path: Path,
    backend: str,
    demo_template: Callable[[str], DemoTemplate],
) -> Iterator[str]:
    """A copy of the demo (``demo_template``, made by the real ``dcatalog demo``),
    served by the real ``dcatalog serve``."""
    env = serve_env(fresh_database_url, tmp_path / "var")
    copy_demo(demo_template(backend), fresh_database_url, tmp_path / "var")
    with serving(env, tmp_path / "server.log") as base:
        yield base


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="th-TH")
    page = context.new_page()
    yield page
    context.close()
