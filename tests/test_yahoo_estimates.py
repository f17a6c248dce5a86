"""The live loader's analysis tab (EPS and revenue estimates, their trend and revisions, earnings surprises),
offline, through yfinance's own quoteSummary fetcher and the fake at its HTTP layer.

Expected values are read from the recordings in ``tests/payloads/yahoo/`` (the 2025-02-24
``earningsTrend`` and ``earningsHistory`` files): typed in by hand for AAPL, read with
``recordings.module`` for the others, never taken from the loader's output.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import pytest
from fake_yahoo import PAYLOAD_DIR, FakeYahoo
from helpers import VirtualClock
from recordings import module

from ratings import yahoo
from ratings.schema import EPS_REVISIONS, EPS_TREND, ESTIMATES, SURPRISES, validate
from ratings.yahoo import LiveBatch, LiveConfig, boundary
from ratings.yahoo import ticker as ticker_module

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")  # inside yfinance 1.7

ANALYSIS = ("earningsTrend", "earningsHistory")


def fetch(tickers: list[str], clock: VirtualClock, **overrides: Any) -> LiveBatch:
    settings: dict[str, Any] = {"requests_per_second": None, "backoff_base_s": 1.0, "backoff_cap_s": 8.0}
    refresh = overrides.pop("refresh", False)
    config = LiveConfig(**(settings | overrides))
    return yahoo.fetch(tickers, config=config, refresh=refresh, clock=clock.monotonic, sleep=clock.sleep)


def rows_of(frame: pd.DataFrame, ticker: str, key: str = "period") -> dict[str, dict[str, Any]]:
    """`ticker`'s rows of `frame` by `key` (period or quarter), each as a dict."""
    own = frame[frame["ticker"] == ticker]
    return {str(r[key]): r for r in own.to_dict("records")}


def assert_analysis_schemas(batch: LiveBatch) -> None:
    for frame, schema in (
        (batch.estimates, ESTIMATES),
        (batch.eps_trend, EPS_TREND),
        (batch.eps_revisions, EPS_REVISIONS),
        (batch.surprises, SURPRISES),
    ):
        validate(frame, schema)


def analysis_requests(fake: FakeYahoo, symbol: str) -> list[tuple[str, ...]]:
    return [r.modules for r in fake.log if r.symbol == symbol and set(r.modules) & set(ANALYSIS)]


# ---------------------------------------------------------------------------------------------
# AAPL, figure by figure (typed in from 2025-quoteSummary-earningsTrend-AAPL.json and -earningsHistory-)

AAPL_ESTIMATES = {
    # period: end_date, (EPS mean, low, high, analysts, year ago, growth), (revenue mean, low, high, analysts,
    # year ago, growth)
    "0q": ("2025-03-31", (1.60796, 1.5, 1.67, 27, 1.53, 0.051),
           (94076168920, 89370000000, 95903397000, 27, 90753000000, 0.0366)),
    "+1q": ("2025-06-30", (1.49709, 1.36, 1.57, 26, 1.4, 0.0694),
            (89371168280, 80688000000, 92993850400, 26, 85777000000, 0.0419)),
    "0y": ("2025-09-30", (7.3157, 6.93, 7.65, 38, 6.08, 0.2032),
           (409079556900, 389800000000, 431783000000, 39, 391035000000, 0.0461)),
    "+1y": ("2026-09-30", (8.19607, 7.38, 9.0, 39, 7.3157, 0.120299995),
            (442217695300, 401400000000, 477463000000, 41, 409079556900, 0.081)),
}  # fmt: skip
AAPL_TREND = {  # current, 7, 30, 60, 90 days ago
    "0q": (1.60796, 1.61018, 1.67117, 1.6786, 1.68215),
    "+1q": (1.49709, 1.4994, 1.54024, 1.54836, 1.54891),
    "0y": (7.3157, 7.33325, 7.36708, 7.38756, 7.38984),
    "+1y": (8.19607, 8.20992, 8.22295, 8.2762, 8.27286),
}
AAPL_REVISIONS = {
    "0q": (0, 1, 3, 20),
    "+1q": (0, 1, 6, 15),
    "0y": (0, 1, 10, 17),
    "+1y": (0, 1, 9, 15),
}  # up/down 7d, 30d
AAPL_SURPRISES = {  # quarter: period, estimate, actual, difference, surprise
    "2024-03-31": ("-4q", 1.49923, 1.53, 0.03, 0.020499999),
    "2024-06-30": ("-3q", 1.34086, 1.4, 0.06, 0.044099998),
    "2024-09-30": ("-2q", 0.94654, 0.97, 0.02, 0.0248),
    "2024-12-31": ("-1q", 2.34102, 2.4, 0.06, 0.0252),
}
EPS = ("eps_mean", "eps_low", "eps_high", "eps_analysts", "eps_year_ago", "eps_growth")
REVENUE = ("revenue_mean", "revenue_low", "revenue_high", "revenue_analysts", "revenue_year_ago", "revenue_growth")
TREND = ("eps_current", "eps_7d_ago", "eps_30d_ago", "eps_60d_ago", "eps_90d_ago")
REVISIONS = ("up_7d", "down_7d", "up_30d", "down_30d")


