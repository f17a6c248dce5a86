"""The dashboard on the local store and on live Yahoo data, under AppTest, with the offline fake.

Every run of the app happens inside ``FakeYahoo`` (which patches yfinance's HTTP layer in this
process; AppTest runs the script in-process), with the store and the cache folder in ``tmp_path``
and a live configuration without rate limit or backoff. Expected figures come from the recorded
responses (``fake_yahoo.recorded``), from the bundle (``load_bundle``) or from the store the test
filled, never from the app's own output.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fake_yahoo import FakeYahoo, recorded
from streamlit.testing.v1 import AppTest

from ratings import yahoo
from ratings.bundle import load_bundle
from ratings.changes import changes
from ratings.core import label_from_rating_mean
from ratings.dashboard import cache as dashboard_cache
from ratings.formatting import (
    MISSING,
    action_text,
    age_text,
    changes_table,
    grade_change,
    money,
    percent,
    staleness_lines,
    target_change,
    upgrades_table,
    utc_minute,
)
from ratings.paths import STORE_ENV
from ratings.schema import UPGRADES
from ratings.store import FetchLogEntry, Store
from ratings.tickers import WATCHLIST

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 60
COVERED = ("AAPL", "AMZN", "GOOG")  # recorded with financialData, trend and upgrades
#: No rate limit, no backoff, no result cache: the fake answers at once and every refresh asks it.
FAST = yahoo.LiveConfig(requests_per_second=None, backoff_base_s=0.0, backoff_cap_s=0.0, cache_ttl_s=0.0)
DAY_2021 = datetime(2021, 2, 1, 15, 0, tzinfo=UTC)  # the 2021 recordings' day (AAPL)
DAY_2025 = datetime(2025, 2, 24, 15, 0, tzinfo=UTC)  # after the 2025 recordings' last action


# --- set-up -------------------------------------------------------------------------------------


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard's store (not created) in tmp_path (the cache folder is already there: conftest.py);
    the dashboard's refresh uses FAST."""
    path = tmp_path / "store" / "ratings.sqlite"
    monkeypatch.setenv(STORE_ENV, str(path))
    monkeypatch.setattr(dashboard_cache, "live_config_override", FAST)
    return path


def new_app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    return at


def run(at: AppTest, fake: FakeYahoo | None = None) -> AppTest:
    """One run of the app with the fake installed (a fresh one unless given)."""
    with fake or FakeYahoo():
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click_refresh(at: AppTest, fake: FakeYahoo | None = None) -> AppTest:
    at.button(key="refresh").click()
    return run(at, fake)


def fill_store(
    path: Path, tickers: tuple[str, ...] = COVERED, *, when: datetime | None = None, fake: FakeYahoo | None = None
) -> yahoo.LiveBatch:
    """Fetch `tickers` from the fake "at" `when` and write the batch into the store at `path`."""
    clock = (lambda: when) if when is not None else (lambda: datetime.now(UTC))
    with fake or FakeYahoo():
        batch = yahoo.fetch(list(tickers), config=FAST, refresh=True, now=clock)
    assert not batch.failed, [r.describe() for r in batch.failed]
    with Store.open(path) as store:
        store.write_batch(batch.snapshots, batch.trend, batch.upgrades, batch.prices, batch.names)
    return batch


def unescape(text: str) -> str:
    """What a reader sees of Markdown that ui.md escaped."""
    return re.sub(r"\\(.)", r"\1", text)


def texts(at: AppTest, *kinds: str) -> list[str]:
    kinds = kinds or ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return [unescape(str(getattr(el, "value", ""))) for kind in kinds for el in at.get(kind)]


def open_tab(at: AppTest, key: str, title: str) -> AppTest:
    """Open a page's tab (as a click would: its title in session state), and rerun."""
    at.session_state[key] = title
    return run(at)


def table(at: AppTest, index: int = 0) -> pd.DataFrame:
    assert len(at.dataframe) > index, f"the page shows {len(at.dataframe)} tables"
    frame = at.dataframe[index].value
    assert isinstance(frame, pd.DataFrame)
    return frame


def chart_spec(at: AppTest, key: str) -> dict[str, Any]:
    charts = {c.key: c for c in at.get("plotly_chart")}
    assert key in charts, list(charts)
    spec: dict[str, Any] = json.loads(charts[key].proto.spec)
    return spec


