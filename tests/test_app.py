"""The Streamlit app under ``streamlit.testing.v1.AppTest``: every page, the watchlist, the URL, safe text.

Expected values come from the bundled data (``load_bundle``) or from the documented source figures
in data/PROVENANCE.md (Ford: Yahoo 2026-07-02 target 14.901 on a price of 13.405 from 20 analysts;
TipRanks 2 Buy / 11 Hold / 1 Sell, target 13.87), never from the app's own output.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from ratings import dashboard as ui
from ratings.core import LABELS, implied_upside, primary_rows
from ratings.dataset import Dataset
from ratings.formatting import money, percent
from ratings.paths import DATA_DIR_ENV
from ratings.schema import CSV_COLUMNS
from ratings.tickers import WATCHLIST

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
TIMEOUT = 30
PAGES = ("pages/overview.py", "pages/ticker.py", "pages/compare.py", "pages/methodology.py", "pages/changes.py")
NO_CONSENSUS = ("1810.HK", "1211.HK", "BYDDF")  # PROVENANCE.md: no real consensus in the bundle
RATING_ONLY = ("PSNY", "LOT")  # PROVENANCE.md: a finviz rating only

# Documented source values (data/PROVENANCE.md), not read from the app.
FORD_YAHOO = {"as_of": "2026-07-02", "target": 14.901, "price": 13.405, "analysts": 20}
FORD_TIPRANKS = {"counts": "2 Buy · 11 Hold · 1 Sell", "target": 13.87, "analysts": 14}
SECTION_TITLES = {
    "prices": "Price and targets",
    "ratings": "Ratings",
    "history": "History",
    "actions": "Analysts' actions",
}


def app(query: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    """Run the app (optionally with query parameters, optionally then switch to `page`)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    if page is not None and page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescape(text: str) -> str:
    """What a reader sees of Markdown that ui.md escaped."""
    return re.sub(r"\\(.)", r"\1", text)


def texts(at: AppTest, *kinds: str) -> list[str]:
    kinds = kinds or ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return [unescape(str(el.value)) for kind in kinds for el in at.get(kind)]


def first_table(at: AppTest) -> pd.DataFrame:
    assert at.dataframe, "the page shows no table"
    frame = at.dataframe[0].value
    assert isinstance(frame, pd.DataFrame)
    return frame


def overview_tickers(at: AppTest) -> list[str]:
    return list(dict.fromkeys(first_table(at)["Ticker"]))


# --- every page -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_an_exception_or_error(page: str) -> None:
    at = app(page=page)
    assert not at.error, [e.value for e in at.error]
    assert at.title, "every page has a title"


@pytest.mark.parametrize(
    ("page", "section", "charts"),
    # Ticker: F by default (no trend, no actions offline); Compare: the S&P 500. Only the open tab is drawn.
    [
        ("pages/overview.py", None, 1),
        ("pages/ticker.py", None, 1),
        ("pages/ticker.py", "ratings", 1),
        ("pages/ticker.py", "history", 1),
        ("pages/ticker.py", "actions", 0),
        ("pages/compare.py", None, 0),
        ("pages/compare.py", "ranking", 1),
        ("pages/compare.py", "scatter", 1),
        ("pages/methodology.py", None, 0),
    ],
)
def test_every_chart_has_its_downloads_and_every_table_a_csv(page: str, section: str | None, charts: int) -> None:
    at = app({"section": section} if section else None, page=page)
    labels = [b.label for b in at.get("download_button")]
    assert len(at.get("plotly_chart")) == charts
    static = ui.static_export_available()
    per_chart = ["PNG", "SVG", "HTML"] if static else ["HTML"]
    for fmt in per_chart:
        assert labels.count(fmt) == charts, (fmt, labels)
    assert sum("CSV" in label for label in labels) >= len(at.dataframe), labels
    if not static:
        assert any("Chrome" in t for t in texts(at, "caption"))


