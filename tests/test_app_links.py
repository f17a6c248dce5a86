"""Shared links under ``streamlit.testing.v1.AppTest``: which page owns which query parameter, and what
a page says about a link value it cannot use.

``?tickers=`` (the watchlist) and ``?source=`` are shared by every page; every other parameter belongs
to one page (Compare: universe, list, sector, min_analysts, consensus, n, x; Changes: since; Ticker:
ticker) and leaves the address when another page is opened. Expected values come from the bundle
(``load_bundle``), never from the app's own output.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_app import APP, TIMEOUT, first_table, overview_tickers, sp500_primary, texts
from test_app_live import FAST, fill_store

from ratings.dashboard import cache as dashboard_cache
from ratings.dataset import Dataset
from ratings.paths import STORE_ENV
from ratings.tickers import WATCHLIST

OVERVIEW, TICKER, CHANGES, COMPARE, METHODOLOGY = (
    "pages/overview.py", "pages/ticker.py", "pages/changes.py", "pages/compare.py", "pages/methodology.py",
)  # fmt: skip
SHARED = {"tickers", "source"}


def open_link(query: dict[str, str | list[str]], page: str = OVERVIEW) -> AppTest:
    """A first visit straight to `page` with `query`, as a browser opens a shared link."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query)
    if page != OVERVIEW:
        at.switch_page(page)  # before the first run: the link's own page, not the Overview first
    return ok(at.run())


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def switch(at: AppTest, page: str) -> AppTest:
    return ok(at.switch_page(page).run())


def params(at: AppTest) -> dict[str, str]:
    return {name: str(value) for name, value in at.query_params.items()}


def warnings(at: AppTest) -> list[str]:
    return texts(at, "warning")


def assert_escaped(at: AppTest) -> None:
    """Nothing of a link reaches Markdown unescaped: no raw HTML, link, emphasis or LaTeX."""
    for warning in at.warning:
        assert not re.search(r"(?<!\\)[<>\[\]`*$]", warning.value), warning.value


def snapshot_days(bundle: Dataset, tickers: list[str]) -> list[str]:
    history = bundle.history[bundle.history["ticker"].isin(tickers)]
    return sorted(set(history["observed_at"].fillna(history["as_of"]).dropna().astype(str).str.slice(0, 10)))


# --- ?tickers= is the watchlist on every page ----------------------------------------------------


def test_the_watchlist_survives_a_round_trip_through_the_compare_custom_list() -> None:
    at = open_link({"tickers": "NVDA,F"})
    assert overview_tickers(at) == ["NVDA", "F"]
    switch(at, COMPARE)
    assert params(at)["tickers"] == "NVDA,F"
    at.radio(key="compare_universe").set_value("custom").run()
    ok(at.text_area(key="compare_custom").set_value("F, zzz, 1810.HK").run())
    assert set(first_table(at)["ticker"]) == {"F", "1810.HK"}
    assert params(at) == {"tickers": "NVDA,F", "universe": "custom", "list": "F,1810.HK"}

    switch(at, OVERVIEW)
    assert overview_tickers(at) == ["NVDA", "F"]
    assert params(at) == {"tickers": "NVDA,F"}
    assert not at.warning, "the custom list's zzz is not the watchlist's"


@pytest.mark.parametrize("universe", ["sp500", "all", "watchlist", "custom"])
def test_compare_never_deletes_or_rewrites_the_watchlist_of_a_link(universe: str) -> None:
    at = open_link({"tickers": "TSLA,NVDA", "universe": universe}, COMPARE)
    assert params(at)["tickers"] == "TSLA,NVDA"
    assert overview_tickers(switch(at, OVERVIEW)) == ["TSLA", "NVDA"]
    assert params(at)["tickers"] == "TSLA,NVDA"


def test_compare_reads_its_custom_list_from_list_not_tickers() -> None:
    at = open_link({"universe": "custom", "list": "AAPL,MSFT", "tickers": "TSLA"}, COMPARE)
    assert at.text_area(key="compare_custom").value == "AAPL, MSFT"
    assert set(first_table(at)["ticker"]) == {"AAPL", "MSFT"}
    assert params(at)["tickers"] == "TSLA"