def test_aapl_estimates_match_its_recording_figure_by_figure(fake: FakeYahoo, clock: VirtualClock) -> None:
    batch = fetch(["AAPL"], clock)
    result = batch.result("AAPL")
    assert result.status == "ok" and result.warnings == ()
    stamp = result.observed_at

    estimates = rows_of(batch.estimates, "AAPL")
    assert list(estimates) == ["0q", "+1q", "0y", "+1y"]  # Yahoo's order
    for period, (end_date, eps, revenue) in AAPL_ESTIMATES.items():
        got = estimates[period]
        assert got["end_date"] == end_date and got["currency"] == "USD" and got["observed_at"] == stamp
        assert [got[c] for c in EPS] == pytest.approx(list(eps))
        assert [got[c] for c in REVENUE] == pytest.approx(list(revenue))
    trend = rows_of(batch.eps_trend, "AAPL")
    for period, values in AAPL_TREND.items():
        assert [trend[period][c] for c in TREND] == pytest.approx(list(values))
        assert trend[period]["currency"] == "USD"
    revisions = rows_of(batch.eps_revisions, "AAPL")
    for period, counts in AAPL_REVISIONS.items():
        assert [revisions[period][c] for c in REVISIONS] == list(counts)  # 0 up: a real count, kept as 0
    surprises = rows_of(batch.surprises, "AAPL", key="quarter")
    assert list(surprises) == list(AAPL_SURPRISES)
    for quarter, (period, estimate, actual, difference, surprise) in AAPL_SURPRISES.items():
        got = surprises[quarter]
        assert got["period"] == period and got["currency"] == "USD"
        assert [got["eps_estimate"], got["eps_actual"], got["eps_difference"], got["surprise"]] == pytest.approx(
            [estimate, actual, difference, surprise]
        )
    assert_analysis_schemas(batch)


def test_the_estimates_cost_one_request_asking_for_both_modules(fake: FakeYahoo, clock: VirtualClock) -> None:
    fetch(["AAPL", "AMZN"], clock)
    for symbol in ("AAPL", "AMZN"):
        assert analysis_requests(fake, symbol) == [ANALYSIS]  # one request, both modules in it
        summary = [r.modules for r in fake.log if r.symbol == symbol and r.endpoint == "quoteSummary"]
        # The consensus (info), the trend, the upgrades, and the analysis tab: one quoteSummary each.
        assert len(summary) == 4
    # AAPL has every endpoint recorded: before the analysis tab, 7 data requests (3 quoteSummary, the v7
    # quote, the key statistics, the chart twice: time zone, then the year); now 8.
    data = [
        r for r in fake.log if r.symbol == "AAPL" and r.endpoint in ("quoteSummary", "quote", "chart", "timeseries")
    ]
    assert len(data) == 8
    assert fake.unexpected() == []


