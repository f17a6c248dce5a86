"""One real-browser test: `streamlit run app.py` driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

# The server helper is shared with scripts/screenshot.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _server import (
    CHART_SELECTOR,
    CHROMIUM,
    CHROMIUM_ARGS,
    EXCEPTION_SELECTOR,
    REPO_ROOT,
    ServerError,
    streamlit_server,
)

from ratings.core import implied_upside
from ratings.data import load_bundle
from ratings.formatting import percent
from ratings.tickers import WATCHLIST

ARTIFACTS = REPO_ROOT / "test-artifacts"
# The overview's table: Streamlit's data grid, drawn on a canvas; an accessible copy of the cells in view
# is in the DOM.
TABLE_SELECTOR = '[data-testid="stDataFrame"]'
# The chart's category labels (plotly draws them as SVG text).
CHART_LABEL_SELECTOR = f"{CHART_SELECTOR} .xtick text, {CHART_SELECTOR} .ytick text"
# (row index, column index, text) of every cell of the table in view.
CELLS_JS = """cells => cells.map(cell => [
    cell.parentElement.getAttribute("aria-rowindex"), cell.getAttribute("aria-colindex"), cell.textContent,
])"""
TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (Debian: apt-get install chromium)"),
]


@pytest.fixture
def app_url() -> Iterator[str]:
    """The served app; the server is stopped when the test ends, whatever happened."""
    try:
        with streamlit_server("app.py") as url:
            yield url
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)


def table_rows(page: Page) -> list[list[str]]:
    """The first table's body rows, read before and after scrolling the grid to its right end: the grid
    only puts the columns in view into the DOM."""
    table = page.locator(TABLE_SELECTOR).first
    rows: dict[str, dict[int, str]] = {}
    for scroll_right in (False, True):
        if scroll_right:
            table.locator(".dvn-scroller").first.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
            page.wait_for_timeout(500)  # the grid redraws on the next frames
        for row, column, text in table.locator('[role="gridcell"]').evaluate_all(CELLS_JS):
            rows.setdefault(row, {})[int(column)] = text
    return [[cells[column] for column in sorted(cells)] for cells in rows.values()]


def expected_ford_upside() -> str:
    """F's upside as the overview should print it, from the bundled Yahoo row's own target and price."""
    consensus = load_bundle().consensus
    yahoo = consensus[(consensus["ticker"] == "F") & (consensus["source"].str.contains("yahoo", case=False))]
    assert len(yahoo) == 1, "the bundle should hold exactly one Yahoo consensus row for F"
    return percent(implied_upside(yahoo["target_mean"], yahoo["price"]).iloc[0])


def test_overview_in_a_real_browser(app_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            started = time.perf_counter()
            page.goto(app_url, wait_until="domcontentloaded")
            appeared = True
            try:
                # The chart or an exception: a broken page fails at once, not after the timeout.
                page.locator(f"{CHART_SELECTOR}, {EXCEPTION_SELECTOR}").first.wait_for(
                    state="visible", timeout=TIMEOUT_MS
                )
                load_seconds = time.perf_counter() - started
                if page.locator(EXCEPTION_SELECTOR).count() == 0:
                    page.locator(TABLE_SELECTOR).first.wait_for(state="visible", timeout=TIMEOUT_MS)
                    # Let the script run settle so the screenshot shows the finished page.
                    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
            except PlaywrightTimeout:
                appeared = False
            if not appeared or page.locator(EXCEPTION_SELECTOR).count():
                page.screenshot(path=str(ARTIFACTS / "overview-failure.png"), full_page=True)
                pytest.fail(
                    "the overview did not show its chart and table; the page says:\n" + page.inner_text("body")[:3000],
                    pytrace=False,
                )
            page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

            page_text = page.inner_text("body")
            rows = table_rows(page)
            chart_labels = page.locator(CHART_LABEL_SELECTOR).all_text_contents()
            exceptions = page.locator(EXCEPTION_SELECTOR).all_inner_texts()
        finally:
            browser.close()

    print(f"overview load time (navigation to chart visible): {load_seconds:.2f} s")
    (ARTIFACTS / "load-time.txt").write_text(f"{load_seconds:.2f}\n")

    assert exceptions == [], f"the page shows an exception: {exceptions}"
    assert "Traceback" not in page_text
    # The data grid only puts the rows in view into the DOM, so the chart (one row per ticker) is where
    # all eight must show; the table must show F's Yahoo upside in an F row.
    missing = [ticker for ticker in WATCHLIST if ticker not in chart_labels]
    assert missing == [], f"watchlist tickers missing from the chart: {missing} (labels: {chart_labels})"
    ford_upside = expected_ford_upside()
    ford_rows = [row for row in rows if row and row[0] == "F"]
    assert any(ford_upside in row for row in ford_rows), f"no F row shows {ford_upside}: {rows}"