def values(data: Any) -> list[Any]:
    """A trace's array as a list: plotly writes numeric arrays as base64 typed arrays."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"])).tolist()
    return list(data)


def stored(path: Path) -> pd.DataFrame:
    with Store.open(path, create=False) as store:
        return store.snapshots()


def currency_of(path: Path, symbol: str) -> Any:
    """The quote currency the store holds for `symbol` (<NA> where the fake's recording has none)."""
    rows = stored(path)
    return rows.loc[rows["ticker"] == symbol, "currency"].iloc[-1]


def expected_row(symbol: str, currency: Any, year: str = "2025") -> dict[str, str]:
    """The overview's cells for `symbol`, from its recorded financialData, in `currency`."""
    data = recorded(symbol, year).modules["financialData"]
    target, price = data["targetMeanPrice"], data["currentPrice"]
    return {
        "Mean target": money(target, currency),
        "Price": money(price, currency),
        "Upside": percent(target / price - 1),
        "Consensus": yahoo.YAHOO_LABELS[data["recommendationKey"]],
    }


def assert_shows_recorded(at: AppTest, path: Path, symbols: tuple[str, ...] = COVERED) -> None:
    shown = table(at).set_index("Ticker")
    for symbol in symbols:
        for column, value in expected_row(symbol, currency_of(path, symbol)).items():
            assert str(shown.loc[symbol, column]).startswith(value), (symbol, column, shown.loc[symbol, column])
        assert shown.loc[symbol, "Source"] == "Yahoo Finance"


def file_state(path: Path) -> dict[str, bytes | None]:
    """The bytes of the store and of any journal beside it."""
    files = {suffix: path.with_name(path.name + suffix) for suffix in ("", "-wal", "-journal", "-shm")}
    return {suffix: (file.read_bytes() if file.exists() else None) for suffix, file in files.items()}


# --- the data-source choice ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["store", "live"])
def test_the_source_comes_from_the_link(store_path: Path, kind: str) -> None:
    fill_store(store_path)
    at = run(new_app({"source": kind, "tickers": ",".join(COVERED)}))
    assert at.radio(key="data_source").value == kind
    assert at.query_params["source"] == kind
    assert_shows_recorded(at, store_path)
    assert any("Local store" in c and str(store_path) in c for c in texts(at, "caption")), "the sidebar names it"
    assert (at.button(key="refresh") is not None) if kind == "live" else not at.get("button")


def test_the_source_is_switched_in_the_sidebar_and_kept_in_the_link(store_path: Path) -> None:
    fill_store(store_path)
    bundle = load_bundle()
    at = run(new_app({"tickers": "F,AAPL"}))
    assert at.radio(key="data_source").value == "bundle" and "source" not in at.query_params
    ford = bundle.table(["F"]).query("is_primary").iloc[0]
    assert table(at).set_index(["Ticker", "Source"]).loc[("F", "Yahoo Finance"), "Mean target"] == money(
        ford["target_mean"], ford["currency"]
    )

    at.radio(key="data_source").set_value("store")
    run(at)
    assert at.query_params["source"] == "store"
    assert_shows_recorded(at, store_path, ("AAPL",))
    assert table(at).set_index("Ticker").loc["F", "Mean target"] == MISSING, "the store has nothing for F"
    assert any("local store has no analyst consensus for F" in t for t in texts(at, "info"))

    at.radio(key="data_source").set_value("bundle")
    run(at)
    assert "source" not in at.query_params
    assert "Bundled snapshot" in " ".join(texts(at, "caption"))


def test_an_unknown_source_in_the_link_falls_back_to_the_bundle(store_path: Path) -> None:
    at = run(new_app({"source": "<b>ftp</b>"}))
    assert at.radio(key="data_source").value == "bundle"
    assert len(at.warning) == 1 and "<b>ftp</b>" in unescape(at.warning[0].value)
    assert "<b>" not in at.warning[0].value


@pytest.mark.parametrize("kind", ["store", "live"])
def test_no_store_yet_is_explained_not_an_error(store_path: Path, kind: str) -> None:
    at = run(new_app({"source": kind}))
    assert not at.error
    message = " ".join(texts(at, "info"))
    assert "no local store yet" in message and str(store_path) in message
    assert "ratings fetch" in message and "Refresh from Yahoo" in message
    assert not store_path.exists(), "reading must not create the store"


def test_an_empty_store_is_explained_not_an_error(store_path: Path) -> None:
    Store.open(store_path).close()  # a valid store without any fetch
    at = run(new_app({"source": "store", "tickers": "AAPL"}))
    assert not at.error
    assert any("local store has no analyst consensus for AAPL" in t for t in texts(at, "info"))
    sidebar = " ".join(unescape(str(c.value)) for c in at.sidebar.get("caption"))
    assert "no snapshot yet" in sidebar and "holds no consensus" not in sidebar, "said once, on the page"


def test_a_failed_fetch_is_said_once_in_the_banner_even_from_another_process(store_path: Path) -> None:
    """``ratings fetch`` failed for a ticker (its fetch log says so): the page's banner says why, once;
    the sidebar and the progress bar do not repeat it."""
    fill_store(store_path, ("AAPL",), when=DAY_2025)  # then, later, a fetch that failed
    with Store.open(store_path) as store:
        store.log_fetch(FetchLogEntry("2026-11-30T10:00:00Z", "2026-11-30T10:00:05Z", ("AAPL",), 0, 0, 1,
                                      {"AAPL": "rate limited by Yahoo (HTTP 429)"}))  # fmt: skip
    at = run(new_app({"source": "store", "tickers": "AAPL"}))
    banners = [t for t in texts(at, "warning") if "rate limited by Yahoo" in t]
    assert len(banners) == 1 and "AAPL" in banners[0]
    everything = " ".join(texts(at))
    assert everything.count("rate limited by Yahoo") == 1


def truncated_store(path: Path) -> None:
    fill_store(path, ("AAPL",))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def foreign_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER, owner TEXT)")
        conn.execute("INSERT INTO accounts VALUES (1, 'someone')")
    conn.close()


BROKEN = {
    "text": lambda p: p.write_bytes(b"this is not a database\n" * 40),
    "truncated": truncated_store,
    "foreign": foreign_database,
}