@pytest.mark.parametrize("page", PAGES[1:])
def test_a_shared_link_opened_first_still_runs_through_app_py(page: str) -> None:
    """Before any st.navigation call Streamlit treats pages/ as a legacy folder and would run the
    page alone; ui.run_through_app must rerun it inside app.py (whose sidebar note proves it ran)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page(page)  # before the first run: the legacy folder's own page, as a fresh server sees it
    at.run()
    assert not at.exception
    assert any("Bundled snapshot" in unescape(c.value) for c in at.sidebar.caption), "app.py did not run"
    assert at.title


def test_a_missing_bundle_is_an_error_message_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.error and "could not be loaded" in unescape(at.error[0].value)
    assert str(tmp_path / "manifest.json") in unescape(at.error[0].value)


# --- overview ---------------------------------------------------------------------------------


def test_overview_lists_the_eight_watchlist_tickers_in_order() -> None:
    assert overview_tickers(app()) == list(WATCHLIST)


def test_overview_shows_ford_from_yahoo_and_tipranks_side_by_side() -> None:
    table = first_table(app())
    ford = table[table["Ticker"] == "F"].set_index("Source")
    assert {"Yahoo Finance", "TipRanks"} <= set(ford.index)

    yahoo = ford.loc["Yahoo Finance"]
    age = (datetime.now(UTC).date() - date.fromisoformat(FORD_YAHOO["as_of"])).days
    assert age > 30, "the bundle's consensus day is months before today"
    # Its day, its age, and the stale mark: older than the bundle's 30 days (docs: Methodology, Age).
    assert yahoo["As of"].startswith(f"⚠ {FORD_YAHOO['as_of']} · ") and yahoo["As of"].endswith(" ago")
    assert yahoo["Consensus"].startswith("Hold")
    assert yahoo["Mean target"] == money(FORD_YAHOO["target"], "USD")
    assert yahoo["Price"] == money(FORD_YAHOO["price"], "USD")
    assert yahoo["Analysts"] == str(FORD_YAHOO["analysts"])
    assert yahoo["Upside"] == percent(FORD_YAHOO["target"] / FORD_YAHOO["price"] - 1)

    tipranks = ford.loc["TipRanks"]
    assert tipranks["As of"] == "2026 (no day given)", "a year has no age and no stale mark"
    assert tipranks["Consensus"].startswith("Hold") and tipranks["Ratings"] == FORD_TIPRANKS["counts"]
    assert tipranks["Mean target"] == money(FORD_TIPRANKS["target"], "USD")
    assert tipranks["Analysts"] == str(FORD_TIPRANKS["analysts"])


def test_overview_names_the_tickers_without_consensus(bundle: Dataset) -> None:
    at = app()
    without = bundle.table(list(WATCHLIST)).query("coverage == 'none'")["ticker"].tolist()
    assert sorted(without) == sorted(NO_CONSENSUS), "the bundle changed: PROVENANCE.md says these have none"
    message = next(t for t in texts(at, "info") if "no analyst consensus" in t)
    for ticker in WATCHLIST:
        named = re.search(rf"(?<![\w.]){re.escape(ticker)}(?!\w)", message) is not None
        assert named == (ticker in NO_CONSENSUS), (ticker, message)
    rating_only = next(t for t in texts(at, "info") if "rating only" in t)
    assert all(t in rating_only for t in RATING_ONLY)


def test_overview_has_a_provenance_caption_and_a_link_to_the_methodology() -> None:
    at = app()
    captions = " ".join(texts(at, "caption"))
    for source, as_of in (("Yahoo Finance", "2026-07-02"), ("TipRanks", "2026"), ("finviz", "2025-08-21")):
        assert re.search(rf"{source} \([^)]*{as_of}", captions), (source, captions)
    assert any(el.type == "page_link" for el in at.main), "a link to the Methodology page"


@pytest.mark.parametrize(
    "edited",
    [["NVDA", "TSLA"], ["F"], ["1810.HK", "PSNY"], ["BRK-B", "AAPL", "MSFT"]],
)
def test_editing_the_watchlist_updates_table_and_url(edited: list[str]) -> None:
    at = app()
    at.text_input(key=ui.WATCHLIST_KEY).set_value(", ".join(t.lower() for t in edited)).run()
    assert not at.exception
    assert overview_tickers(at) == edited
    assert at.query_params["tickers"] == ",".join(edited)
    assert not at.warning


@pytest.mark.parametrize(
    "bad",
    ["ZZZZ", "=1+1", "<script>alert(1)</script>", "[x](javascript:alert(1))", "$x$", "**bold**", "`code`"],
)
def test_a_bad_ticker_is_named_in_one_warning_and_the_rest_shown(bad: str) -> None:
    at = app()
    at.text_input(key=ui.WATCHLIST_KEY).set_value(f"F, {bad}, NVDA").run()
    assert not at.exception
    assert len(at.warning) == 1
    raw = at.warning[0].value
    shown = unescape(raw)
    for part in re.split(r"[\s,;]+", bad):
        if part:
            assert part[:40] in shown or part.upper() in shown
    # Nothing from the user reaches Markdown unescaped: no raw HTML, link, emphasis or LaTeX.
    assert not re.search(r"(?<!\\)[<>\[\]`*$]", raw), raw
    assert overview_tickers(at) == ["F", "NVDA"]
    assert at.query_params["tickers"] == "F,NVDA"


def test_query_params_on_load_are_honoured() -> None:
    at = app({"tickers": "NVDA,ZZZZ"})
    assert overview_tickers(at) == ["NVDA"]
    assert len(at.warning) == 1 and "ZZZZ" in unescape(at.warning[0].value)
    assert at.text_input(key=ui.WATCHLIST_KEY).value == "NVDA, ZZZZ"
    assert at.query_params["tickers"] == "NVDA"


def test_default_load_writes_the_watchlist_to_the_url() -> None:
    assert app().query_params["tickers"] == ",".join(WATCHLIST)


@pytest.mark.parametrize("text", ["", "   ", ", ;"])
def test_an_empty_watchlist_gets_a_clear_message(text: str) -> None:
    at = app()
    at.text_input(key=ui.WATCHLIST_KEY).set_value(text).run()
    assert not at.exception
    assert any("watchlist is empty" in t for t in texts(at, "info"))
    assert not at.dataframe and not at.get("plotly_chart")


def test_the_watchlist_survives_a_visit_to_another_page() -> None:
    at = app()
    at.text_input(key=ui.WATCHLIST_KEY).set_value("NVDA, F").run()
    at.switch_page("pages/methodology.py").run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    assert overview_tickers(at) == ["NVDA", "F"]


# --- ticker -----------------------------------------------------------------------------------


def test_offline_the_ticker_page_of_aapl_has_counts_median_trend_and_upgrades() -> None:
    """From the bundle's Yahoo recording of 2025-02-24 (tests/payloads/bundle: financialData's
    targetMedianPrice 257.5 on a currentPrice of 245.55, recommendationTrend 0m 7/21/14/2/2, 968 actions)."""
    at = app({"ticker": "AAPL"}, page="pages/ticker.py")
    recorded = first_table(at).set_index("As of").filter(like="2025-02-24", axis=0).iloc[0]
    assert recorded["Source"] == "Yahoo Finance"
    assert recorded["Ratings"] == "7 Strong Buy · 21 Buy · 14 Hold · 2 Sell · 2 Strong Sell"
    assert recorded["Median target"] == money(257.5, "USD")
    assert recorded["Upside (median)"] == percent(257.5 / 245.55 - 1)
    at = app({"ticker": "AAPL", "section": "ratings"}, page="pages/ticker.py")
    assert [c.key for c in at.get("plotly_chart")] == ["ticker-ratings-chart", "ticker-trend-chart"]
    at = app({"ticker": "AAPL", "section": "actions"}, page="pages/ticker.py")
    actions = at.dataframe[-1].value
    assert len(actions) == 968 and list(actions.columns) == ["Date", "Firm", "Action", "Grade"]
    assert any("carry no price targets" in t for t in texts(at, "caption"))


def test_ticker_page_shows_every_source_of_ford() -> None:
    at = app({"ticker": "F"}, page="pages/ticker.py")
    assert at.selectbox(key="ticker").value == "F"
    assert at.query_params["ticker"] == "F"
    sources = first_table(at).set_index("Source")
    assert {"Yahoo Finance", "TipRanks", "finviz"} <= set(sources.index)
    assert sources.loc["Yahoo Finance", "Mean target"] == money(FORD_YAHOO["target"], "USD")
    assert sources.loc["Yahoo Finance", "Upside (mean)"] == percent(FORD_YAHOO["target"] / FORD_YAHOO["price"] - 1)
    assert sources.loc["Yahoo Finance", "Primary"] == "yes"
    assert sources.loc["TipRanks", "Ratings"] == FORD_TIPRANKS["counts"]
    assert "close" in sources.loc["TipRanks", "Price used"], "TipRanks quotes no price: the close is used"
    assert [t.label for t in at.tabs] == list(SECTION_TITLES.values())
    # Each tab drawn only when open: price with targets; the rating breakdown; the bundled history of F.
    # F is not among the bundle's Yahoo recordings: the tabs say it has no trend and no actions, nothing else.
    for section, charts, said in [
        (None, ["ticker-price-chart"], []),
        ("ratings", ["ticker-ratings-chart"], ["The bundled snapshot has no recommendation trend for F."]),
        ("history", ["ticker-history-chart"], []),
        ("actions", [], ["The bundled snapshot has no analyst actions for F."]),
    ]:
        at = app({"ticker": "F", **({"section": section} if section else {})}, page="pages/ticker.py")
        assert [c.key for c in at.get("plotly_chart")] == charts, section
        assert texts(at, "info") == said, section


@pytest.mark.parametrize(
    ("ticker", "message"),
    [
        ("PSNY", "rating only"),
        ("LOT", "rating only"),
        ("1810.HK", "no analyst consensus"),
        ("BYDDF", "no analyst consensus"),
    ],
)
def test_ticker_page_says_plainly_what_is_missing(ticker: str, message: str) -> None:
    at = app({"ticker": ticker}, page="pages/ticker.py")
    assert at.selectbox(key="ticker").value == ticker
    assert any(message in t and ticker in t for t in texts(at, "info")), texts(at, "info")
    assert not at.warning and not at.error


@pytest.mark.parametrize("shared", ["ZZZZ", "<b>x</b>", "f"])
def test_ticker_page_with_an_unknown_or_odd_ticker_in_the_url(shared: str) -> None:
    at = app({"ticker": shared}, page="pages/ticker.py")
    if shared.upper() == "F":
        assert at.selectbox(key="ticker").value == "F" and not at.warning
        return
    assert len(at.warning) == 1 and shared in unescape(at.warning[0].value)
    assert "<" not in at.warning[0].value.replace("\\<", "")
    assert at.selectbox(key="ticker").value == WATCHLIST[0]


def test_choosing_another_ticker_updates_the_page_and_url(bundle: Dataset) -> None:
    at = app(page="pages/ticker.py")
    at.selectbox(key="ticker").set_value("NVDA").run()
    assert at.query_params["ticker"] == "NVDA"
    expected_sources = set(bundle.table(["NVDA"])["source"].dropna())
    assert set(first_table(at)["Source"]) == expected_sources


# --- compare ----------------------------------------------------------------------------------


def sp500_primary(bundle: Dataset) -> pd.DataFrame:
    rows = primary_rows(bundle.table(bundle.sp500()))
    return rows.assign(sector=rows["ticker"].map(bundle.universe.set_index("ticker")["sector"]))


def test_compare_defaults_to_the_sp500(bundle: Dataset) -> None:
    at = app(page="pages/compare.py")
    assert at.radio(key="compare_universe").value == "sp500"
    grid = first_table(at)
    assert len(grid) == len(bundle.sp500())
    assert set(grid["ticker"]) == set(bundle.sp500())
    upside = grid["upside_mean"].dropna()
    assert upside.is_monotonic_decreasing, "sorted by upside, highest first"
    assert not at.get("plotly_chart"), "the charts are in their own tabs, drawn when opened"


def test_compare_grid_shows_the_same_cents_as_the_overview() -> None:
    # Ford's documented price 13.405 reads $13.41 on the Overview; the grid must not print 13.40.
    at = app({"universe": "custom", "list": "F"}, page="pages/compare.py")
    grid = first_table(at).set_index("ticker")
    assert money(grid.loc["F", "price"], "USD") == money(FORD_YAHOO["price"], "USD") == "$13.41"
    assert f"{grid.loc['F', 'price']:.2f}" == "13.41"
    assert f"{grid.loc['F', 'target_mean']:.2f}" == money(FORD_YAHOO["target"], None)


def test_compare_sector_filter_narrows_to_that_sector(bundle: Dataset) -> None:
    rows = sp500_primary(bundle)
    sector = rows["sector"].value_counts().index[0]
    at = app(page="pages/compare.py")
    at.multiselect(key="compare_sectors").set_value([sector]).run()
    grid = first_table(at)
    assert len(grid) == int((rows["sector"] == sector).sum()) < len(bundle.sp500())
    assert set(grid["sector"]) == {sector}
    assert at.query_params["sector"] == sector


@pytest.mark.parametrize("minimum", [1, 20, 40])
def test_compare_minimum_analysts_removes_thinly_covered_tickers(bundle: Dataset, minimum: int) -> None:
    rows = sp500_primary(bundle)
    at = app(page="pages/compare.py")
    before = len(first_table(at))
    at.number_input(key="compare_min_analysts").set_value(minimum).run()
    grid = first_table(at)
    assert len(grid) == int((rows["n_analysts"] >= minimum).sum()) <= before
    assert (grid["n_analysts"] >= minimum).all()
    assert at.query_params["min_analysts"] == str(minimum)


@pytest.mark.parametrize("labels", [["Strong Buy"], ["Hold", "Sell"]])
def test_compare_consensus_filter(bundle: Dataset, labels: list[str]) -> None:
    rows = sp500_primary(bundle)
    at = app(page="pages/compare.py")
    at.multiselect(key="compare_consensus").set_value(labels).run()
    grid = first_table(at)
    assert len(grid) == int(rows["consensus"].isin(labels).sum())
    assert set(grid["consensus"]) <= set(labels)


def test_compare_filters_are_read_from_the_url(bundle: Dataset) -> None:
    rows = sp500_primary(bundle)
    at = app({"min_analysts": "25", "consensus": "Buy"}, page="pages/compare.py")
    # A page switch in AppTest keeps the URL, as a shared link would carry it.
    expected = rows[(rows["n_analysts"] >= 25).fillna(False) & rows["consensus"].isin(["Buy"])]
    assert len(first_table(at)) == len(expected)


@pytest.mark.parametrize(
    ("universe", "expected"),
    [("watchlist", list(WATCHLIST)), ("custom", list(WATCHLIST))],
)
def test_compare_other_universes(universe: str, expected: list[str]) -> None:
    at = app(page="pages/compare.py")
    at.radio(key="compare_universe").set_value(universe).run()
    assert not at.exception
    assert set(first_table(at)["ticker"]) == set(expected)
    assert at.query_params["universe"] == universe


def test_compare_all_covered_tickers(bundle: Dataset) -> None:
    at = app(page="pages/compare.py")
    at.radio(key="compare_universe").set_value("all").run()
    assert len(first_table(at)) == bundle.consensus["ticker"].nunique()


def test_compare_watchlist_is_the_one_edited_on_the_overview() -> None:
    at = app()
    at.text_input(key=ui.WATCHLIST_KEY).set_value("TSLA, NVDA").run()
    at.switch_page("pages/compare.py").run()
    at.radio(key="compare_universe").set_value("watchlist").run()
    assert set(first_table(at)["ticker"]) == {"TSLA", "NVDA"}


def test_compare_custom_list_with_a_bad_ticker() -> None:
    at = app(page="pages/compare.py")
    at.radio(key="compare_universe").set_value("custom").run()
    at.text_area(key="compare_custom").set_value("AAPL, <img src=x>, MSFT").run()
    assert len(at.warning) == 1 and "<img" in unescape(at.warning[0].value)
    assert set(first_table(at)["ticker"]) == {"AAPL", "MSFT"}
    assert at.query_params["list"] == "AAPL,MSFT"


# --- methodology ------------------------------------------------------------------------------


def test_methodology_lists_every_manifest_source() -> None:
    manifest = json.loads((ROOT / "data" / "manifest.json").read_text())
    page = " ".join(texts(app(page="pages/methodology.py"), "markdown"))
    for source_id, meta in manifest["sources"].items():
        assert meta["title"] in page, source_id
        assert meta["terms"] in page, source_id
        if meta.get("repository"):
            assert f"{meta['repository']} @ {meta['commit']}" in page, source_id


def test_methodology_shows_the_bands_and_what_the_bundle_lacks() -> None:
    at = app(page="pages/methodology.py")
    bands = at.table[0].value
    assert list(bands["Consensus"]) == list(LABELS)
    page = " ".join(texts(at))
    assert all(t in page for t in NO_CONSENSUS + RATING_ONLY)
    coverage = first_table(at).set_index("Ticker")
    assert coverage.loc["BYDDF", "Daily prices"].endswith("2024-02-20"), "PROVENANCE.md: BYDDF prices end then"
    stale = [t for t in texts(at, "markdown") if "Stale prices" in t]
    assert len(stale) == 1 and "BYDDF" in stale[0] and "2024-02-20" in stale[0], stale


def test_methodology_works_its_example_from_the_data(bundle: Dataset) -> None:
    page = " ".join(texts(app(page="pages/methodology.py"), "markdown"))
    row = primary_rows(bundle.table(["F"])).iloc[0]
    upside = implied_upside(pd.Series([row["target_mean"]]), pd.Series([row["price"]])).iloc[0]
    assert percent(upside) in page
    # ...which is the documented figure: 14.901 / 13.405 - 1, by hand (PROVENANCE.md, the issue).
    assert f"{FORD_YAHOO['target'] / FORD_YAHOO['price'] - 1:+.1%}" == "+11.2%"
    assert "+11.2%" in page


def test_methodology_states_the_track_record_rules_with_the_tables_the_code_reads() -> None:
    """The track record's, target check's and label schemes' rules come from their modules' documentation,
    each beside the table it cites; Ford's TipRanks counts are worked out as TipRanks labels them."""
    from ratings import grades, track_record

    at = app(page="pages/methodology.py")
    headings = texts(at, "subheader")
    for heading in ("What is scored", "Success rate and its interval", "Ranking", "Bias-aware upside",
                    "Published figures", "TipRanks", "Where the label flips"):  # fmt: skip
        assert heading in headings, heading
    assert "Wilson score interval" in " ".join(texts(at, "markdown"))
    assert f"{track_record.DEFAULT_HORIZON} months" in " ".join(texts(at, "markdown"))
    tables = [t.value for t in at.table]
    grade_words = next(t for t in tables if "grade" in t.columns)
    assert len(grade_words) == len(grades.grade_table())
    assert grade_words.set_index("grade").loc["Overweight", "stance"] == "buy"
    published = next(t for t in tables if "Published figure" in t.columns)
    assert published["Published figure"].str.contains("38%").any()
    schemes = next(t for t in tables if "Label flips" in t.columns).set_index("Counts")
    assert schemes.loc["2 Buy · 11 Hold · 1 Sell", "TipRanks"] == "Hold · 1.93 of 3"
    assert "the three schemes agree on every ticker" in " ".join(texts(at, "markdown"))