def test_a_yfinance_without_its_fetcher_is_a_warning_that_says_so(
    fake: FakeYahoo, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RuntimeError, match=r"no quoteSummary fetcher \(Ticker._analysis._fetch\)"):
        boundary.analysis_answer(object())
    monkeypatch.setattr(ticker_module, "analysis_answer", lambda ticker: boundary.analysis_answer(object()))
    batch = fetch(["AAPL"], clock)
    result = batch.result("AAPL")
    assert result.status == "ok" and batch.estimates.empty and not batch.snapshots.empty
    assert any(w.startswith("estimates: unexpected error from yfinance: RuntimeError") for w in result.warnings)


@pytest.mark.parametrize("symbol", ["AMZN", "GOOG"])
def test_every_recorded_period_and_quarter_comes_back(fake: FakeYahoo, clock: VirtualClock, symbol: str) -> None:
    batch = fetch([symbol], clock)
    periods = module(symbol, "earningsTrend")["trend"]
    estimates = rows_of(batch.estimates, symbol)
    assert list(estimates) == [p["period"] for p in periods]
    for record in periods:
        got = estimates[record["period"]]
        assert got["end_date"] == record["endDate"]
        assert got["eps_mean"] == pytest.approx(record["earningsEstimate"]["avg"]["raw"])
        assert got["revenue_high"] == pytest.approx(record["revenueEstimate"]["high"]["raw"])
        assert got["currency"] == record["earningsEstimate"]["earningsCurrency"]
    quarters = module(symbol, "earningsHistory")["history"]
    surprises = batch.surprises[batch.surprises["ticker"] == symbol]
    assert surprises["eps_actual"].tolist() == pytest.approx([q["epsActual"]["raw"] for q in quarters])
    assert surprises["quarter"].tolist() == [q["quarter"]["fmt"] for q in quarters]
    assert_analysis_schemas(batch)


# ---------------------------------------------------------------------------------------------
# Symbols without estimates: a warning on that ticker, never a failure