@pytest.mark.parametrize("damage", list(BROKEN))
@pytest.mark.parametrize("kind", ["store", "live"])
def test_a_broken_store_is_an_error_naming_it_and_is_never_touched(store_path: Path, damage: str, kind: str) -> None:
    store_path.parent.mkdir(parents=True, exist_ok=True)
    BROKEN[damage](store_path)
    before = file_state(store_path)
    fake = FakeYahoo()
    at = run(new_app({"source": kind, "tickers": "AAPL"}), fake)
    assert at.error and all(str(store_path) in unescape(e.value) for e in at.error)
    assert not at.dataframe
    if kind == "live":
        click_refresh(at, fake)
        assert any("Nothing was fetched" in unescape(e.value) for e in at.error)
        assert fake.count() == 0, "the store is checked before any request"
    assert file_state(store_path) == before


def test_an_unreachable_postgresql_store_is_named_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens on port 1: the page says the store cannot be read, naming it by host and database,
    never with the password the URL carries."""
    monkeypatch.setenv(STORE_ENV, "postgresql://reader:s3cret-pw@127.0.0.1:1/ratings?connect_timeout=2")
    at = run(new_app({"source": "store", "tickers": "AAPL"}))
    shown = " ".join(unescape(str(e.value)) for e in at.error)
    assert "127.0.0.1" in shown and "ratings" in shown, shown
    assert "s3cret-pw" not in " ".join(texts(at)) + shown
    assert not at.dataframe


def test_an_empty_file_is_no_store_to_read_and_is_left_alone(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(b"")
    at = run(new_app({"source": "store"}))
    assert at.error and str(store_path) in unescape(at.error[0].value)
    assert store_path.read_bytes() == b""


def test_a_failed_load_is_not_cached(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True, exist_ok=True)
    store_path.write_bytes(b"garbage" * 100)
    at = run(new_app({"source": "store", "tickers": "AAPL"}))
    assert at.error
    store_path.unlink()
    fill_store(store_path, ("AAPL",))
    run(at)
    assert not at.error
    assert_shows_recorded(at, store_path, ("AAPL",))


# --- refresh -------------------------------------------------------------------------------------


def test_refresh_fetches_the_watchlist_with_a_progress_bar_and_shows_it(store_path: Path) -> None:
    at = run(new_app({"source": "live", "tickers": ",".join(COVERED)}))
    assert any("no local store yet" in t for t in texts(at, "info"))

    fake = FakeYahoo()
    click_refresh(at, fake)
    progress = at.get("progress")
    assert len(progress) == 1 and progress[0].proto.value == 100
    assert "3 fetched" in unescape(progress[0].proto.text)
    assert {s for s in COVERED if fake.count("quoteSummary", symbol=s)} == set(COVERED)
    assert list(table(at)["Ticker"]) == list(COVERED)
    assert set(stored(store_path)["ticker"]) == set(COVERED)
    assert_shows_recorded(at, store_path)
    assert not at.warning, "nothing failed: no staleness banner"
    captions = " ".join(texts(at, "caption"))
    assert "Last refresh" in captions and "3 fetched" in captions

    run(at)  # the next run: the progress bar is gone, the data stays
    assert not at.get("progress") and len(table(at)) == len(COVERED)


def test_the_watchlist_box_stays_on_every_run_of_a_switch_to_live_without_a_store(store_path: Path) -> None:
    """The steps of a bug seen in the browser: bundle -> Live (no store yet: nothing else on the page) ->
    Refresh -> type a ticker. The box must be drawn in every one of those runs: one left out and drawn
    again shows empty in a browser (streamlit#5620), and the next keystroke replaced the whole list."""
    at = run(new_app({"tickers": ",".join(COVERED)}))
    listed = ", ".join(COVERED)
    assert at.text_input(key="watchlist").value == listed
    at.radio(key="data_source").set_value("live")
    run(at)
    assert any("no local store yet" in t for t in texts(at, "info"))
    assert at.text_input(key="watchlist").value == listed, "the box is there, with the list, before any store"
    click_refresh(at)
    assert at.text_input(key="watchlist").value == listed
    at.text_input(key="watchlist").set_value(f"{listed}, MSFT")
    run(at)
    assert at.query_params["tickers"] == ",".join([*COVERED, "MSFT"])
    assert list(table(at)["Ticker"]) == [*COVERED, "MSFT"]


def test_a_failed_refresh_keeps_the_last_good_data_and_says_how_old_it_is(store_path: Path) -> None:
    earlier = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3, minutes=5)
    fill_store(store_path, when=earlier)
    at = run(new_app({"source": "live", "tickers": ",".join(COVERED)}))

    fake = FakeYahoo()
    fake.fail("AAPL", "status", status=429)  # forever
    click_refresh(at, fake)
    assert fake.count("quoteSummary", symbol="AAPL", status=429) >= FAST.max_attempts

    assert_shows_recorded(at, store_path)
    snapshots = stored(store_path)
    assert (snapshots["ticker"] == "AAPL").sum() == 1, "no snapshot lost, none added for AAPL"
    assert (snapshots["ticker"] == "AMZN").sum() == 2

    assert len(at.warning) == 1
    banner = unescape(at.warning[0].value)
    aapl_fetched = snapshots.loc[snapshots["ticker"] == "AAPL", "observed_at"].iloc[0]
    assert f"Data from {utc_minute(aapl_fetched)}, 3 h old" in banner
    assert "rate limited by Yahoo (HTTP 429)" in banner and "(AAPL)" in banner
    assert "1 of 3 tickers" in banner and "AMZN" not in banner and "GOOG" not in banner