def test_compare_watchlist_universe_is_the_links_watchlist() -> None:
    at = open_link({"universe": "watchlist", "tickers": "TSLA,NVDA"}, COMPARE)
    assert set(first_table(at)["ticker"]) == {"TSLA", "NVDA"}


def test_compare_without_a_list_starts_from_the_default_watchlist_and_writes_list() -> None:
    at = open_link({"universe": "custom"}, COMPARE)
    assert set(first_table(at)["ticker"]) == set(WATCHLIST)
    assert params(at)["list"] == ",".join(WATCHLIST)
    assert "tickers" not in params(at), "Compare does not write the watchlist"


# --- a page's own parameters leave the address on a page switch ----------------------------------


@pytest.mark.parametrize(
    ("start", "query", "target", "left"),
    [
        (
            COMPARE,
            {"tickers": "F,TSLA", "universe": "custom", "list": "F", "n": "5", "x": "target_dispersion"},
            OVERVIEW,
            {"tickers"},
        ),
        (COMPARE, {"universe": "sp500", "min_analysts": "20", "consensus": "Buy"}, CHANGES, {"tickers"}),
        (COMPARE, {"universe": "sp500", "sector": "Energy"}, METHODOLOGY, set()),
        (COMPARE, {"universe": "sp500"}, TICKER, {"ticker"}),
        (CHANGES, {"since": "2026-06-29"}, TICKER, {"tickers", "ticker"}),
        (CHANGES, {"since": "2026-06-29", "tickers": "F,TSLA"}, COMPARE, {"tickers", "universe"}),
        (TICKER, {"ticker": "NVDA"}, OVERVIEW, {"tickers"}),
        (TICKER, {"ticker": "NVDA"}, METHODOLOGY, set()),
        (TICKER, {"ticker": "NVDA"}, CHANGES, {"tickers"}),
    ],
)
def test_a_pages_own_parameters_leave_the_address_on_a_page_switch(
    start: str, query: dict[str, str], target: str, left: set[str]
) -> None:
    at = open_link(query, start)
    assert set(query) <= set(params(at)), "the link's own page keeps them"
    switch(at, target)
    assert set(params(at)) == left, params(at)
    assert all(params(at)[name] == query[name] for name in SHARED & set(query)), "a shared value is not rewritten"


def browser_switch(at: AppTest, page: str) -> AppTest:
    """A page switch as Streamlit's navigation does it in a browser: the new page's address is empty."""
    at.query_params.clear()
    return switch(at, page)


@pytest.mark.parametrize("first", [COMPARE, TICKER, METHODOLOGY, CHANGES])
def test_every_page_puts_the_watchlist_back_into_an_emptied_address(first: str) -> None:
    at = open_link({"tickers": "NVDA,F"}, first)
    assert params(at)["tickers"] == "NVDA,F"
    for page in (COMPARE, TICKER, CHANGES, METHODOLOGY, OVERVIEW):
        browser_switch(at, page)
        assert params(at)["tickers"] == "NVDA,F", page
    assert overview_tickers(at) == ["NVDA", "F"]


def test_the_watchlist_edited_on_the_overview_follows_into_an_emptied_address() -> None:
    at = open_link({"tickers": "NVDA,F"})
    ok(at.text_input(key="watchlist").set_value("TSLA, zzz").run())
    assert params(at)["tickers"] == "TSLA"
    browser_switch(at, COMPARE)
    assert params(at)["tickers"] == "TSLA"
    at.radio(key="compare_universe").set_value("watchlist").run()
    assert set(first_table(at)["ticker"]) == {"TSLA"}
    browser_switch(at, OVERVIEW)
    assert overview_tickers(at) == ["TSLA"] and params(at)["tickers"] == "TSLA"


