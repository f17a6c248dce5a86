"""Benchmark: the dashboard's interactions against a bare Streamlit app, side by side in Debian's Chromium.

    python benchmarks/interaction.py [--rounds 5] [--cold 3]

Both apps are served with the same flags (scripts/_server.py) and driven with Playwright in
/usr/bin/chromium. The baseline (benchmarks/baseline/) has st.navigation over three small pages, each
one Plotly chart and one dataframe read from a Parquet file of the bundle. Measured, interleaved
(dashboard, baseline, dashboard, ...), medians of the rounds:

* cold start: the server's start until the first chart is drawn;
* each page switch (dashboard: Ticker, Compare, back to Overview; baseline: B, C, back to A): from
  the click on the sidebar link until the new script run has finished and every chart and data grid
  on the page has drawn;
* a watchlist edit: from Enter in the sidebar box until the same;
* server memory (resident set) after every page has been visited once.

Each figure is printed with its ratio to the baseline's; targets: switches and the edit within 1.5x,
memory within 1.3x, cold start within 1.3x. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from _server import CHROMIUM, CHROMIUM_ARGS, streamlit_process  # noqa: E402

TIMEOUT_MS = 120_000
TARGETS = {"switch": 1.5, "edit": 1.5, "memory": 1.3, "cold_start": 1.3}


class App:
    """One app under test: how to reach its pages and what its watchlist edit types."""

    def __init__(self, name: str, script: str, switches: list[tuple[str, str]]) -> None:
        self.name, self.script, self.switches = name, script, switches


DASHBOARD = App(
    "dashboard",
    "app.py",
    [("to Ticker", "Ticker"), ("to Compare", "Compare"), ("back to Overview", "Overview")],
)
BASELINE = App(
    "baseline",
    "benchmarks/baseline/app.py",
    [("to Ticker", "B"), ("to Compare", "C"), ("back to Overview", "A")],
)

# Counts the script runs that start after it is installed, so that a run which both starts and ends
# between two polls is still seen.
WATCH_RUNS_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__runs = 0;
  if (window.__watcher) window.__watcher.disconnect();
  window.__watcher = new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__runs += 1;
  });
  window.__watcher.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
# A run has started and ended, and every Plotly chart and every data grid on the page is drawn (a page
# or tab may have either, or both).
SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || window.__runs < 1 || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')];
  return charts.length + grids.length > 0
    && charts.every(c => c.querySelector('.js-plotly-plot .main-svg'))
    && grids.every(g => { const c = g.querySelector('canvas[data-testid="data-grid-canvas"]');
                         return c && c.width > 0; });
}"""
FIRST_CHART_JS = """() => !!document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg')"""


def timed(page: Page, action: Callable[[], None]) -> float:
    """Seconds from `action` until the run it starts has finished and every chart and grid has drawn."""
    page.evaluate(WATCH_RUNS_JS)
    started = time.perf_counter()
    action()
    page.wait_for_function(SETTLED_JS, timeout=TIMEOUT_MS, polling=20)
    return time.perf_counter() - started


def nav(page: Page, title: str) -> Callable[[], None]:
    return lambda: page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()


def edit_watchlist(page: Page, text: str) -> Callable[[], None]:
    def type_it() -> None:
        box = page.get_by_role("textbox", name="Watchlist")
        box.fill(text)
        box.press("Enter")

    return type_it


def resident_mib(pid: int) -> float:
    """The server's resident memory (VmRSS) in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cold_start(browser: Browser, app: App) -> float:
    started = time.perf_counter()
    with streamlit_process(app.script, timeout=120) as (url, _):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_function(FIRST_CHART_JS, timeout=TIMEOUT_MS, polling=20)
        page.close()
    return time.perf_counter() - started


def session(browser: Browser, url: str, app: App, edit: str) -> dict[str, float]:
    """One visit: open the app, then each switch and the watchlist edit, timed."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url)
    page.wait_for_function(FIRST_CHART_JS, timeout=TIMEOUT_MS, polling=20)
    page.wait_for_load_state("networkidle")
    figures = {label: timed(page, nav(page, title)) for label, title in app.switches}
    figures["watchlist edit"] = timed(page, edit_watchlist(page, edit))
    page.close()
    return figures


def visit_everything(browser: Browser, url: str) -> None:
    """Every page of the app's navigation once, in its order, then back to the first."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url)
    page.wait_for_function(FIRST_CHART_JS, timeout=TIMEOUT_MS, polling=20)
    links = page.locator('[data-testid="stSidebarNav"] a')
    for index in [*range(1, links.count()), 0]:
        links.nth(index).click()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)  # this benchmark's only fixed wait: memory is read once the pages settled
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of switches and edits")
    parser.add_argument("--cold", type=int, default=3, help="interleaved cold starts of each app")
    args = parser.parse_args()
    apps = (DASHBOARD, BASELINE)
    samples: dict[str, dict[str, list[float]]] = {a.name: {} for a in apps}
    memory: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(args.cold):
            for app in apps:
                samples[app.name].setdefault("cold start", []).append(cold_start(browser, app))
        with (
            streamlit_process(DASHBOARD.script) as (dash_url, dash),
            streamlit_process(BASELINE.script) as (
                base_url,
                base,
            ),
        ):
            urls = {DASHBOARD.name: dash_url, BASELINE.name: base_url}
            for i in range(args.rounds):
                edit = "F, TSLA, NVDA, PSNY" if i % 2 else "F, TSLA"  # neither is either default
                for app in apps:
                    for label, seconds in session(browser, urls[app.name], app, edit).items():
                        samples[app.name].setdefault(label, []).append(seconds)
            for app, process in ((DASHBOARD, dash), (BASELINE, base)):
                visit_everything(browser, urls[app.name])
                memory[app.name] = resident_mib(process.pid)
        browser.close()

    medians = {name: {k: statistics.median(v) for k, v in figures.items()} for name, figures in samples.items()}
    ratios = {k: medians["dashboard"][k] / medians["baseline"][k] for k in medians["baseline"]}
    ratios["memory"] = memory["dashboard"] / memory["baseline"]
    print(f"{'figure':<20}{'dashboard':>12}{'baseline':>12}{'ratio':>8}{'target':>8}")
    for key, ratio in ratios.items():
        target = TARGETS["memory" if key == "memory" else "cold_start" if key == "cold start" else "switch"]
        mark = "ok" if ratio <= target else "MISS"
        if key == "memory":
            row = f"{'memory (MiB)':<20}{memory['dashboard']:>12.0f}{memory['baseline']:>12.0f}"
        else:
            row = f"{key:<20}{medians['dashboard'][key]:>11.2f}s{medians['baseline'][key]:>11.2f}s"
        print(f"{row}{ratio:>8.2f}{target:>7.1f}x {mark}")
    print(
        json.dumps(
            {"rounds": args.rounds, "cold_starts": args.cold, "ratios": {k: round(v, 2) for k, v in ratios.items()},
             "dashboard_s": {k: round(v, 3) for k, v in medians["dashboard"].items()},
             "baseline_s": {k: round(v, 3) for k, v in medians["baseline"].items()},
             "memory_mib": {k: round(v) for k, v in memory.items()}}
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
