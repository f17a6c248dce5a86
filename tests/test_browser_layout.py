"""Every page in Debian's Chromium at a laptop's and a phone's width, light and dark: what a reader sees.

For each page, width and theme: no text of a chart is cut off by the chart's edge, no label runs into
another (annotations among themselves, a bar's or point's label into the axis labels), the key figures
of the Overview are in view without scrolling sideways, a dark page has no white chart boxes, and no
request leaves this machine. One server and one browser for the module; each case opens its own page
and leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from chromium import BROWSER_TESTS
from playwright.sync_api import Browser, Page

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _server import (
    EXCEPTION_SELECTOR,
    REPO_ROOT,
)

from ratings.formatting import OVERVIEW_KEY_COLUMNS

ARTIFACTS = REPO_ROOT / "test-artifacts"
TIMEOUT_MS = 60_000
LAPTOP, PHONE = 1400, 400
PAGES = {
    "overview": "/",
    "overview-many": "/?tickers=F,TSLA,NVDA,AAPL,AMZN,GOOG,ABBV,PSNY,1810.HK",
    "ticker-aapl": "/ticker?ticker=AAPL",
    "ticker-aapl-ratings": "/ticker?ticker=AAPL&section=ratings",
    "ticker-aapl-actions": "/ticker?ticker=AAPL&section=actions",
    "ticker-f": "/ticker?ticker=F",
    "ticker-f-history": "/ticker?ticker=F&section=history",
    "changes": "/changes",
    "compare": "/compare",
    "compare-ranking": "/compare?section=ranking",
    "compare-all-ranking": "/compare?universe=all&n=25&section=ranking",
    "compare-scatter": "/compare?section=scatter",
    "track-record": "/track_record",
    "methodology": "/methodology",
}
# A run has ended (none pending) and every Plotly chart on the page is drawn.
SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'));
}"""

pytestmark = BROWSER_TESTS

# Every text of every Plotly chart on the page, measured where the browser drew it. Slack of a pixel for
# anti-aliasing; an overlap must cover more than 4 square pixels to count.
LAYOUT_PROBLEMS_JS = r"""
() => {
  const problems = [];
  const box = e => e.getBoundingClientRect();
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1
    && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const overlap = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
    * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const shown = el => el.textContent.trim() && el.getClientRects().length && box(el).width > 0;
  document.querySelectorAll('.js-plotly-plot').forEach((plot, chart) => {
    const frame = box(plot.querySelector('svg.main-svg'));
    for (const text of [...plot.querySelectorAll('svg text')].filter(shown)) {
      if (!inside(box(text), frame)) problems.push(`chart ${chart}: "${text.textContent}" cut off by the edge`);
    }
    const notes = [...plot.querySelectorAll('.annotation text')].filter(shown);
    notes.forEach((a, i) => notes.slice(i + 1).forEach(b => {
      if (overlap(box(a), box(b)) > 4) problems.push(`chart ${chart}: "${a.textContent}" overlaps "${b.textContent}"`);
    }));
    const labels = [...plot.querySelectorAll('.textpoint text, .bartext')].filter(shown);
    const ticks = [...plot.querySelectorAll('.xtick text, .ytick text')].filter(shown);
    for (const label of labels) for (const tick of ticks) {
      if (overlap(box(label), box(tick)) > 4) {
        problems.push(`chart ${chart}: "${label.textContent}" runs into "${tick.textContent}"`);
      }
    }
  });
  return problems;
}
"""


def open_page(browser: Browser, url: str, width: int, scheme: str) -> tuple[Page, list[str]]:
    """`url` at `width` in the `scheme` colour scheme, every chart drawn; the page and every request it made."""
    page = browser.new_page(viewport={"width": width, "height": 1000}, color_scheme=scheme)  # type: ignore[arg-type]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url, wait_until="domcontentloaded")
    page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=TIMEOUT_MS)
    # The run has finished and every chart on it is drawn (a page or tab may have none: its text counts too).
    page.wait_for_function(SETTLED_JS, timeout=TIMEOUT_MS, polling=50)
    # Go through the page once (the pointer over the main column, which scrolls), then wait for quiet.
    page.mouse.move(width * 0.75, 500)
    for _ in range(12):
        page.mouse.wheel(0, 800)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    return page, requests


def save(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [LAPTOP, PHONE])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_the_screen_and_stays_on_this_machine(
    browser: Browser, app_url: str, name: str, width: int, scheme: str
) -> None:
    page, requests = open_page(browser, app_url + PAGES[name], width, scheme)
    try:
        save(page, f"layout-{name}-{width}-{scheme}")
        assert page.locator(EXCEPTION_SELECTOR).count() == 0, page.inner_text("body")[:2000]
        problems: list[str] = page.evaluate(LAYOUT_PROBLEMS_JS)
        assert problems == []
        outside = sorted({u for u in requests if urlsplit(u).hostname not in ("localhost", "127.0.0.1")})
        assert outside == [], "requests left the machine"
        if scheme == "dark":
            papers: list[Any] = page.evaluate(
                "() => [...document.querySelectorAll('.js-plotly-plot')].map(p => p._fullLayout.paper_bgcolor)"
            )
            assert all(p not in ("white", "#fff", "#ffffff", "rgb(255, 255, 255)") for p in papers), papers
    finally:
        page.close()


@pytest.mark.parametrize(("width", "in_view"), [(LAPTOP, OVERVIEW_KEY_COLUMNS), (PHONE, OVERVIEW_KEY_COLUMNS[:4])])
def test_the_overviews_key_figures_are_in_view_without_scrolling_sideways(
    browser: Browser, app_url: str, width: int, in_view: tuple[str, ...]
) -> None:
    page, _ = open_page(browser, app_url, width, "light")
    try:
        grid = page.locator('[data-testid="stDataFrame"]').first
        # open_page scrolled down the page; the grid draws its cells (and their accessible copy) only in view.
        grid.scroll_into_view_if_needed()
        grid.locator('[role="columnheader"]').first.wait_for(state="attached", timeout=TIMEOUT_MS)
        # The grid puts in its accessible copy the columns in view (and no others): read them unscrolled.
        shown = grid.locator('[role="columnheader"]').all_text_contents()
        missing = [column for column in in_view if column not in shown]
        assert missing == [], f"at {width} px, out of view: {missing} (in view: {shown})"
    finally:
        page.close()


def test_a_keyboard_gets_into_the_table_and_out_again(browser: Browser, app_url: str) -> None:
    page, _ = open_page(browser, app_url, LAPTOP, "light")

    def focused() -> str:
        return str(page.evaluate("() => (document.activeElement.closest('[data-testid]') || {}).dataset?.testid || ''"))

    try:
        page.get_by_role("textbox", name="Watchlist").focus()
        for _ in range(30):
            page.keyboard.press("Tab")
            if focused() == "data-grid-canvas":
                break
        assert focused() == "data-grid-canvas", "Tab never reaches the table"
        page.keyboard.press("Escape")  # as the table's text alternative says (ratings.dashboard.GRID_KEYS)
        page.keyboard.press("Tab")
        assert focused() not in ("data-grid-canvas", ""), "Escape, then Tab, must leave the table"
    finally:
        page.close()
