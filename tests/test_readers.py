"""Several readers of one PostgreSQL store: two dashboard processes (``streamlit run app.py``, each with
``RATINGS_STORE`` set to the same database) serve the same figures while a fetch writes to it.

The fetch runs in this process (the fake Yahoo, ``tests/fake_yahoo.py``, answers it; every batch gives
AAPL and GOOG mean targets of their own: 200 + k and 300 + k for batch k), one store transaction a
batch. Meanwhile Debian's Chromium (Playwright) downloads each server's Overview CSV, alternately: every
page shows ONE batch whole (never AAPL of one and GOOG of another: readers never see half a batch), and
once the writer is done both servers show its last batch (each keys its cache by the store's version).
"""

from __future__ import annotations

import csv
import io
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from chromium import BROWSER_TESTS
from fake_yahoo import FakeYahoo
from helpers import VirtualClock
from playwright.sync_api import Browser
from postgres import PostgresServer

from ratings.refresh import refresh
from ratings.yahoo import LiveConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _server import CHART_SELECTOR, ServerError, streamlit_server

TIMEOUT_MS = 90_000
TICKERS = ("AAPL", "GOOG")
BATCHES = 12
CONFIG = LiveConfig(requests_per_second=None, backoff_base_s=0.0)

pytestmark = BROWSER_TESTS


def set_targets(fake: FakeYahoo, k: int) -> None:
    """Batch `k`'s answers: AAPL's mean target 200 + k, GOOG's 300 + k (the rest as recorded)."""
    for base, symbol in zip((200, 300), TICKERS, strict=True):
        fake.symbols[symbol].modules["financialData"]["targetMeanPrice"] = {"raw": base + k, "fmt": f"{base + k}"}


def write_batch(fake: FakeYahoo, wall: VirtualClock, url: str, k: int) -> None:
    set_targets(fake, k)
    wall.now += timedelta(minutes=1)  # each batch a fetch of its own time
    outcome = refresh(list(TICKERS), store_path=url, config=CONFIG, force=True)
    assert outcome.written is not None and outcome.written.snapshots.inserted == len(TICKERS)


def shown_targets(browser: Browser, app: str) -> tuple[float, ...]:
    """The mean targets of AAPL and GOOG in the Overview's CSV download of the store, as one page shows them."""
    page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    try:
        page.goto(f"{app}/?source=store&tickers={','.join(TICKERS)}", wait_until="domcontentloaded")
        page.locator(CHART_SELECTOR).first.wait_for(state="visible", timeout=TIMEOUT_MS)
        with page.expect_download(timeout=TIMEOUT_MS) as pending:
            page.locator('[data-testid="stDownloadButton"] button', has_text="CSV").first.click()
        text = Path(pending.value.path()).read_text(encoding="utf-8")
    finally:
        page.close()
    rows = {row["ticker"]: row for row in csv.DictReader(io.StringIO(text))}
    return tuple(float(rows[t]["target_mean"]) for t in TICKERS)


def test_two_dashboards_on_one_postgresql_store_show_the_same_whole_batches_while_a_fetch_writes(
    fake: FakeYahoo, wall: VirtualClock, pg_server: PostgresServer, browser: Browser, tmp_path: Path
) -> None:
    url = pg_server.database()
    write_batch(fake, wall, url, 0)
    env = {"RATINGS_STORE": url, "RATINGS_CACHE_DIR": str(tmp_path / "cache")}
    try:
        with streamlit_server("app.py", env=env) as first, streamlit_server("app.py", env=env) as second:
            assert shown_targets(browser, first) == shown_targets(browser, second) == (200.0, 300.0)

            failures: list[BaseException] = []

            def writer() -> None:
                try:
                    for k in range(1, BATCHES + 1):
                        write_batch(fake, wall, url, k)
                except BaseException as exc:  # re-raised below, in the test's thread
                    failures.append(exc)

            thread = threading.Thread(target=writer)
            thread.start()
            seen: list[tuple[float, ...]] = []
            try:
                while thread.is_alive() and len(seen) < 20:
                    for app in (first, second):
                        seen.append(shown_targets(browser, app))
            finally:
                thread.join(timeout=300)
            assert not failures, failures
            assert seen, "no page was read while the fetch wrote"
            for aapl, goog in seen:  # each page: one batch whole
                assert goog - aapl == 100.0 and 200 <= aapl <= 200 + BATCHES, seen
            last = (200.0 + BATCHES, 300.0 + BATCHES)
            assert shown_targets(browser, first) == shown_targets(browser, second) == last
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)