def test_a_refresh_that_fails_for_every_ticker_keeps_everything(store_path: Path) -> None:
    fill_store(store_path, ("AAPL", "GOOG"))
    before = stored(store_path)
    at = run(new_app({"source": "live", "tickers": "AAPL,GOOG"}))
    fake = FakeYahoo()
    fake.fail("AAPL", "network")
    fake.fail("GOOG", "malformed")
    click_refresh(at, fake)

    pd.testing.assert_frame_equal(stored(store_path), before)
    assert_shows_recorded(at, store_path, ("AAPL", "GOOG"))
    banner = unescape(at.warning[0].value)
    assert "all 2 tickers" in banner and "network error" in banner and "malformed response" in banner
    ages = dict(line.strip().split(": data from ", 1) for line in banner.splitlines() if ": data from " in line)
    for symbol in ("AAPL", "GOOG"):
        fetched = before.loc[before["ticker"] == symbol, "observed_at"].iloc[0]
        (age,) = [age for tickers, age in ages.items() if symbol in tickers.split(", ")]
        assert age.startswith(utc_minute(fetched))


@pytest.mark.parametrize(("failing", "cleared"), [((), 1), (("AAPL",), 1), (("AAPL", "GOOG"), 0)])
def test_the_store_caches_are_cleared_only_after_a_refresh_that_stored_something(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, failing: tuple[str, ...], cleared: int
) -> None:
    fill_store(store_path, ("AAPL", "GOOG"))
    calls: list[None] = []
    original = dashboard_cache.clear_store_caches

    def counted() -> None:
        calls.append(None)
        original()

    monkeypatch.setattr(dashboard_cache, "clear_store_caches", counted)
    at = run(new_app({"source": "live", "tickers": "AAPL,GOOG"}))
    fake = FakeYahoo()
    for symbol in failing:
        fake.fail(symbol, "network")
    click_refresh(at, fake)
    assert len(calls) == cleared
    assert_shows_recorded(at, store_path, ("AAPL", "GOOG"))


def test_a_ticker_without_analyst_coverage_is_named_after_a_refresh(store_path: Path) -> None:
    at = run(new_app({"source": "live", "tickers": "AAPL,SPY"}))
    fake = FakeYahoo()
    fake.no_fundamentals("SPY")
    click_refresh(at, fake)
    assert any("No analyst coverage" in t and "SPY" in t for t in texts(at, "info"))
    assert not at.warning, "no coverage is an answer, not a failure"
    assert_shows_recorded(at, store_path, ("AAPL",))
    # The Overview says it was Yahoo's answer, and does not tell to fetch SPY again.
    assert any(t.startswith("Yahoo answered that there is no analyst coverage for SPY") for t in texts(at, "info"))
    assert not any("SPY" in t and "fetch them" in t for t in texts(at, "info"))


def test_a_consensus_older_than_a_no_coverage_answer_says_so(store_path: Path) -> None:
    fill_store(store_path, ("AAPL",), when=DAY_2021)  # a consensus of 2021
    at = run(new_app({"source": "live", "tickers": "AAPL"}))
    fake = FakeYahoo()
    fake.no_fundamentals("AAPL")  # today Yahoo has none
    click_refresh(at, fake)
    at.run()  # a later rerun: the refresh's own message is gone, the store still knows
    (note,) = [t for t in texts(at, "info") if t.startswith("Yahoo's latest answer for AAPL")]
    assert "had no analyst coverage" in note and "the last one it gave" in note


def test_a_ticker_fetched_with_a_gap_says_which_after_a_refresh(store_path: Path) -> None:
    at = run(new_app({"source": "live", "tickers": "AAPL"}))  # fully recorded: no gap of its own
    fake = FakeYahoo()
    fake.fail("AAPL", "status", status=503, endpoints=["chart"])  # the price history only, every time
    click_refresh(at, fake)
    (gaps,) = [t for t in texts(at, "info") if t.startswith("Fetched with gaps")]
    assert gaps == "Fetched with gaps: AAPL: price history: Yahoo server error (HTTP 503, price chart)."
    assert_shows_recorded(at, store_path, ("AAPL",))  # the consensus itself is there


HOSTILE_NAME = "**Bold** <script>alert(1)</script> [link](javascript:alert(1)) $x^2$"


def test_a_name_from_yahoo_reaches_the_page_as_literal_text(store_path: Path) -> None:
    """Text from the data, not only what users type, must never format, link or run on a page."""
    fake = FakeYahoo()
    data = fake.symbols["AAPL"]
    for body in (data.modules.get("price"), data.quote):
        if body is not None:
            body["longName"] = HOSTILE_NAME
    fill_store(store_path, ("AAPL",), fake=fake)
    at = run(new_app({"source": "store", "ticker": "AAPL"}))
    at.switch_page("pages/ticker.py")
    run(at)
    (title,) = [str(t.value) for t in at.title]
    assert unescape(title) == f"AAPL · {HOSTILE_NAME}"  # every character shown as it came
    for special in "*[]()<>$^":
        assert special not in title.replace(f"\\{special}", ""), f"{special!r} reaches the page unescaped"


