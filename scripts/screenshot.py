"""Write docs/screenshot.png for the README: the overview, chart visible, in Debian's Chromium.

Run: .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _server import CHART_SELECTOR, CHROMIUM, CHROMIUM_ARGS, EXCEPTION_SELECTOR, REPO_ROOT, streamlit_server
from playwright.sync_api import ViewportSize, sync_playwright

# Tall enough for the table and the chart below it; the picture is then cut just under the chart.
VIEWPORT: ViewportSize = {"width": 1400, "height": 1800}
MARGIN_PX = 8
TIMEOUT_MS = 60_000


def take_screenshot(out: Path) -> float:
    """Serve the app, open the overview and save it down to the chart in `out`; returns the load time in s."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with streamlit_server("app.py") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            started = time.perf_counter()
            page.goto(url, wait_until="domcontentloaded")
            page.locator(CHART_SELECTOR).first.wait_for(state="visible", timeout=TIMEOUT_MS)
            load_seconds = time.perf_counter() - started
            page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
            if page.locator(EXCEPTION_SELECTOR).count():
                raise RuntimeError("the overview shows an exception; not saving a screenshot of it")
            chart = page.locator(CHART_SELECTOR).first.bounding_box()
            if chart is None:
                raise RuntimeError("the overview's chart has no layout box")
            height = min(VIEWPORT["height"], round(chart["y"] + chart["height"]) + MARGIN_PX)
            page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height})
        finally:
            browser.close()
    return load_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshot.png")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (Debian: apt-get install chromium)", file=sys.stderr)
        return 1
    load_seconds = take_screenshot(args.out)
    print(f"wrote {args.out} (overview loaded in {load_seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
