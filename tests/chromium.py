"""Real-browser fixtures (a pytest plugin, loaded by conftest.py): Debian's Chromium driven by Playwright,
and the dashboard served on the bundle, one server and one browser per test module that asks for them.

A module of browser tests sets ``pytestmark = BROWSER_TESTS``; a module that needs another server
(another store, another environment) defines its own ``app_url``, which takes precedence over this one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _server import CHROMIUM, CHROMIUM_ARGS, ServerError, streamlit_server

BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (Debian: apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """The served app; the server is stopped when the module ends, whatever happened."""
    try:
        with streamlit_server("app.py") as url:
            yield url
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