def test_the_watchlist_and_the_source_survive_every_page_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store" / "ratings.sqlite"
    monkeypatch.setenv(STORE_ENV, str(store))
    monkeypatch.setattr(dashboard_cache, "live_config_override", FAST)
    fill_store(store, ("AAPL", "GOOG"))
    at = open_link({"source": "store", "tickers": "AAPL,GOOG", "universe": "all"}, COMPARE)
    # AppTest keeps the address on a page switch; a browser empties it: both ways.
    visits = [(TICKER, switch), (CHANGES, browser_switch), (METHODOLOGY, switch), (COMPARE, browser_switch)]
    for page, how in [*visits, (OVERVIEW, browser_switch)]:
        how(at, page)
        assert params(at)["source"] == "store", page
        assert params(at)["tickers"] == "AAPL,GOOG", page
    assert overview_tickers(at) == ["AAPL", "GOOG"]
    assert "universe" not in params(at) and "ticker" not in params(at)


def test_a_compare_view_comes_back_after_a_visit_to_another_page() -> None:
    at = open_link({"universe": "custom", "list": "F,TSLA", "n": "5"}, COMPARE)
    switch(at, OVERVIEW)
    switch(at, COMPARE)
    assert set(first_table(at)["ticker"]) == {"F", "TSLA"}
    assert params(at)["list"] == "F,TSLA" and params(at)["n"] == "5"
    assert not at.warning


# --- Compare: a link value it cannot use is named, with what is used instead ---------------------


def most_analysts(bundle: Dataset) -> int:
    return int(sp500_primary(bundle)["n_analysts"].max())


@pytest.mark.parametrize(
    ("query", "said", "widget", "shown", "address"),
    [
        (
            {"sector": "Nonexistent"},
            ["sector=Nonexistent", "all sectors"],
            ("multiselect", "compare_sectors"),
            [],
            None,
        ),
        ({"consensus": "Nope"}, ["consensus=Nope", "any consensus"], ("multiselect", "compare_consensus"), [], None),
        (
            {"consensus": ["Buy", "Nope"]},
            ["consensus=Nope", "only Buy"],
            ("multiselect", "compare_consensus"),
            ["Buy"],
            "Buy",
        ),
        ({"universe": "bogus"}, ["universe=bogus", "S&P 500"], ("radio", "compare_universe"), "sp500", "sp500"),
        ({"x": "weird"}, ["x=weird", "number of analysts"], ("radio", "compare_x"), "n_analysts", None),
        ({"n": "abc"}, ["n=abc", "not a whole number", "top and bottom 10"], ("slider", "compare_top_n"), 10, None),
        ({"n": "0"}, ["n=0", "3 to 25", "top and bottom 3"], ("slider", "compare_top_n"), 3, "3"),
        ({"n": "99"}, ["n=99", "top and bottom 25"], ("slider", "compare_top_n"), 25, "25"),
        (
            {"min_analysts": "-4"},
            ["min_analysts=-4", "minimum of 0"],
            ("number_input", "compare_min_analysts"),
            0,
            None,
        ),
        (
            {"min_analysts": "lots"},
            ["min_analysts=lots", "not a whole number", "minimum of 0"],
            ("number_input", "compare_min_analysts"),
            0,
            None,
        ),
    ],
)
def test_compare_names_a_link_value_it_cannot_use(
    query: dict[str, str | list[str]], said: list[str], widget: tuple[str, str], shown: object, address: str | None
) -> None:
    at = open_link(query, COMPARE)
    assert len(at.warning) == 1, warnings(at)
    for part in said:
        assert part in warnings(at)[0], (part, warnings(at))
    kind, key = widget
    assert getattr(at, kind)(key=key).value == shown
    (name,) = query
    assert params(at).get(name) == address, "the address says what is shown"
    assert at.dataframe, "the page still shows its table"


def test_compare_clamps_a_link_minimum_above_every_ticker_and_says_so(bundle: Dataset) -> None:
    most = most_analysts(bundle)
    at = open_link({"min_analysts": "99999"}, COMPARE)
    assert warnings(at) == [
        f"The link's min_analysts=99999 is outside 0 to {most}: using a minimum of {most} analysts instead."
    ]
    assert at.number_input(key="compare_min_analysts").value == most
    assert params(at)["min_analysts"] == str(most)
    assert (first_table(at)["n_analysts"] >= most).all()