# --- safety and structure ---------------------------------------------------------------------


def test_the_server_binds_to_localhost_and_sends_no_usage_statistics() -> None:
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] in ("localhost", "127.0.0.1")
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["disableDataExport"] is True, "only the formula-safe CSV downloads are offered"


def streamlit_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            lines += [node.lineno for alias in node.names if alias.name.split(".")[0] == "streamlit"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "streamlit":
            lines.append(node.lineno)
    return sorted(lines)


DASHBOARD = ROOT / "ratings" / "dashboard"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "ratings").rglob("*.py") if DASHBOARD not in p.parents),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_dashboard_imports_streamlit_in_ratings(path: Path) -> None:
    found = streamlit_imports(path)
    assert not found, f"{path.relative_to(ROOT)} imports streamlit on lines {found}"


def test_the_dashboard_package_is_where_streamlit_is() -> None:
    assert streamlit_imports(DASHBOARD / "cache.py"), "ratings/dashboard/cache.py holds the Streamlit caches"


def test_the_scanner_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nif True:\n    import streamlit.components.v1 as c\nfrom streamlit import x\n")
    assert streamlit_imports(sample) == [3, 4]


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("<script>alert(1)</script>", "<"),
        ("[link](https://example.com)", "]("),
        ("$x^2$", "$x"),
        ("**bold** _it_", "**"),
        ("`code`", "`c"),
        ("# heading\n- item", "\n"),
        (":material/warning: :smile:", ":s"),
    ],
)
def test_md_escapes_what_markdown_would_interpret(text: str, absent: str) -> None:
    escaped = ui.md(text)
    assert absent not in escaped.replace("\\" + absent[0], "")
    assert unescape(escaped) == " ".join(text.split())


@given(st.text(max_size=60))
def test_md_round_trips_and_leaves_no_special_character_bare(text: str) -> None:
    escaped = ui.md(text)
    assert unescape(escaped) == " ".join(text.split())
    bare = re.sub(r"\\.", "", escaped)
    assert not re.search(r"[\\`*_{}\[\]()<>#+\-.!|~$:&=^]", bare)


def test_csv_download_frame_keeps_the_public_columns_first(bundle: Dataset) -> None:
    table = bundle.table(["F", "1810.HK"])
    frame = ui.consensus_csv(table, ("name", "sector", "nonexistent"))
    assert list(frame.columns) == [*CSV_COLUMNS, "name"]
    assert frame["name"].tolist() == table["name"].tolist()
