"""The Track record page in a real browser: `streamlit run app.py` driven by Playwright in Debian's Chromium.

One server and one browser serve the module. The smoke test opens a shared link straight to the page
(Streamlit's own routing), waits for its chart and checks that it is the app's page, with its ranking and
the success-rate chart drawn (plotly's SVG), not a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from chromium import BROWSER_TESTS
from playwright.sync_api import Browser
from playwright.sync_api import TimeoutError as PlaywrightTimeout

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _server import (
    CHART_SELECTOR,
    EXCEPTION_SELECTOR,
    REPO_ROOT,
)

ARTIFACTS = REPO_ROOT / "test-artifacts"
TIMEOUT_MS = 60_000

pytestmark = BROWSER_TESTS


def test_the_track_record_page_opens_and_its_chart_shows(app_url: str, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{app_url}/track_record?ticker=AAPL", wait_until="domcontentloaded")
    try:
        page.locator(f"{CHART_SELECTOR}, {EXCEPTION_SELECTOR}").first.wait_for(state="visible", timeout=TIMEOUT_MS)
    except PlaywrightTimeout:
        page.screenshot(path=str(ARTIFACTS / "track-record-failure.png"), full_page=True)
        pytest.fail("the Track record page showed no chart:\n" + page.inner_text("body")[:3000], pytrace=False)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "track-record.png"), full_page=True)
    failed = page.locator(EXCEPTION_SELECTOR).count()
    heading = page.locator("h1").first.inner_text()
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    # The success-rate chart: one dot per ranked firm, its interval bars drawn as SVG paths.
    dots = page.locator(f"{CHART_SELECTOR} .scatterlayer .points path").count()
    body = page.inner_text("body")
    page.close()

    assert failed == 0, body[:3000]
    assert heading == "Track record: how good are the analysts?", heading
    assert "Track record" in sidebar and "Data:" in sidebar, f"the page ran outside app.py: {sidebar}"
    assert dots > 0, "the success-rate chart drew no firm"
    assert "Firms ranked" in body and "EW-SP500" in body