def test_a_404_for_the_analysis_tab_is_no_estimates_not_a_failure(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.without_modules("NOEST")  # AAPL's answers less the two modules: Yahoo then answers 404
    batch = fetch(["NOEST", "AAPL"], clock)
    result = batch.result("NOEST")
    assert (result.status, batch.result("AAPL").status) == ("ok", "ok")
    (note,) = [w for w in result.warnings if w.startswith("no estimates")]
    assert "Yahoo has none for NOEST" in note and "No fundamentals data found" in note
    assert not (batch.estimates["ticker"] == "NOEST").any() and not (batch.surprises["ticker"] == "NOEST").any()
    assert not batch.snapshots[batch.snapshots["ticker"] == "NOEST"].empty  # the consensus is kept
    assert result.attempts == 1  # a 404 is an answer: not retried


def test_a_recorded_404_symbol_is_named_and_the_batch_goes_on(fake: FakeYahoo, clock: VirtualClock) -> None:
    # HISU-U.TO, an ETF: Yahoo's recorded 404 for every analyst module, earningsTrend and earningsHistory included.
    for name in ANALYSIS:
        recorded = json.loads((PAYLOAD_DIR / f"2025-quoteSummary-{name}-HISU-U.TO.json").read_text())
        assert recorded["status"] == 404
    batch = fetch(["AAPL", "HISU-U.TO", "GOOG"], clock)
    assert [r.status for r in batch.results] == ["ok", "no_coverage", "ok"]
    etf = batch.result("HISU-U.TO")
    assert any(w.startswith("no estimates: Yahoo has none for HISU-U.TO") for w in etf.warnings)
    assert set(batch.estimates["ticker"]) == {"AAPL", "GOOG"}


def test_no_fundamentals_at_all_asks_nothing_more(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.no_fundamentals("SPY")
    batch = fetch(["SPY"], clock)
    assert batch.result("SPY").status == "no_coverage"
    assert analysis_requests(fake, "SPY") == []  # Yahoo said it has no fundamentals: no request for estimates


@pytest.mark.parametrize(
    ("drop", "estimates", "surprises", "said"),
    [
        (("earningsHistory",), True, False, "Yahoo sent no earnings history for ODD"),
        (("earningsTrend",), False, True, "no estimates: Yahoo sent no EPS or revenue estimates for ODD"),
    ],
    ids=["history missing", "trend missing"],
)
def test_a_missing_module_keeps_the_other(
    fake: FakeYahoo, clock: VirtualClock, drop: tuple[str, ...], estimates: bool, surprises: bool, said: str
) -> None:
    fake.without_modules("ODD", *drop)
    batch = fetch(["ODD"], clock)
    result = batch.result("ODD")
    assert result.status == "ok"
    assert (not batch.estimates.empty, not batch.surprises.empty) == (estimates, surprises)
    assert any(w.startswith(said) for w in result.warnings), result.warnings


@pytest.mark.parametrize("trend", [[], None, "nonsense"], ids=["empty list", "null", "a string"])
def test_an_empty_or_broken_trend_is_no_estimates(fake: FakeYahoo, clock: VirtualClock, trend: object) -> None:
    data = fake.serve_as("ODD", "AAPL")
    data.modules["earningsTrend"]["trend"] = trend
    data.modules["earningsHistory"]["history"] = []
    batch = fetch(["ODD"], clock)
    result = batch.result("ODD")
    assert result.status == "ok" and batch.estimates.empty and batch.eps_trend.empty and batch.surprises.empty
    assert "no estimates: Yahoo sent no EPS or revenue estimates for ODD and no earnings history" in result.warnings


# ---------------------------------------------------------------------------------------------
# Periods without analysts, currencies, odd values


def test_a_period_no_eps_analyst_covers_is_unknown_not_zero(fake: FakeYahoo, clock: VirtualClock) -> None:
    # CRON's recording: 0q, +1q and +1y have numberOfAnalysts 0 for EPS, with avg/low/high 0 and no currency,
    # but revenue analysts; 0y has one EPS analyst (-0.307).
    periods = {p["period"]: p for p in module("CRON", "earningsTrend")["trend"]}
    assert periods["0q"]["earningsEstimate"]["numberOfAnalysts"]["raw"] == 0
    assert periods["0q"]["earningsEstimate"]["avg"]["raw"] == 0
    batch = fetch(["CRON"], clock)
    estimates = rows_of(batch.estimates, "CRON")
    for period in ("0q", "+1q", "+1y"):
        got = estimates[period]
        assert all(pd.isna(got[c]) for c in EPS), period  # unknown, never Yahoo's 0
        revenue = periods[period]["revenueEstimate"]
        assert got["revenue_mean"] == pytest.approx(revenue["avg"]["raw"])
        assert got["revenue_analysts"] == revenue["numberOfAnalysts"]["raw"]
        assert got["currency"] == revenue["revenueCurrency"] == "CAD"
    assert estimates["0y"]["eps_mean"] == pytest.approx(periods["0y"]["earningsEstimate"]["avg"]["raw"])
    # The EPS trend and revisions of the uncovered periods are Yahoo's zeros too: no rows for them.
    assert set(batch.eps_trend["period"]) == set(batch.eps_revisions["period"]) == {"0y"}
    assert rows_of(batch.eps_trend, "CRON")["0y"]["eps_30d_ago"] == pytest.approx(
        periods["0y"]["epsTrend"]["30daysAgo"]["raw"]
    )
    assert_analysis_schemas(batch)


def test_a_period_without_any_analyst_is_dropped(fake: FakeYahoo, clock: VirtualClock) -> None:
    data = fake.serve_as("ODD", "AAPL")
    period = data.modules["earningsTrend"]["trend"][3]  # +1y
    for block in ("earningsEstimate", "revenueEstimate"):
        for value in period[block].values():
            if isinstance(value, dict) and "raw" in value:
                value["raw"] = 0
    batch = fetch(["ODD"], clock)
    assert list(rows_of(batch.estimates, "ODD")) == ["0q", "+1q", "0y"]
    assert "+1y" not in set(batch.eps_trend["period"]) | set(batch.eps_revisions["period"])


def test_estimates_in_another_currency_than_the_quote_keep_their_own(fake: FakeYahoo, clock: VirtualClock) -> None:
    # BEKE, recorded: quoted in USD on the NYSE, its estimates and earnings history in CNY.
    fake.quote_from_price("BEKE")  # its v7 quote was not recorded: made of its recorded price module
    assert module("BEKE", "price")["currency"] == "USD"
    assert module("BEKE", "earningsTrend")["trend"][0]["earningsEstimate"]["earningsCurrency"] == "CNY"
    batch = fetch(["BEKE"], clock)
    result = batch.result("BEKE")
    assert batch.snapshots.loc[batch.snapshots["ticker"] == "BEKE", "currency"].tolist() == ["USD"]
    for frame in (batch.estimates, batch.eps_trend, batch.eps_revisions, batch.surprises):
        assert set(frame["currency"]) == {"CNY"}  # never relabelled as the quote currency
    first = module("BEKE", "earningsTrend")["trend"][0]
    assert rows_of(batch.estimates, "BEKE")["0q"]["eps_mean"] == pytest.approx(first["earningsEstimate"]["avg"]["raw"])
    (note,) = [w for w in result.warnings if "estimates are in" in w]
    assert "CNY" in note and "USD" in note and "nothing is converted" in note


def test_eps_and_revenue_in_two_currencies_keep_the_eps_and_say_so(fake: FakeYahoo, clock: VirtualClock) -> None:
    data = fake.serve_as("ODD", "AAPL")
    data.modules["earningsTrend"]["trend"][0]["revenueEstimate"]["revenueCurrency"] = "EUR"
    batch = fetch(["ODD"], clock)
    first = rows_of(batch.estimates, "ODD")["0q"]
    assert first["currency"] == "USD" and first["eps_mean"] == pytest.approx(1.60796)
    assert all(pd.isna(first[c]) for c in REVENUE)  # one row, one currency: the revenue is left out
    assert any("revenue figures left out" in w for w in batch.result("ODD").warnings)


def test_a_lowest_estimate_above_the_highest_drops_both(fake: FakeYahoo, clock: VirtualClock) -> None:
    data = fake.serve_as("ODD", "AAPL")
    data.modules["earningsTrend"]["trend"][0]["earningsEstimate"].update(low={"raw": 2.0}, high={"raw": 1.0})
    batch = fetch(["ODD"], clock)
    first = rows_of(batch.estimates, "ODD")["0q"]
    assert pd.isna(first["eps_low"]) and pd.isna(first["eps_high"]) and first["eps_mean"] == pytest.approx(1.60796)
    assert any(
        "lowest EPS estimate for ODD 0q (2) is above its highest (1): both left out" in w
        for w in batch.result("ODD").warnings
    )


def test_plain_values_read_as_the_wrapped_ones(fake: FakeYahoo, clock: VirtualClock) -> None:
    # Should Yahoo ever honour formatted=false here: {"raw": 1.6, "fmt": "1.6"} becomes 1.6.
    data = fake.serve_as("PLAIN", "AAPL")

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return value["raw"] if "raw" in value else {k: plain(v) for k, v in value.items()}
        return [plain(v) for v in value] if isinstance(value, list) else value

    for name in ANALYSIS:
        data.modules[name] = plain(data.modules[name])
    batch = fetch(["PLAIN", "AAPL"], clock)
    for frame, key in ((batch.estimates, "period"), (batch.eps_trend, "period"), (batch.surprises, "quarter")):
        ours, theirs = rows_of(frame, "PLAIN", key), rows_of(frame, "AAPL", key)
        assert list(ours) == list(theirs)
        for k in ours:
            for column, value in theirs[k].items():
                if column not in ("ticker", "observed_at"):
                    assert (pd.isna(value) and pd.isna(ours[k][column])) or ours[k][column] == value, (k, column)


@pytest.mark.parametrize(
    ("path", "value", "column"),
    [
        (("earningsEstimate", "avg"), {"raw": math.inf}, "eps_mean"),
        (("earningsEstimate", "high"), {"raw": 1e12}, "eps_high"),
        (("revenueEstimate", "avg"), {"raw": -5e9}, "revenue_mean"),
        (("earningsEstimate", "growth"), {"raw": "fast"}, "eps_growth"),
        (("earningsEstimate", "numberOfAnalysts"), {"raw": 2.5}, "eps_analysts"),
    ],
    ids=["infinite EPS", "EPS of a trillion", "negative revenue", "growth as text", "fractional analysts"],
)
def test_an_impossible_figure_is_unknown(
    fake: FakeYahoo, clock: VirtualClock, path: tuple[str, str], value: Any, column: str
) -> None:
    data = fake.serve_as("ODD", "AAPL")
    data.modules["earningsTrend"]["trend"][0][path[0]][path[1]] = value
    batch = fetch(["ODD"], clock)
    assert batch.result("ODD").status == "ok"
    first = rows_of(batch.estimates, "ODD")["0q"]
    if column == "eps_analysts":  # without a count of analysts Yahoo's zeros cannot be told from data
        assert all(pd.isna(first[c]) for c in EPS)
    else:
        assert pd.isna(first[column])
    assert_analysis_schemas(batch)


def test_a_quarter_in_milliseconds_is_dropped_not_dated_in_the_year_56000(fake: FakeYahoo, clock: VirtualClock) -> None:
    data = fake.serve_as("ODD", "AAPL")
    data.modules["earningsHistory"]["history"][0]["quarter"]["raw"] *= 1000
    batch = fetch(["ODD"], clock)
    assert list(rows_of(batch.surprises, "ODD", key="quarter")) == list(AAPL_SURPRISES)[1:]


# ---------------------------------------------------------------------------------------------
# The same retries, budget and cache as every other part


def test_a_flaky_analysis_request_is_retried(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.fail("AAPL", status=503, times=2, module="earningsTrend")
    batch = fetch(["AAPL"], clock)
    result = batch.result("AAPL")
    assert result.status == "ok" and result.attempts == 2  # yfinance asks twice per attempt, then the loader retries
    assert len(rows_of(batch.estimates, "AAPL")) == 4 and result.warnings == ()


def test_an_analysis_request_that_keeps_failing_is_a_warning(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.fail("AAPL", status=503, module="earningsTrend")
    batch = fetch(["AAPL", "GOOG"], clock, max_attempts=2)
    result = batch.result("AAPL")
    assert result.status == "ok" and result.attempts == 2
    assert any(w.startswith("estimates: Yahoo server error (HTTP 503") for w in result.warnings)
    assert not any(w.startswith("no estimates") for w in result.warnings)  # a failure, not an absence
    assert set(batch.estimates["ticker"]) == {"GOOG"} and not batch.snapshots[batch.snapshots["ticker"] == "AAPL"].empty


def test_a_malformed_analysis_body_is_a_warning_without_retry(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.fail("AAPL", "malformed", module="earningsTrend")
    batch = fetch(["AAPL"], clock)
    result = batch.result("AAPL")
    assert result.status == "ok" and result.attempts == 1
    assert any(w.startswith("estimates: malformed response from Yahoo") for w in result.warnings)
    assert batch.estimates.empty


def test_the_result_cache_carries_the_estimates(fake: FakeYahoo, clock: VirtualClock) -> None:
    first = fetch(["AAPL", "CRON"], clock)
    fake.reset_log()
    second = fetch(["AAPL", "CRON"], clock)
    assert all(r.from_cache for r in second.results) and fake.log == []
    for name in ("estimates", "eps_trend", "eps_revisions", "surprises"):
        pd.testing.assert_frame_equal(getattr(second, name), getattr(first, name))


def test_a_cache_entry_of_the_previous_format_is_fetched_again(
    fake: FakeYahoo, clock: VirtualClock, cache_dir: Any
) -> None:
    fetch(["AAPL"], clock)
    entry_path = cache_dir / "live" / "AAPL.json"
    entry = json.loads(entry_path.read_text())
    entry["format"] = 1  # what the loader wrote before the analysis tab joined the entry
    for name in ("estimates", "eps_trend", "eps_revisions", "surprises"):
        entry["frames"].pop(name)
    entry_path.write_text(json.dumps(entry))
    fake.reset_log()
    again = fetch(["AAPL"], clock)
    assert not again.result("AAPL").from_cache and len(analysis_requests(fake, "AAPL")) == 1
    assert len(again.estimates) == 4