def test_compare_names_every_bad_parameter_of_a_link_each_once() -> None:
    at = open_link({"sector": "Nonexistent", "consensus": "Nope", "n": "0", "x": "weird"}, COMPARE)
    said = warnings(at)
    assert len(said) == 4, said
    for name in ("sector=", "consensus=", "n=", "x="):
        assert sum(f"link's {name}" in s for s in said) == 1, (name, said)


@pytest.mark.parametrize(
    "query",
    [
        {"universe": "custom", "list": "F,TSLA,NVDA", "n": "5", "x": "target_dispersion", "consensus": "Hold"},
        {"universe": "sp500", "min_analysts": "20", "consensus": ["Buy", "Hold"], "sector": "Energy"},
        {"universe": "all", "n": "3"},
        {},
    ],
)
def test_compare_says_nothing_about_a_good_link(query: dict[str, str | list[str]]) -> None:
    at = open_link(query, COMPARE)
    assert not at.warning, warnings(at)


@pytest.mark.parametrize(
    ("change", "value"),
    [
        (("slider", "compare_top_n"), 7),
        (("radio", "compare_x"), "target_dispersion"),
        (("multiselect", "compare_consensus"), ["Hold"]),
        (("radio", "compare_universe"), "watchlist"),
    ],
)
def test_compare_does_not_warn_again_after_the_users_own_changes(change: tuple[str, str], value: object) -> None:
    at = open_link({"sector": "Nonexistent", "n": "abc", "x": "weird", "universe": "bogus"}, COMPARE)
    assert len(at.warning) == 4
    kind, key = change
    ok(getattr(at, kind)(key=key).set_value(value).run())
    assert not at.warning, warnings(at)
    switch(at, OVERVIEW)
    switch(at, COMPARE)
    assert not at.warning, warnings(at)


@pytest.mark.parametrize("bad", ["<b>x</b>", "[x](javascript:alert(1))", "$x$", "**bold**", "`code`"])
def test_a_bad_link_value_reaches_the_warning_escaped(bad: str) -> None:
    at = open_link({"sector": bad, "x": bad}, COMPARE)
    assert len(at.warning) == 2
    assert all(bad in w for w in warnings(at)), warnings(at)
    assert_escaped(at)


# --- Ticker: one ticker per page -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("shared", "shown", "dropped"),
    [
        ("F,TSLA", "F", ["TSLA"]),
        ("tsla nvda f", "TSLA", ["NVDA", "F"]),
        ("ZZZZ,NVDA", "NVDA", ["ZZZZ"]),
        ("NVDA,ZZZZ,F", "NVDA", ["ZZZZ", "F"]),
    ],
)
def test_ticker_page_names_what_of_the_link_it_does_not_show(shared: str, shown: str, dropped: list[str]) -> None:
    at = open_link({"ticker": shared}, TICKER)
    assert at.selectbox(key="ticker").value == shown
    assert params(at)["ticker"] == shown
    assert len(at.warning) == 1, warnings(at)
    said = warnings(at)[0]
    assert f"Showing {shown} instead" in said
    for ticker in dropped:
        assert re.search(rf"(?<![\w.]){re.escape(ticker)} \(", said), (ticker, said)
    several = [t for t in dropped if t != "ZZZZ"]
    assert ("one ticker at a time" in said) == bool(several), said
    assert ("not in the data" in said) == ("ZZZZ" in dropped), said


def test_ticker_page_does_not_warn_again_after_the_user_picks_another_ticker() -> None:
    at = open_link({"ticker": "F,TSLA"}, TICKER)
    assert len(at.warning) == 1
    ok(at.selectbox(key="ticker").set_value("TSLA").run())
    assert not at.warning and params(at)["ticker"] == "TSLA"


# --- Changes: a since= day outside the snapshots ---------------------------------------------------