# --- the Ticker page with stored data -------------------------------------------------------------


@pytest.fixture
def two_days(store_path: Path) -> Path:
    """AAPL and GOOG fetched "on" 2021-02-01 (the 2021 recordings) and on 2025-02-24 (the 2025 ones)."""
    old = FakeYahoo()
    for symbol in ("AAPL", "GOOG"):
        old.recorded_in("2021", symbol)
    fill_store(store_path, ("AAPL", "GOOG"), when=DAY_2021, fake=old)
    fill_store(store_path, ("AAPL", "GOOG"), when=DAY_2025)
    return store_path


def recorded_actions(symbol: str, *years: str) -> set[tuple[int, str, str]]:
    return {
        (row["epochGradeDate"], row["firm"], row["action"])
        for year in years
        for row in recorded(symbol, year).modules["upgradeDowngradeHistory"]["history"]
    }


def test_ticker_page_shows_trend_history_and_upgrades_from_the_store(two_days: Path) -> None:
    at = run(new_app({"source": "store", "ticker": "AAPL", "tickers": "AAPL,GOOG"}))
    at.switch_page("pages/ticker.py")
    run(at)
    assert at.selectbox(key="ticker").value == "AAPL"
    open_tab(at, "ticker_section", "Ratings")
    assert [c.key for c in at.get("plotly_chart")] == ["ticker-ratings-chart", "ticker-trend-chart"]

    # Trend: the latest fetch's months in order, counts as recorded.
    trend = sorted(
        recorded("AAPL").modules["recommendationTrend"]["trend"], key=lambda r: int(r["period"].removesuffix("m"))
    )
    bars = {t["meta"]: t for t in chart_spec(at, "ticker-trend-chart")["data"] if t.get("type") == "bar"}
    assert values(bars["strong_buy"]["y"]) == [r["strongBuy"] for r in trend]
    assert values(bars["hold"]["y"]) == [r["hold"] for r in trend]
    assert values(bars["strong_buy"]["x"]) == ["Nov 2024", "Dec 2024", "Jan 2025", "Feb 2025"]

    # History: one point per day, the recorded mean targets.
    open_tab(at, "ticker_section", "History")
    targets = [t for t in chart_spec(at, "ticker-history-chart")["data"] if t.get("meta") == "target"]
    assert len(targets) == 1
    assert values(targets[0]["y"]) == [
        recorded("AAPL", year).modules["financialData"]["targetMeanPrice"] for year in ("2021", "2025")
    ]

    # Upgrades: every action of both fetches once, newest first, in words.
    open_tab(at, "ticker_section", "Analysts' actions")
    actions = table(at)
    expected = recorded_actions("AAPL", "2021", "2025")
    assert len(actions) == len(expected)
    newest = max(expected)
    assert actions.iloc[0]["Date"] == datetime.fromtimestamp(newest[0], UTC).strftime("%Y-%m-%d")
    assert actions.iloc[0]["Firm"] == newest[1] and actions.iloc[0]["Action"] == action_text(newest[2])
    assert list(actions["Date"]) == sorted(actions["Date"], reverse=True)
    labels = [str(getattr(b, "label", "")) for b in at.get("download_button")]
    assert sum("CSV" in label for label in labels) >= len(at.dataframe)


def test_upgrades_show_the_firms_target_changes(store_path: Path) -> None:
    fake = FakeYahoo()
    fake.with_price_targets("AAPL")  # test input derived from AAPL's recording; see fake_yahoo
    fill_store(store_path, ("AAPL",), fake=fake)
    at = run(new_app({"source": "store", "ticker": "AAPL", "section": "actions"}))
    at.switch_page("pages/ticker.py")
    run(at)
    shown = table(at)
    history = fake.symbols["AAPL"].modules["upgradeDowngradeHistory"]["history"]
    currency = recorded("AAPL").modules["price"]["currency"]
    for row in history[:5]:
        day = datetime.fromtimestamp(row["epochGradeDate"], UTC).strftime("%Y-%m-%d")
        cell = shown[(shown["Firm"] == row["firm"]) & (shown["Date"] == day)]["Price target"].iloc[0]
        prior, current = row["priorPriceTarget"], row["currentPriceTarget"]
        if not current:
            assert cell == MISSING
        elif not prior:
            assert cell == f"{money(current, currency)} (no prior target)"
        else:
            assert cell == f"{money(prior, currency)} → {money(current, currency)} ({percent(current / prior - 1)})"


@pytest.mark.parametrize(("ticker", "has_history"), [("F", True), ("TSLA", True), ("NVDA", True), ("PSNY", False)])
def test_ticker_page_history_with_the_bundle(store_path: Path, ticker: str, has_history: bool) -> None:
    at = run(new_app({"ticker": ticker, "section": "history"}))
    at.switch_page("pages/ticker.py")
    run(at)
    keys = [c.key for c in at.get("plotly_chart")]
    assert keys == (["ticker-history-chart"] if has_history else [])
    if has_history:
        points = [t for t in chart_spec(at, "ticker-history-chart")["data"] if t.get("meta") == "target"]
        bundled = load_bundle().history_for(ticker)
        assert sum(len(values(t["y"])) for t in points) == len(bundled)
    else:
        assert any(f"No history for {ticker}" in t for t in texts(at, "info"))


