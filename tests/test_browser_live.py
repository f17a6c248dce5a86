"""Real-browser tests of the Live (Yahoo) source: `streamlit run app.py` in Debian's Chromium, no network.

The server gets its own store (none yet, in a temporary folder) and a proxy on a closed localhost port,
so that every request the live loader makes is refused at once on this machine (curl error 7): a
refresh fails the way it fails offline, and no request ever leaves 127.0.0.1.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from chromium import BROWSER_TESTS
from playwright.sync_api import Browser, Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _server import ServerError, free_port, streamlit_server

from ratings.tickers import WATCHLIST

TIMEOUT_MS = 90_000

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("live-server")
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every request is refused at once
    env = {
        "RATINGS_STORE": str(folder / "store.sqlite"),
        "RATINGS_CACHE_DIR": str(folder / "cache"),
        **{name: closed for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY")},
        "NO_PROXY": "localhost,127.0.0.1",
        "no_proxy": "localhost,127.0.0.1",
    }
    try:
        with streamlit_server("app.py", env=env) as url:
            yield url
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)


def watchlist_box(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("textbox", name="Watchlist")


def test_the_watchlist_box_keeps_its_list_after_a_switch_to_live_and_a_refresh(browser: Browser, app_url: str) -> None:
    """The bug: bundle -> Live (no store yet) -> Refresh showed an empty box while the page listed the
    eight tickers, and typing MSFT then replaced the whole watchlist."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    listed = ", ".join(WATCHLIST)
    try:
        page.goto(app_url, wait_until="domcontentloaded")
        expect(watchlist_box(page)).to_have_value(listed, timeout=TIMEOUT_MS)
        page.get_by_text("Live (Yahoo)").click()
        expect(page.get_by_text("There is no local store yet")).to_be_visible(timeout=TIMEOUT_MS)
        page.get_by_role("button", name="Refresh from Yahoo").click()
        expect(page.get_by_text("Last refresh")).to_be_visible(timeout=TIMEOUT_MS)
        expect(watchlist_box(page)).to_have_value(listed)
        box = watchlist_box(page)
        page.mouse.move(900, 450)  # off the Refresh button, whose tooltip would cover the box
        box.click()
        box.press("End")
        box.type(", MSFT")
        box.press("Enter")
        expect(page).to_have_url(re.compile("MSFT"))
        assert parse_qs(urlsplit(page.url).query)["tickers"] == [",".join([*WATCHLIST, "MSFT"])]
        expect(watchlist_box(page)).to_have_value(f"{listed}, MSFT")
    finally:
        page.close()