@pytest.mark.parametrize(("since", "edge"), [("1900-01-01", "first"), ("2099-12-31", "last")])
def test_changes_with_a_link_day_outside_the_snapshots_says_which_day_it_uses(
    bundle: Dataset, since: str, edge: str
) -> None:
    days = snapshot_days(bundle, list(WATCHLIST))
    used = days[0] if edge == "first" else days[-1]
    at = open_link({"since": since}, CHANGES)
    assert at.radio(key="changes_mode").value == "day"
    assert at.date_input(key="changes_since").value == date.fromisoformat(used)
    assert params(at)["since"] == used
    (said,) = warnings(at)
    assert f"since={since}" in said and f"{edge} snapshot ({used})" in said and f"comparing since {used}" in said
    if edge == "first":
        assert "no snapshot lies on or before it" in said
        assert {"F", "TSLA"} <= set(first_table(at)["Ticker"]), "the first day's snapshots are compared"
    else:
        assert any(t.startswith("Nothing moved") and used in t for t in texts(at, "info")), texts(at, "info")
    assert any(f"since {used}" in t for t in texts(at, "caption"))


@pytest.mark.parametrize("since", ["2026-06-29", "2026-07-15"])
def test_changes_with_a_link_day_within_the_snapshots_says_nothing(bundle: Dataset, since: str) -> None:
    days = snapshot_days(bundle, list(WATCHLIST))
    assert days[0] <= since <= days[-1], "the bundle changed"
    at = open_link({"since": since}, CHANGES)
    assert not at.warning, warnings(at)
    assert params(at)["since"] == since


def test_changes_does_not_warn_again_after_the_user_picks_a_day(bundle: Dataset) -> None:
    days = snapshot_days(bundle, list(WATCHLIST))
    at = open_link({"since": "1900-01-01"}, CHANGES)
    assert len(at.warning) == 1
    ok(at.date_input(key="changes_since").set_value(date.fromisoformat(days[-2])).run())
    assert not at.warning and params(at)["since"] == days[-2]


# --- Tabs: only the open one is drawn; which one is in the address -------------------------------


@pytest.mark.parametrize(
    ("page", "section", "title", "drawn"),
    [
        (TICKER, "history", "History", ["ticker-history-chart"]),
        (TICKER, "ratings", "Ratings", ["ticker-ratings-chart"]),
        (TICKER, "actions", "Analysts' actions", []),
        (COMPARE, "ranking", "Top and bottom", ["compare-top-chart"]),
        (COMPARE, "scatter", "Upside scatter", ["compare-scatter-chart"]),
    ],
)
def test_a_link_opens_its_tab_and_only_that_tab_is_drawn(page: str, section: str, title: str, drawn: list[str]) -> None:
    at = open_link({"section": section, "ticker": "F"}, page)
    assert at.session_state[f"{page.removeprefix('pages/').removesuffix('.py')}_section"] == title
    assert [c.key for c in at.get("plotly_chart")] == drawn
    assert params(at)["section"] == section
    assert not at.warning


@pytest.mark.parametrize("page", [TICKER, COMPARE])
def test_the_first_tab_keeps_the_address_clean_and_a_bad_section_is_named(page: str) -> None:
    at = open_link({"section": "<b>nope</b>"}, page)
    assert any("section=<b>nope</b>" in w and "tab is open" in w for w in warnings(at)), warnings(at)
    assert_escaped(at)
    assert "section" not in params(at), "the first tab is the default: nothing in the address"


def test_the_open_tab_comes_back_after_a_visit_to_another_page_and_stays_on_its_page() -> None:
    at = open_link({"ticker": "TSLA", "section": "history"}, TICKER)
    switch(at, COMPARE)
    assert "section" not in params(at), "the Ticker page's tab is not Compare's"
    assert at.dataframe, "Compare opens on its own first tab, the table"
    switch(at, TICKER)
    assert params(at)["section"] == "history" and params(at)["ticker"] == "TSLA"
    assert [c.key for c in at.get("plotly_chart")] == ["ticker-history-chart"]