# --- the Changes page ----------------------------------------------------------------------------


def changes_page(query: dict[str, str]) -> AppTest:
    at = run(new_app(query))
    at.switch_page("pages/changes.py")
    return run(at)


def test_changes_with_the_bundle_since_june_29_show_f_raise_and_tsla_cut(store_path: Path) -> None:
    history = load_bundle().history
    at = changes_page({"since": "2026-06-29"})
    assert at.radio(key="changes_mode").value == "day"
    shown = table(at).set_index("Ticker")
    for ticker, what in (("F", "Target raised"), ("TSLA", "Target cut")):
        rows = history[history["ticker"] == ticker].sort_values("observed_at")
        first = rows[rows["observed_at"].str.startswith("2026-06-29")].iloc[-1]
        last = rows.iloc[-1]
        row = shown.loc[ticker]
        assert row["What"] == what
        assert row["Before"] == money(first["target_mean"], first["currency"])
        assert row["After"] == money(last["target_mean"], last["currency"])
        assert row["Change"] == percent(last["target_mean"] / first["target_mean"] - 1)
        assert row["Date"] == last["as_of"]
    assert "PSNY" not in shown.index
    assert any("No history" in t and "PSNY" in t for t in texts(at, "caption"))
    assert any(getattr(b, "label", None) == "CSV" for b in at.get("download_button"))


@pytest.mark.parametrize("since", ["not-a-date", "2026-13-45", "=1+1<b>"])
def test_a_link_with_a_bad_since_day_says_so_and_compares_with_the_previous_snapshot(
    store_path: Path, since: str
) -> None:
    at = changes_page({"since": since})
    assert not at.exception
    assert at.radio(key="changes_mode").value == "previous"
    assert any("is not a day" in t for t in texts(at, "warning")), texts(at, "warning")
    assert "since" not in at.query_params


def test_changes_open_on_the_most_recent_period_in_which_something_moved(store_path: Path) -> None:
    """Against each ticker's previous snapshot nothing of the default watchlist moved in the bundle (their two
    newest snapshots agree); the page does not open on "Nothing moved" but on the latest day since which
    something did, and says so."""
    bundle = load_bundle()
    watched = list(bundle.history.loc[bundle.history["ticker"].isin(WATCHLIST), "ticker"].unique())
    assert changes(bundle.history, bundle.upgrades, watched).empty, "the premise: nothing since the previous"
    days = sorted({str(d)[:10] for d in bundle.history.loc[bundle.history["ticker"].isin(watched), "observed_at"]})
    moving = [d for d in days[:-1] if not changes(bundle.history, bundle.upgrades, watched, since=d).empty]
    at = changes_page({})
    assert at.radio(key="changes_mode").value == "day"
    assert at.date_input(key="changes_since").value.isoformat() == moving[-1]
    assert "since" not in at.query_params, "the page's own choice needs no address"
    assert any(f"most recent period in which something did: since {moving[-1]}" in t for t in texts(at, "caption"))
    assert at.dataframe, "what moved is shown"


def test_changes_since_a_day_picked_on_the_page(store_path: Path) -> None:
    at = changes_page({})
    at.radio(key="changes_mode").set_value("day")
    run(at)
    at.date_input(key="changes_since").set_value(datetime(2026, 6, 29).date())
    run(at)
    assert at.query_params["since"] == "2026-06-29"
    assert {"F", "TSLA"} <= set(table(at)["Ticker"])


def test_changes_follow_the_watchlist_edited_on_the_overview(store_path: Path) -> None:
    at = run(new_app({}))
    at.text_input(key="watchlist").set_value("TSLA, PSNY")
    run(at)
    at.switch_page("pages/changes.py")
    run(at)
    at.radio(key="changes_mode").set_value("day")
    run(at)
    at.date_input(key="changes_since").set_value(datetime(2026, 6, 29).date())
    run(at)
    assert set(table(at)["Ticker"]) == {"TSLA"}
    assert at.query_params["tickers"] == "TSLA,PSNY"
    assert any("No history" in t and "PSNY" in t for t in texts(at, "caption"))


def test_changes_without_history_say_so(store_path: Path) -> None:
    at = changes_page({"tickers": "PSNY,LOT,1810.HK"})
    assert any("No history to compare" in t for t in texts(at, "info"))
    assert not at.dataframe and not at.error


def test_changes_between_two_stored_days(two_days: Path) -> None:
    at = changes_page({"source": "store", "tickers": "AAPL,GOOG"})
    shown = table(at)
    old = {s: recorded(s, "2021").modules["financialData"] for s in ("AAPL", "GOOG")}
    new = {s: recorded(s).modules["financialData"] for s in ("AAPL", "GOOG")}
    snapshots = stored(two_days).sort_values("observed_at")
    for symbol in ("AAPL", "GOOG"):
        before, after = old[symbol]["targetMeanPrice"], new[symbol]["targetMeanPrice"]
        currencies = snapshots.loc[snapshots["ticker"] == symbol, "currency"].tolist()  # as each day stored it
        moves = shown[(shown["Ticker"] == symbol) & shown["What"].str.startswith("Target")]
        consensus = moves[moves["By"] == "Yahoo Finance"].iloc[0]
        assert consensus["What"] == ("Target raised" if after > before else "Target cut")
        assert consensus["Before"] == money(before, currencies[0])
        assert consensus["After"] == money(after, currencies[-1])
        assert consensus["Change"] == percent(after / before - 1)
        assert consensus["Date"] == DAY_2025.strftime("%Y-%m-%d")
        labels = label_from_rating_mean(
            pd.Series([old[symbol]["recommendationMean"], new[symbol]["recommendationMean"]])
        ).tolist()
        changed = shown[(shown["Ticker"] == symbol) & (shown["What"] == "Consensus label changed")]
        if labels[0] != labels[1]:
            assert changed[["Before", "After"]].to_numpy().tolist() == [labels]
        else:
            assert changed.empty

    # Analysts' rating actions graded after the 2021 snapshot, each once.
    for symbol in ("AAPL", "GOOG"):
        later = {
            (stamp, firm, action)
            for stamp, firm, action in recorded_actions(symbol, "2025")
            if stamp > DAY_2021.timestamp() and action in ("up", "down", "init")
        }
        rows = shown[(shown["Ticker"] == symbol) & shown["What"].isin(["Upgrade", "Downgrade", "Initiation"])]
        assert len(rows) == len(later), symbol
    assert list(shown["Date"]) == sorted(shown["Date"], reverse=True)


# --- other pages on the store ----------------------------------------------------------------------


def test_methodology_describes_the_store(store_path: Path) -> None:
    fill_store(store_path, ("AAPL",))
    at = run(new_app({"source": "store"}))
    at.switch_page("pages/methodology.py")
    run(at)
    page = " ".join(texts(at, "markdown"))
    assert "Local store" in page and "Live (Yahoo)" in page
    assert "Yahoo Finance via yfinance (local store)" in page and str(store_path) in page


def test_compare_on_the_store_starts_from_the_stored_tickers(store_path: Path) -> None:
    fill_store(store_path)
    at = run(new_app({"source": "store"}))
    at.switch_page("pages/compare.py")
    run(at)
    assert at.radio(key="compare_universe").value == "all"
    assert set(table(at)["ticker"]) == set(COVERED)


def test_every_page_runs_on_the_store(two_days: Path) -> None:
    at = run(new_app({"source": "store", "tickers": "AAPL,GOOG"}))
    for page in ("pages/ticker.py", "pages/changes.py", "pages/compare.py", "pages/methodology.py"):
        at.switch_page(page)
        run(at)
        assert at.title and not at.error, page
        captions = " ".join(texts(at, "caption"))
        assert "Yahoo Finance" in captions or page.endswith("methodology.py"), page


# --- pure helpers (ratings.formatting) -------------------------------------------------------------

NOW = "2026-11-24T17:05:00Z"


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        ("2026-11-24T17:04:30Z", "less than a minute old"),
        ("2026-11-24T17:06:00Z", "less than a minute old"),  # a clock a little ahead
        ("2026-11-24T16:53:00Z", "12 min old"),
        ("2026-11-24T14:03:00Z", "3 h old"),
        ("2026-11-23T17:06:00Z", "23 h old"),
        ("2026-11-21T17:05:00Z", "3 days old"),
        ("2027-11-24T17:05:00Z", "dated in the future (a clock is wrong)"),  # not "less than a minute"
        (None, "of unknown age"),
        ("not a time", "of unknown age"),
    ],
)
def test_age_text(then: str | None, expected: str) -> None:
    assert age_text(then, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-24T14:03:11Z", "2026-11-24 14:03 UTC"),
        ("2026-11-24T15:03:11+01:00", "2026-11-24 14:03 UTC"),
        (pd.Timestamp("2026-11-24 14:03"), "2026-11-24 14:03 UTC"),
        (None, MISSING),
        (float("nan"), MISSING),
    ],
)
def test_utc_minute(value: object, expected: str) -> None:
    assert utc_minute(value) == expected


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [("Neutral", "Buy", "Neutral → Buy"), (pd.NA, "Buy", "Buy"), ("Buy", "Buy", "Buy"), (None, None, MISSING)],
)
def test_grade_change(before: object, after: object, expected: str) -> None:
    assert grade_change(before, after) == expected


@pytest.mark.parametrize(
    ("prior", "current", "currency"),
    [(250.0, 300.0, "USD"), (float("nan"), 240.0, "USD"), (0.0, 240.0, "GBp"), (250.0, float("nan"), "USD")],
)
def test_target_change(prior: float, current: float, currency: str) -> None:
    text = target_change(prior, current, currency)
    if pd.isna(current):
        assert text == MISSING
    elif pd.isna(prior) or prior == 0:
        assert text == f"{money(current, currency)} (no prior target)"
    else:
        assert text == f"{money(prior, currency)} → {money(current, currency)} ({percent(current / prior - 1)})"


def test_upgrades_table_is_newest_first_in_words_with_gaps_for_unknowns() -> None:
    actions = pd.DataFrame(
        {
            "ticker": ["X", "X", "X"],
            "graded_at": ["2025-01-02T10:00:00Z", "2025-03-01T09:00:00Z", "2025-02-01T09:00:00Z"],
            "firm": ["Old & Co", "<b>New</b>", "Mid"],
            "action": ["init", "up", "main"],
            "from_grade": [pd.NA, "Hold", "Buy"],
            "to_grade": ["Buy", "Buy", "Buy"],
            "prior_price_target": [float("nan"), 100.0, 120.0],
            "current_price_target": [float("nan"), 125.0, 120.0],
        }
    )
    shown = upgrades_table(UPGRADES.empty().pipe(lambda e: pd.concat([e, actions])), "EUR")
    assert list(shown["Date"]) == ["2025-03-01", "2025-02-01", "2025-01-02"]
    assert list(shown["Action"]) == ["Upgrade", "Maintained", "Initiation"]  # Yahoo's codes in words
    assert shown.iloc[0]["Firm"] == "<b>New</b>", "plain text: st.dataframe does not render HTML"
    assert shown.iloc[0]["Grade"] == "Hold → Buy" and shown.iloc[2]["Grade"] == "Buy"
    assert shown.iloc[0]["Price target"] == target_change(100.0, 125.0, "EUR")
    assert shown.iloc[2]["Price target"] == MISSING and shown.iloc[2]["Target action"] == MISSING


def test_changes_table_shows_each_change_as_text_for_people() -> None:
    frame = pd.DataFrame(
        {
            "ticker": ["VOD.L", "F"],
            "date": ["2026-07-02", "2026-07-01"],
            "kind": ["target raise", "label"],
            "source": ["Yahoo Finance"] * 2,
            "firm": ["Some Bank", pd.NA],
            "before": [money(1200.0, "GBp"), "Hold"],
            "after": [money(1250.5, "GBp"), "Buy"],
            "change": [1250.5 / 1200 - 1, float("nan")],
            "since": ["2026-06-30T10:00:00Z", "2026-06-30"],
        }
    )
    shown = changes_table(frame)
    assert list(shown["Before"]) == ["1,200.00p", "Hold"] and list(shown["After"]) == ["1,250.50p", "Buy"]
    assert list(shown["By"]) == ["Some Bank", "Yahoo Finance"]
    assert list(shown["Change"]) == [percent(1250.5 / 1200 - 1), MISSING]
    assert list(shown["Since"]) == ["2026-06-30 10:00 UTC", "2026-06-30"]


def test_staleness_for_a_partial_failure_names_the_failed_ticker_and_its_age() -> None:
    lines = staleness_lines(
        {"AAPL": "rate limited by Yahoo (HTTP 429) after 4 attempts"},
        attempted=3,
        refreshed_at="2026-11-24T17:04:00Z",
        data_from={"AAPL": "2026-11-24T14:03:11Z", "AMZN": "2026-11-24T17:04:30Z"},
        now=NOW,
    )
    assert lines[0].startswith("Data from 2026-11-24 14:03 UTC, 3 h old") and "1 of 3 tickers" in lines[0]
    assert lines[1] == "Refresh failed: rate limited by Yahoo (HTTP 429) after 4 attempts (AAPL)."
    assert len(lines) == 2


def test_staleness_for_a_total_failure_groups_the_reasons_and_lists_each_ticker() -> None:
    failures = {"A": "network error", "B": "network error", "C": "malformed response"}
    data_from = {"A": "2026-11-24T16:00:00Z", "B": "2026-11-22T16:00:00Z"}
    lines = staleness_lines(failures, attempted=3, refreshed_at=NOW, data_from=data_from, now=NOW)
    assert lines[0].startswith("Data from 2026-11-22 16:00 UTC, 2 days old") and "all 3 tickers" in lines[0]
    assert lines[1] == "Refresh failed: network error (A, B); malformed response (C)."
    assert lines[2:] == [
        "A: data from 2026-11-24 16:00 UTC, 1 h old",
        "B: data from 2026-11-22 16:00 UTC, 2 days old",
        "C: no earlier data",
    ]


def test_staleness_is_gone_once_the_ticker_was_fetched_again() -> None:
    assert staleness_lines(
        {"A": "network error"}, attempted=1, refreshed_at="2026-11-24T16:00:00Z",
        data_from={"A": "2026-11-24T16:30:00Z"}, now=NOW,
    ) == []  # fmt: skip
    assert staleness_lines({}, attempted=2, refreshed_at=NOW, data_from={}, now=NOW) == []


def test_staleness_groups_tickers_of_the_same_age() -> None:
    failures = dict.fromkeys(["A", "B", "C", "D"], "network error")
    data_from = {"A": "2026-11-24T16:00:00Z", "B": "2026-11-24T16:00:00Z", "D": "2026-11-22T16:00:00Z"}
    lines = staleness_lines(failures, attempted=4, refreshed_at=NOW, data_from=data_from, now=NOW)
    assert lines[2:] == [
        "A, B: data from 2026-11-24 16:00 UTC, 1 h old",
        "C: no earlier data",
        "D: data from 2026-11-22 16:00 UTC, 2 days old",
    ]


def test_staleness_without_any_data_says_so_once() -> None:
    failures = dict.fromkeys(["A", "B", "C"], "network error")
    lines = staleness_lines(failures, attempted=3, refreshed_at=NOW, data_from={}, now=NOW)
    assert lines == [
        f"No data: the refresh of {utc_minute(NOW)} failed for all 3 tickers and there is no earlier data.",
        "Refresh failed: network error (A, B, C).",
    ]


def test_staleness_without_any_data() -> None:
    lines = staleness_lines({"A": "network error"}, attempted=1, refreshed_at=NOW, data_from={}, now=NOW)
    assert lines[0].startswith("No data:") and "no earlier data" in lines[0]
