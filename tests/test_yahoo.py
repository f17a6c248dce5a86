"""The live Yahoo loader (ratings/yahoo/), offline, through yfinance's own parsing.

Every request goes to ``tests/fake_yahoo.py``, which answers from the recorded responses in
``tests/payloads/yahoo/``. Expected values are read from those files (``recordings.py``), never
copied from the loader's output. Backoff and budget run on an injected clock, so nothing waits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import curl_cffi
import pandas as pd
import platformdirs
import pytest
import yfinance as yf
from curl_cffi import requests as curl_requests
from fake_yahoo import FakeYahoo, NetworkBlocked
from helpers import VirtualClock
from recordings import TARGET_KEYS, TREND_KEYS, current_counts, module, payload

from ratings import paths, yahoo
from ratings.schema import COUNT_COLUMNS, NAMES, PRICES, SNAPSHOTS, TREND, UPGRADES, validate
from ratings.yahoo import LiveBatch, LiveConfig, LiveResult, parse

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")  # inside yfinance 1.7

LABELS = {"strong_buy": "Strong Buy", "buy": "Buy", "hold": "Hold", "underperform": "Sell", "sell": "Strong Sell"}


# ---------------------------------------------------------------------------------------------
# Helpers (the expected values are read from the recorded responses: recordings.py)


def config(**overrides: Any) -> LiveConfig:
    settings: dict[str, Any] = {
        "requests_per_second": None,
        "max_attempts": 4,
        "backoff_base_s": 1.0,
        "backoff_cap_s": 8.0,
        "budget_s": 120.0,
    }
    return LiveConfig(**(settings | overrides))


def fetch(tickers: list[str], clock: VirtualClock, **overrides: Any) -> LiveBatch:
    refresh = overrides.pop("refresh", False)
    return yahoo.fetch(tickers, config=config(**overrides), refresh=refresh, clock=clock.monotonic, sleep=clock.sleep)


def row(frame: pd.DataFrame, ticker: str) -> pd.Series:
    (index,) = frame.index[frame["ticker"] == ticker]
    return frame.loc[index]


def assert_schemas(batch: LiveBatch) -> None:
    for frame, schema in (
        (batch.snapshots, SNAPSHOTS),
        (batch.trend, TREND),
        (batch.upgrades, UPGRADES),
        (batch.prices, PRICES),
        (batch.names, NAMES),
    ):
        validate(frame, schema)
        for column in frame.select_dtypes("float64"):
            assert not frame[column].isin([float("inf"), float("-inf"), 0.0]).any(), column


# ---------------------------------------------------------------------------------------------
# ratings/paths.py


@pytest.mark.parametrize("override", ["", "   "])
def test_cache_dir_defaults_to_the_user_cache_directory(override: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.CACHE_DIR_ENV, override)
    assert paths.cache_dir() == Path(platformdirs.user_cache_dir("analyst-ratings"))


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.CACHE_DIR_ENV, str(tmp_path / "c"))
    assert paths.cache_dir() == tmp_path / "c"


def test_store_path_default_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.STORE_ENV, raising=False)
    assert paths.default_store_path() == Path(platformdirs.user_data_dir("analyst-ratings")) / "ratings.sqlite"
    monkeypatch.setenv(paths.STORE_ENV, str(tmp_path / "s.sqlite"))
    assert paths.default_store_path() == tmp_path / "s.sqlite"


# ---------------------------------------------------------------------------------------------
# Covered tickers: the recorded responses come back as rows


@pytest.mark.parametrize("symbol", ["AAPL", "AMZN", "GOOG"])
def test_a_covered_ticker_matches_its_recorded_responses(fake: FakeYahoo, clock: VirtualClock, symbol: str) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    batch = fetch([symbol], clock)
    after = datetime.now(UTC)
    result = batch.result(symbol)
    assert result.status == "ok" and result.reason == "" and result.attempts == 1 and not result.from_cache

    snapshot = row(batch.snapshots, symbol)
    financial = module(symbol, "financialData")
    for column, key in TARGET_KEYS.items():
        assert snapshot[column] == pytest.approx(financial[key])
    assert snapshot["price"] == pytest.approx(financial["currentPrice"])
    assert snapshot["n_analysts"] == financial["numberOfAnalystOpinions"]
    assert snapshot["rating_mean"] == pytest.approx(financial["recommendationMean"])
    assert snapshot["source_label"] == LABELS[financial["recommendationKey"]]
    assert {c: snapshot[c] for c in COUNT_COLUMNS} == current_counts(symbol)
    assert (snapshot["source"], snapshot["source_id"]) == ("Yahoo Finance", "yfinance")

    observed = datetime.strptime(snapshot["observed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= observed <= after
    assert snapshot["as_of"] == snapshot["price_as_of"] == observed.date().isoformat()
    assert result.observed_at == snapshot["observed_at"]

    # The whole trend, month by month relative to the fetch.
    trend = batch.trend[batch.trend["ticker"] == symbol].set_index("period")
    recorded = {r["period"]: r for r in module(symbol, "recommendationTrend")["trend"]}
    assert set(trend.index) == set(recorded)
    for period, values in recorded.items():
        assert {c: trend.loc[period, c] for c in COUNT_COLUMNS} == {c: values[k] for c, k in TREND_KEYS.items()}
        months_back = -int(period.removesuffix("m"))
        expected_month = pd.Period(observed.strftime("%Y-%m"), freq="M") - months_back
        assert trend.loc[period, "month"] == expected_month.strftime("%Y-%m")

    # Every upgrade/downgrade row, with its firm, action and grades.
    history = module(symbol, "upgradeDowngradeHistory")["history"]
    upgrades = batch.upgrades[batch.upgrades["ticker"] == symbol]
    # One row per (date, firm, action); a row without a firm or action records nothing: dropped.
    kept = [h for h in history if h["firm"].strip() and h["action"].strip()]
    assert len(upgrades) == len({(h["epochGradeDate"], h["firm"], h["action"]) for h in kept})
    first = history[0]
    newest = upgrades.iloc[0]
    graded = datetime.fromtimestamp(first["epochGradeDate"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (newest["graded_at"], newest["firm"], newest["action"]) == (graded, first["firm"], first["action"])
    assert (newest["from_grade"], newest["to_grade"]) == (first["fromGrade"] or pd.NA, first["toGrade"])
    blank = [h for h in kept if h["fromGrade"] == ""]
    assert upgrades["from_grade"].isna().sum() == len(blank)  # "" is "no previous grade"
    assert_schemas(batch)


def test_aapl_currency_name_and_prices_come_from_its_quote_and_chart(fake: FakeYahoo, clock: VirtualClock) -> None:
    batch = fetch(["AAPL"], clock)
    quote = payload("2025-quote-AAPL.json")["quoteResponse"]["result"][0]
    chart = payload("2025-chart-AAPL.json")["chart"]["result"][0]
    assert row(batch.snapshots, "AAPL")["currency"] == quote["currency"]
    assert row(batch.names, "AAPL")[["name", "currency"]].tolist() == [quote["longName"], quote["currency"]]
    tz = chart["meta"]["exchangeTimezoneName"]
    local = [pd.Timestamp(t, unit="s", tz="UTC").tz_convert(tz) for t in chart["timestamp"]]
    days = [t.tz_localize(None).normalize() for t in local]
    prices = batch.prices[batch.prices["ticker"] == "AAPL"]
    assert prices["date"].tolist() == days
    assert prices["close"].tolist() == pytest.approx(chart["indicators"]["quote"][0]["close"])
    assert set(prices["currency"]) == {chart["meta"]["currency"]}
    assert batch.result("AAPL").warnings == ()
    assert fake.unexpected() == []


@pytest.mark.parametrize("symbol", ["AMZN", "GOOG"])
def test_unrecorded_endpoints_are_warnings_not_failures(fake: FakeYahoo, clock: VirtualClock, symbol: str) -> None:
    # AMZN and GOOG have no recorded v7 quote or chart: the fake answers those with HTTP 404.
    result = fetch([symbol], clock).result(symbol)
    assert result.status == "ok"
    warnings = " | ".join(result.warnings)
    assert "quote (name, currency): HTTP 404" in warnings
    assert "price history: HTTP 404" in warnings
    assert "quote currency unknown" in warnings


def test_currency_unknown_stays_missing_rather_than_financial_currency(fake: FakeYahoo, clock: VirtualClock) -> None:
    batch = fetch(["AMZN"], clock)
    assert module("AMZN", "financialData")["financialCurrency"] == "USD"  # what must NOT be used as the quote unit
    assert pd.isna(row(batch.snapshots, "AMZN")["currency"])
    assert pd.isna(row(batch.names, "AMZN")["currency"])


# ---------------------------------------------------------------------------------------------
# The ways real payloads vary


def test_no_fundamentals_is_no_coverage(
    fake: FakeYahoo, clock: VirtualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.no_fundamentals("SPY")
    batch = fetch(["SPY"], clock)
    result = batch.result("SPY")
    assert result.status == "no_coverage"
    assert result.reason == "no analyst coverage (Yahoo: No fundamentals data found for symbol: SPY)"
    assert batch.snapshots.empty and batch.trend.empty and batch.upgrades.empty
    # Once Yahoo said "no fundamentals", the trend and upgrades are not asked for.
    assert fake.count("quoteSummary", symbol="SPY", module="recommendationTrend") == 0
    assert fake.count("quoteSummary", symbol="SPY", module="upgradeDowngradeHistory") == 0
    assert "HTTP Error 404" not in capsys.readouterr().err  # yfinance's log of it stays quiet


def test_no_coverage_keeps_the_price_history(fake: FakeYahoo, clock: VirtualClock) -> None:
    # MSFT's recording is a chart only: quoteSummary answers "No fundamentals data found".
    batch = fetch(["MSFT"], clock)
    chart = payload("2024-chart-MSFT-1d-20bars.json")["chart"]["result"][0]
    assert batch.result("MSFT").status == "no_coverage"
    assert batch.snapshots.empty
    prices = batch.prices[batch.prices["ticker"] == "MSFT"]
    assert prices["close"].tolist() == pytest.approx(chart["indicators"]["quote"][0]["close"])
    assert row(batch.names, "MSFT")["name"] == chart["meta"]["longName"]


def test_an_answer_without_targets_rating_or_trend_is_no_coverage(fake: FakeYahoo, clock: VirtualClock) -> None:
    data = fake.serve_as("NOCOV", "AAPL")
    financial = data.modules["financialData"]
    for key in (*TARGET_KEYS.values(), "recommendationMean", "recommendationKey", "numberOfAnalystOpinions"):
        financial.pop(key)
    data.modules["recommendationTrend"]["trend"] = []
    result = fetch(["NOCOV"], clock).result("NOCOV")
    assert result.status == "no_coverage"
    assert "sent no price target, rating or trend" in result.reason


@pytest.mark.parametrize("zeroed", [True, False], ids=["all-zero month", "empty trend"])
def test_an_empty_trend_leaves_counts_unknown(fake: FakeYahoo, clock: VirtualClock, zeroed: bool) -> None:
    if zeroed:  # Yahoo's other way of saying "no ratings": a month of zeros
        data = fake.serve_as("EMPTY", "AAPL")
        for period in data.modules["recommendationTrend"]["trend"]:
            period.update({k: 0 for k in TREND_KEYS.values()})
    else:
        fake.empty_trend("EMPTY")
    batch = fetch(["EMPTY"], clock)
    result = batch.result("EMPTY")
    assert result.status == "ok"
    assert any("no recommendation trend" in w for w in result.warnings)
    snapshot = row(batch.snapshots, "EMPTY")
    assert all(pd.isna(snapshot[c]) for c in COUNT_COLUMNS)  # unknown, never 0
    financial = module("AAPL", "financialData")
    assert snapshot["target_mean"] == pytest.approx(financial["targetMeanPrice"])
    assert batch.trend.empty


def test_a_pence_quoted_ticker_keeps_one_unit(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.pence_quoted("PENCE.L")
    batch = fetch(["PENCE.L"], clock)
    assert batch.result("PENCE.L").status == "ok"
    snapshot = row(batch.snapshots, "PENCE.L")
    financial = module("AAPL", "financialData")  # the derived LSE payloads carry AAPL's numbers, as pence
    assert snapshot["currency"] == "GBp"
    assert snapshot["price"] == pytest.approx(financial["currentPrice"])  # not divided by 100
    for column, key in TARGET_KEYS.items():
        assert snapshot[column] == pytest.approx(financial[key])
    assert row(batch.names, "PENCE.L")["currency"] == "GBp"
    assert set(batch.prices.loc[batch.prices["ticker"] == "PENCE.L", "currency"]) == {"GBp"}
    assert "GBP" not in set(batch.snapshots["currency"]) | set(batch.prices["currency"])


# Broken answers Yahoo could send: test input derived in code from AAPL's recorded responses.


def _financial(data: Any) -> dict[str, Any]:
    return data.modules["financialData"]


@pytest.mark.parametrize(
    ("spoil", "column"),
    [
        (lambda d: _financial(d).update(targetHighPrice=1e28), "target_high"),
        (lambda d: _financial(d).update(targetMeanPrice=1e300), "target_mean"),
        (lambda d: _financial(d).update(currentPrice=2e9), "price"),  # then the quote's regularMarketPrice
        (lambda d: _financial(d).update(numberOfAnalystOpinions=1e19), "n_analysts"),
        (lambda d: d.modules["recommendationTrend"]["trend"][0].update(strongBuy=2**63), "strong_buy"),
    ],
    ids=["huge high target", "huge mean target", "huge price", "huge analyst count", "huge trend count"],
)
def test_an_impossible_number_is_unknown_and_sinks_nothing(
    fake: FakeYahoo, clock: VirtualClock, spoil: Callable[[Any], None], column: str
) -> None:
    spoil(fake.serve_as("ODD", "AAPL"))
    batch = fetch(["AAPL", "ODD", "GOOG"], clock)
    assert [r.status for r in batch.results] == ["ok", "ok", "ok"]  # the batch and ODD itself survive
    odd, aapl = row(batch.snapshots, "ODD"), row(batch.snapshots, "AAPL")
    for name in ("price", "target_mean", "target_high", "n_analysts", "strong_buy"):
        if name == "price" == column:
            assert 0 < odd["price"] < 1e6 and odd["price"] != aapl["price"]  # the market price instead
        elif name == column:
            assert pd.isna(odd[name]), name  # unknown, never the impossible number
        else:
            assert (pd.isna(odd[name]) and pd.isna(aapl[name])) or odd[name] == aapl[name], name
    assert table_text_of(batch, "ODD")  # and it can be shown


def table_text_of(batch: LiveBatch, ticker: str) -> str:
    """The ticker's snapshot as the CLI's table writes it: formatting must not fail on what was stored."""
    from ratings.cli import fixed_width, terminal_frame
    from ratings.core import consensus_table

    return fixed_width(terminal_frame(consensus_table(batch.snapshots, batch.prices, tickers=[ticker])))


def test_a_ticker_whose_frames_would_not_convert_fails_alone_and_is_not_cached(
    fake: FakeYahoo, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The net under the checks above: an answer they did not foresee (here: an int64 overflow).
    fake.serve_as("ODD", "AAPL")
    count, analysts = parse._count, module("AAPL", "financialData")["numberOfAnalystOpinions"]
    monkeypatch.setattr(parse, "_count", lambda value: 2**63 if value == analysts else count(value))
    batch = fetch(["ODD", "GOOG"], clock)
    odd = batch.result("ODD")
    assert (odd.status, batch.result("GOOG").status) == ("failed", "ok")
    assert odd.reason.startswith("malformed response from Yahoo: snapshots: ")
    monkeypatch.setattr(parse, "_count", count)
    again = fetch(["ODD"], clock)  # not served from the cache: asked again, and fine now
    assert again.result("ODD").status == "ok" and not again.result("ODD").from_cache


def test_a_lowest_target_above_the_highest_is_left_out_and_said(fake: FakeYahoo, clock: VirtualClock) -> None:
    _financial(fake.serve_as("ODD", "AAPL")).update(targetLowPrice=325.0, targetHighPrice=197.0)
    result = fetch(["ODD"], clock)
    odd = row(result.snapshots, "ODD")
    assert pd.isna(odd["target_low"]) and pd.isna(odd["target_high"])
    assert odd["target_mean"] == pytest.approx(module("AAPL", "financialData")["targetMeanPrice"])
    assert any("lowest target (325) is above its highest (197)" in w for w in result.result("ODD").warnings)


@pytest.mark.parametrize("epoch", ["ms", "zero", "future"])
def test_an_upgrade_with_an_impossible_date_is_dropped_not_stored_as_a_date(
    fake: FakeYahoo, clock: VirtualClock, epoch: str
) -> None:
    data = fake.serve_as("ODD", "AAPL")
    history = data.modules["upgradeDowngradeHistory"]["history"]
    first = history[0]["epochGradeDate"]
    history[0]["epochGradeDate"] = {"ms": first * 1000, "zero": 0, "future": first + 50 * 365 * 86400}[epoch]
    batch = fetch(["ODD", "AAPL"], clock)
    assert [r.status for r in batch.results] == ["ok", "ok"]
    odd = batch.upgrades[batch.upgrades["ticker"] == "ODD"]
    assert len(odd) == len(batch.upgrades[batch.upgrades["ticker"] == "AAPL"]) - 1  # that one row only
    years = odd["graded_at"].str.slice(0, 4).astype(int)
    assert years.between(1990, 2026).all()


def test_gbp_against_gbp_pence_leaves_the_currency_unknown(fake: FakeYahoo, clock: VirtualClock) -> None:
    data = fake.pence_quoted("ODD.L")
    assert data.quote is not None
    data.quote["currency"] = "GBP"  # the quote says pounds, the chart and summary pence: same numbers
    result = fetch(["ODD.L"], clock)
    snapshot = row(result.snapshots, "ODD.L")
    assert pd.isna(snapshot["currency"])  # never labelled £ on numbers that may be pence
    assert result.prices.loc[result.prices["ticker"] == "ODD.L", "currency"].isna().all()
    assert any("pounds or pence" in w for w in result.result("ODD.L").warnings)


def test_upgrade_price_targets_zero_means_none(fake: FakeYahoo, clock: VirtualClock) -> None:
    data = fake.with_price_targets("PT")
    batch = fetch(["PT"], clock)
    upgrades = batch.upgrades[batch.upgrades["ticker"] == "PT"].reset_index(drop=True)
    for position, source in enumerate(data.modules["upgradeDowngradeHistory"]["history"][:5]):
        got = upgrades.loc[position]
        assert got["firm"] == source["firm"]
        pairs = (("prior_price_target", "priorPriceTarget"), ("current_price_target", "currentPriceTarget"))
        for ours, theirs in pairs:
            if source[theirs] == 0:
                assert pd.isna(got[ours]), (position, ours)
            else:
                assert got[ours] == pytest.approx(source[theirs])
        if source["priceTargetAction"]:
            assert got["price_target_action"] == source["priceTargetAction"]
        else:
            assert pd.isna(got["price_target_action"])
    # Rows without the 2025 fields have no targets at all.
    assert upgrades.loc[5:, ["prior_price_target", "current_price_target"]].isna().all().all()
    assert_schemas(batch)


# ---------------------------------------------------------------------------------------------
# Failures: retried, classified, kept as data


def backoff_ceiling(attempt: int, cfg: LiveConfig) -> float:
    return min(cfg.backoff_cap_s, cfg.backoff_base_s * 2 ** (attempt - 1))


@pytest.mark.parametrize("failures", [1, 2, 4, 6])
def test_429_then_success(fake: FakeYahoo, clock: VirtualClock, failures: int) -> None:
    fake.serve_as("RL", "AAPL")
    fake.fail("RL", "status", status=429, times=failures)
    batch = fetch(["RL"], clock)
    result = batch.result("RL")
    # yfinance itself asks once more after an HTTP error, so each attempt absorbs two 429s.
    expected_attempts = failures // 2 + 1
    assert (result.status, result.attempts) == ("ok", expected_attempts)
    assert fake.count(symbol="RL", status=429) == failures
    assert len(clock.sleeps) == expected_attempts - 1  # one backoff between attempts
    cfg = config()
    for attempt, slept in enumerate(clock.sleeps, start=1):
        assert backoff_ceiling(attempt, cfg) / 2 <= slept <= backoff_ceiling(attempt, cfg)
    expected_mean = module("AAPL", "financialData")["targetMeanPrice"]
    assert row(batch.snapshots, "RL")["target_mean"] == pytest.approx(expected_mean)


@pytest.mark.parametrize("attempts", [1, 2, 4])
def test_429_forever_fails_that_ticker_only(fake: FakeYahoo, clock: VirtualClock, attempts: int) -> None:
    fake.serve_as("RL", "AAPL")
    fake.fail("RL", "status", status=429)
    batch = fetch(["AAPL", "RL", "GOOG"], clock, max_attempts=attempts)
    result = batch.result("RL")
    assert result.status == "failed" and result.attempts == attempts
    suffix = f" after {attempts} attempts" if attempts > 1 else ""
    assert result.reason == "rate limited by Yahoo (HTTP 429)" + suffix
    assert len(clock.sleeps) == attempts - 1
    assert fake.count(symbol="RL", status=429) == 2 * attempts
    assert [r.status for r in batch.results] == ["ok", "failed", "ok"]
    assert set(batch.snapshots["ticker"]) == {"AAPL", "GOOG"}


@pytest.mark.parametrize(("times", "status"), [(1, "ok"), (3, "ok"), (None, "failed")])
def test_network_errors_are_retried(fake: FakeYahoo, clock: VirtualClock, times: int | None, status: str) -> None:
    fake.serve_as("NET", "AAPL")
    fake.fail("NET", "network", times=times)
    result = fetch(["NET"], clock).result("NET")
    assert result.status == status
    if times is None:
        assert result.attempts == 4
        # curl's message in plain words, without its pointer to the libcurl docs.
        assert result.reason == "network error: Recv failure: Connection reset by peer (curl error 56) after 4 attempts"
    else:
        assert result.attempts == times + 1  # a network error is not retried by yfinance itself


@pytest.mark.parametrize("workers", [1, 2])
def test_with_yahoo_unreachable_the_tickers_not_yet_started_fail_at_once(
    fake: FakeYahoo, clock: VirtualClock, workers: int
) -> None:
    fake.offline = True
    tickers = ["AAPL", "AMZN", "GOOG", "MSFT", "F", "TSLA"]
    batch = fetch(tickers, clock, max_workers=workers)
    assert [r.status for r in batch.results] == ["failed"] * len(tickers)
    tried = [r for r in batch.results if r.attempts > 0]
    skipped = [r for r in batch.results if r.attempts == 0]
    # The first ticker(s) in flight spend their attempts; the breaker trips; the rest are not tried.
    assert 1 <= len(tried) <= workers and len(skipped) == len(tickers) - len(tried)
    # The ticker that trips the breaker spent all its attempts; another in flight then stops at its next
    # one (which of the two trips it first is the threads' race).
    first = max(tried, key=lambda r: r.attempts)
    assert first.attempts == 4
    assert first.reason == (
        "network error: Could not resolve host: query2.finance.yahoo.com (curl error 6) after 4 attempts"
    )
    assert all(r.reason.startswith("network error: Could not resolve host") for r in tried)
    for result in skipped:
        assert result.reason == "not tried: Yahoo was unreachable for the tickers before it"
        assert fake.count(symbol=result.ticker) == 0
    assert len(clock.sleeps) <= 3 * workers  # one ticker's backoff per worker, not one per ticker
    assert batch.snapshots.empty


def test_ctrl_c_stops_the_workers_at_their_next_wait(fake: FakeYahoo) -> None:
    """Real waits (no injected sleep): an interrupt must not wait out the other tickers' backoffs."""
    for symbol in ("B", "C"):
        fake.serve_as(symbol, "AAPL")
        fake.fail(symbol, "network")  # forever: without a stop, 4 attempts and 3 backoffs of >= 2.5 s each

    def interrupt(done: int, total: int, result: LiveResult) -> None:
        raise KeyboardInterrupt

    settings = config(max_workers=2, backoff_base_s=5.0, backoff_cap_s=5.0)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        yahoo.fetch(["AAPL", "B", "C"], config=settings, on_progress=interrupt)
    # Shorter than the shortest backoff (half of 5 s): B gave up at its first wait, C never waited.
    assert time.monotonic() - started < settings.backoff_base_s / 2
    assert fake.count("quoteSummary", symbol="B") <= 1


def test_one_unreachable_ticker_does_not_stop_a_batch_that_yahoo_answers(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.serve_as("NET", "AAPL")
    fake.fail("NET", "network")  # forever: NET's connections are reset, but the host is up
    batch = fetch(["NET", "AAPL", "GOOG"], clock, max_workers=1)
    assert [(r.status, r.attempts) for r in batch.results] == [("failed", 4), ("ok", 1), ("ok", 1)]


@pytest.mark.parametrize(("times", "status"), [(2, "ok"), (None, "failed")])
def test_server_errors_are_retried(fake: FakeYahoo, clock: VirtualClock, times: int | None, status: str) -> None:
    # yfinance swallows an HTTP 503 on quoteSummary (an empty answer): the HTTP boundary sees it.
    fake.serve_as("SRV", "AAPL")
    fake.fail("SRV", "status", status=503, times=times)
    result = fetch(["SRV"], clock).result("SRV")
    assert result.status == status
    if times is None:
        assert result.reason == "Yahoo server error (HTTP 503, quote summary) after 4 attempts"


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
def test_a_broken_consensus_body_fails_without_retry(fake: FakeYahoo, clock: VirtualClock, kind: str) -> None:
    fake.serve_as("BAD", "AAPL")
    fake.fail("BAD", kind)  # type: ignore[arg-type]
    batch = fetch(["BAD", "AAPL"], clock)
    result = batch.result("BAD")
    assert result.status == "failed" and result.attempts == 1
    assert result.reason.startswith("malformed response from Yahoo (quote summary): JSONDecodeError")
    assert fake.count("quoteSummary", symbol="BAD") == 1  # the same bytes again would not help
    assert clock.sleeps == []
    assert batch.result("AAPL").status == "ok"


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
def test_a_broken_chart_is_a_warning(fake: FakeYahoo, clock: VirtualClock, kind: str) -> None:
    # yfinance swallows a chart it cannot parse (empty history); the boundary still names it.
    fake.serve_as("BADCHART", "AAPL")
    fake.fail("BADCHART", kind, endpoints={"chart"})  # type: ignore[arg-type]
    batch = fetch(["BADCHART"], clock)
    result = batch.result("BADCHART")
    assert result.status == "ok"
    assert any(w.startswith("price history: malformed response from Yahoo (price chart)") for w in result.warnings)
    assert batch.prices.empty
    assert row(batch.snapshots, "BADCHART")["n_analysts"] == module("AAPL", "financialData")["numberOfAnalystOpinions"]


def test_a_flaky_optional_part_is_retried_then_named(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.serve_as("FLAKY", "AAPL")
    fake.fail("FLAKY", "status", status=503, endpoints={"quote"})  # the v7 quote never recovers
    batch = fetch(["FLAKY"], clock, max_attempts=3)
    result = batch.result("FLAKY")
    assert (result.status, result.attempts) == ("ok", 3)
    assert any(w.startswith("quote (name, currency): Yahoo server error (HTTP 503") for w in result.warnings)
    # The consensus survived; the currency still came from the quote summary's summaryDetail.
    assert row(batch.snapshots, "FLAKY")["currency"] == module("AAPL", "summaryDetail")["currency"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("BAD SYM", "not a ticker symbol"),
        ("$AAPL", "not a ticker symbol"),
        ("ABCDEFGHIJKLMNOP", "not a ticker symbol"),
        ("US0378331005", "an ISIN"),
    ],
)
def test_malformed_symbols_fail_fast(fake: FakeYahoo, clock: VirtualClock, raw: str, reason: str) -> None:
    batch = fetch([raw, "AAPL"], clock)
    (bad,) = [r for r in batch.results if r.ticker != "AAPL"]
    assert bad.status == "failed" and bad.reason.startswith(reason) and bad.attempts == 0
    assert all(r.symbol in (None, "AAPL") for r in fake.log)


def test_a_mixed_batch_keeps_the_good_and_names_each_failure(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.no_fundamentals("SPY")
    fake.serve_as("RL2", "AAPL")
    fake.fail("RL2", "status", status=429, times=2)
    fake.serve_as("RL", "AAPL")
    fake.fail("RL", "status", status=429)
    fake.serve_as("NET", "AAPL")
    fake.fail("NET", "network")
    fake.serve_as("BAD", "AAPL")
    fake.fail("BAD", "malformed")
    fake.serve_as("CUT", "AAPL")
    fake.fail("CUT", "truncated")
    fake.empty_trend("EMPTY")
    fake.pence_quoted("PENCE.L")
    fake.with_price_targets("PT")
    tickers = ["AAPL", "SPY", "RL2", "RL", "NET", "BAD", "CUT", "EMPTY", "PENCE.L", "PT", "AMZN", "GOOG", "MSFT", "X Y"]
    progress: list[tuple[int, int, str, int]] = []
    batch = yahoo.fetch(
        tickers,
        config=config(max_workers=4),
        clock=clock.monotonic,
        sleep=clock.sleep,
        on_progress=lambda done, total, r: progress.append((done, total, r.ticker, threading.get_ident())),
    )
    by = {r.ticker: r for r in batch.results}
    assert [r.ticker for r in batch.results] == [t if t != "X Y" else "X Y" for t in tickers]
    expected = {
        "AAPL": ("ok", ""),
        "SPY": ("no_coverage", "no analyst coverage (Yahoo: No fundamentals data found"),
        "RL2": ("ok", ""),
        "RL": ("failed", "rate limited by Yahoo (HTTP 429) after 4 attempts"),
        "NET": ("failed", "network error: Recv failure: Connection reset by peer"),
        "BAD": ("failed", "malformed response from Yahoo"),
        "CUT": ("failed", "malformed response from Yahoo"),
        "EMPTY": ("ok", ""),
        "PENCE.L": ("ok", ""),
        "PT": ("ok", ""),
        "AMZN": ("ok", ""),
        "GOOG": ("ok", ""),
        "MSFT": ("no_coverage", "no analyst coverage"),
        "X Y": ("failed", "not a ticker symbol"),
    }
    for ticker, (status, reason) in expected.items():
        assert by[ticker].status == status, (ticker, by[ticker])
        assert by[ticker].reason.startswith(reason), (ticker, by[ticker].reason)
    ok = [t for t, (status, _) in expected.items() if status == "ok"]
    assert batch.snapshots["ticker"].tolist() == ok  # in the order asked for
    for ticker in ("AAPL", "RL2", "PENCE.L", "PT", "EMPTY"):
        financial = module("AAPL", "financialData")
        assert row(batch.snapshots, ticker)["target_high"] == pytest.approx(financial["targetHighPrice"])
    for ticker in ("AMZN", "GOOG"):
        assert {c: row(batch.snapshots, ticker)[c] for c in COUNT_COLUMNS} == current_counts(ticker)
    assert row(batch.snapshots, "PENCE.L")["currency"] == "GBp"
    assert batch.summary() == "7 fetched, 2 without analyst coverage, 5 failed"
    # Progress: once per ticker, counting up, always on the calling thread.
    assert [p[:2] for p in progress] == [(i, len(tickers)) for i in range(1, len(tickers) + 1)]
    assert sorted(p[2] for p in progress) == sorted(by)
    assert {p[3] for p in progress} == {threading.get_ident()}
    assert_schemas(batch)


# ---------------------------------------------------------------------------------------------
# Concurrency, rate limit, time budget


def test_concurrency_stays_within_max_workers(cache_dir: Path) -> None:
    with FakeYahoo(latency_s=0.01) as fake:
        symbols = [f"C{i:02d}" for i in range(10)]
        for symbol in symbols:
            fake.serve_as(symbol, "AAPL")
        batch = yahoo.fetch(symbols, config=config(max_workers=3))
    assert all(r.status == "ok" for r in batch.results)
    assert 2 <= fake.max_in_flight <= 3  # in parallel, but never more than asked


def test_rate_limit_spaces_requests(cache_dir: Path) -> None:
    rate = 40.0
    with FakeYahoo() as fake:
        fake.serve_as("R1", "AAPL")
        fake.serve_as("R2", "AAPL")
        batch = yahoo.fetch(["R1", "R2"], config=config(max_workers=2, requests_per_second=rate))
    assert all(r.ok for r in batch.results)
    starts = sorted(r.started for r in fake.log)
    assert len(starts) >= 10
    # Two workers, one limit: the requests of both together are spread at `rate` per second.
    # (Single gaps are not asserted: a thread may start late after its slot, never early.)
    assert starts[-1] - starts[0] >= (len(starts) - 1) / rate * 0.95


def test_rate_limit_uses_the_injected_clock(fake: FakeYahoo, clock: VirtualClock) -> None:
    fetch(["AAPL"], clock, requests_per_second=2.0)
    requests = len(fake.log)
    # Nothing else moves the virtual clock: it advanced exactly by the limiter's waits.
    assert clock.monotonic() == pytest.approx((requests - 1) / 2.0)
    assert all(s == pytest.approx(0.5) for s in clock.sleeps)


def test_time_budget_keeps_what_finished(cache_dir: Path, clock: VirtualClock) -> None:
    # Every request takes one virtual second; a ticker needs 7 (9 with the first crumb handshake).
    budget = 10.0
    with FakeYahoo(latency_s=1.0, sleep=clock.sleep) as fake:
        for symbol in ("B1", "B2", "B3"):
            fake.serve_as(symbol, "AAPL")
        batch = fetch(["B1", "B2", "B3"], clock, max_workers=1, budget_s=budget)
    first, second, third = batch.results
    assert first.status == "ok"
    assert (second.status, third.status) == ("failed", "failed")
    assert second.reason.startswith("time budget exhausted") and second.attempts == 1
    assert third.reason == "time budget exhausted" and third.attempts == 0
    assert batch.snapshots["ticker"].tolist() == ["B1"]
    assert batch.elapsed_s <= budget + 1.0  # at most one request outlives the budget
    assert not any(r.symbol == "B3" for r in fake.log)


def test_time_budget_cuts_backoff_short(fake: FakeYahoo, clock: VirtualClock) -> None:
    fake.serve_as("RL", "AAPL")
    fake.fail("RL", "status", status=429)
    result = fetch(["RL"], clock, budget_s=2.5, backoff_base_s=2.0, backoff_cap_s=2.0).result("RL")
    assert result.status == "failed"
    assert result.reason == "time budget exhausted (last error: rate limited by Yahoo (HTTP 429))"
    assert clock.monotonic() <= 2.5


def test_time_budget_in_real_time(cache_dir: Path) -> None:
    with FakeYahoo(latency_s=0.05) as fake:
        symbols = [f"T{i}" for i in range(10)]  # about 10 x 7 x 0.05 / 2 = 1.75 s of requests
        for symbol in symbols:
            fake.serve_as(symbol, "AAPL")
        started = time.monotonic()
        batch = yahoo.fetch(symbols, config=config(max_workers=2, budget_s=0.3))
        wall = time.monotonic() - started
    assert wall < 0.3 + 0.5  # the budget holds (plus one request per worker and some CPU)
    assert any(r.reason.startswith("time budget exhausted") for r in batch.results)


# ---------------------------------------------------------------------------------------------
# Caches


def test_a_second_load_is_served_from_the_cache(fake: FakeYahoo, clock: VirtualClock, cache_dir: Path) -> None:
    fake.no_fundamentals("SPY")
    first = fetch(["AAPL", "AMZN", "SPY"], clock)
    fake.reset_log()
    second = fetch(["AAPL", "AMZN", "SPY"], clock)
    assert fake.log == []  # not one HTTP request
    assert all(r.from_cache and r.attempts == 0 for r in second.results)
    assert [(r.status, r.reason, r.warnings, r.observed_at) for r in second.results] == [
        (r.status, r.reason, r.warnings, r.observed_at) for r in first.results
    ]
    for name in ("snapshots", "trend", "upgrades", "prices", "names"):
        pd.testing.assert_frame_equal(getattr(second, name), getattr(first, name))
    assert sorted(p.name for p in (cache_dir / "live").iterdir()) == ["AAPL.json", "AMZN.json", "SPY.json"]


def test_refresh_bypasses_the_cache(fake: FakeYahoo, clock: VirtualClock) -> None:
    fetch(["AAPL"], clock)
    fake.reset_log()
    batch = fetch(["AAPL"], clock, refresh=True)
    assert not batch.result("AAPL").from_cache
    assert fake.count("quoteSummary", symbol="AAPL") >= 3


def test_a_zero_ttl_turns_the_cache_off(fake: FakeYahoo, clock: VirtualClock, cache_dir: Path) -> None:
    fetch(["AAPL"], clock, cache_ttl_s=0)
    fake.reset_log()
    assert not fetch(["AAPL"], clock, cache_ttl_s=0).result("AAPL").from_cache
    assert fake.count("quoteSummary", symbol="AAPL") >= 3
    assert not (cache_dir / "live").exists()


def test_failures_are_not_cached(fake: FakeYahoo, clock: VirtualClock, cache_dir: Path) -> None:
    fake.serve_as("RL", "AAPL")
    fake.fail("RL", "status", status=429)
    assert fetch(["RL"], clock).result("RL").status == "failed"
    assert not (cache_dir / "live" / "RL.json").exists()
    fake.faults.clear()  # Yahoo lets us in again
    fake.reset_log()
    result = fetch(["RL"], clock).result("RL")
    assert result.status == "ok" and not result.from_cache
    assert fake.count("quoteSummary", symbol="RL") >= 3


def _stale(entry: dict[str, Any]) -> None:
    entry["fetched_at"] -= 3600


def _future(entry: dict[str, Any]) -> None:
    entry["fetched_at"] += 3600


@pytest.mark.parametrize(
    "spoil",
    [
        lambda text, entry: b"\x00\xffnot json",
        lambda text, entry: text[: len(text) // 2],
        lambda text, entry: b"[]",
        lambda text, entry: json.dumps(entry | {"ticker": "MSFT"}).encode(),
        lambda text, entry: json.dumps(entry | {"status": "failed"}).encode(),
        lambda text, entry: json.dumps(entry | {"format": 99}).encode(),
        lambda text, entry: json.dumps(entry | {"history_period": "5y"}).encode(),
        lambda text, entry: json.dumps(entry | {"fetched_at": entry["fetched_at"] - 3600}).encode(),
        lambda text, entry: json.dumps(entry | {"fetched_at": entry["fetched_at"] + 3600}).encode(),
        lambda text, entry: json.dumps(entry | {"fetched_at": "yesterday"}).encode(),
        lambda text, entry: json.dumps(entry | {"frames": {}}).encode(),
        lambda text, entry: json.dumps(entry | {"frames": entry["frames"] | {"prices": {"evil": [1]}}}).encode(),
        lambda text, entry: json.dumps(
            entry | {"frames": entry["frames"] | {"names": {"ticker": [1, 2], "name": [1]}}}
        ).encode(),
    ],
    ids=[
        "binary",
        "truncated",
        "not an object",
        "another ticker",
        "a failure",
        "another format",
        "another history period",
        "expired",
        "from the future",
        "bad timestamp",
        "no frames",
        "unknown column",
        "ragged columns",
    ],
)
def test_an_unusable_cache_file_is_ignored_and_replaced(
    fake: FakeYahoo, clock: VirtualClock, cache_dir: Path, spoil: Any
) -> None:
    first = fetch(["AAPL"], clock)
    path = cache_dir / "live" / "AAPL.json"
    text = path.read_bytes()
    path.write_bytes(spoil(text, json.loads(text)))
    fake.reset_log()
    again = fetch(["AAPL"], clock)
    result = again.result("AAPL")
    assert result.status == "ok" and not result.from_cache
    assert fake.count("quoteSummary", symbol="AAPL") >= 3
    pd.testing.assert_frame_equal(
        again.snapshots.drop(columns="observed_at"), first.snapshots.drop(columns="observed_at")
    )
    json.loads(path.read_bytes())  # rewritten, whole
    fake.reset_log()
    assert fetch(["AAPL"], clock).result("AAPL").from_cache and fake.log == []


def test_yfinance_caches_live_in_the_project_cache_dir(fake: FakeYahoo, clock: VirtualClock, tmp_path: Path) -> None:
    for name in ("one", "two"):
        folder = tmp_path / name
        fetch(["AAPL"], clock, cache_dir=folder)
        assert yahoo.yfinance_cache_dir() == folder / "yfinance"
        assert Path(yf.cache._TzDBManager.get_location()) == folder / "yfinance"
        assert (folder / "yfinance" / "tkr-tz.db").exists()  # yfinance stored AAPL's time zone there
        assert (folder / "live" / "AAPL.json").exists()


# ---------------------------------------------------------------------------------------------
# The fake itself: no network, ever


def test_the_fake_lets_nothing_through(fake: FakeYahoo) -> None:
    with pytest.raises(NetworkBlocked):
        curl_requests.get("https://example.com/")
    with pytest.raises(NetworkBlocked):
        curl_cffi.Curl().perform()


def test_the_fake_restores_curl_when_it_leaves() -> None:
    original = curl_requests.Session.__dict__["request"]
    with FakeYahoo():
        assert curl_requests.Session.__dict__["request"] is not original
    assert curl_requests.Session.__dict__["request"] is original


def test_every_request_of_a_batch_went_to_the_fake(fake: FakeYahoo, clock: VirtualClock) -> None:
    fetch(["AAPL", "GOOG"], clock)
    assert fake.log and all("yahoo.com" in r.url for r in fake.log)
    known = {"cookie", "crumb", "consent", "quoteSummary", "quote", "chart", "timeseries"}
    assert {r.endpoint for r in fake.log} <= known


# ---------------------------------------------------------------------------------------------
# Configuration and results


@pytest.mark.parametrize(
    "overrides",
    [
        {"max_workers": 0},
        {"requests_per_second": -1.0},
        {"max_attempts": 0},
        {"backoff_base_s": -1.0},
        {"budget_s": 0.0},
        {"history_period": "13mo"},
        {"cache_ttl_s": -5.0},
    ],
)
def test_config_rejects_nonsense(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(overrides)).split("_")[0]):
        LiveConfig(**overrides)


def test_duplicates_and_case_are_folded(fake: FakeYahoo, clock: VirtualClock) -> None:
    batch = fetch(["aapl", " AAPL ", "Aapl"], clock)
    assert [r.ticker for r in batch.results] == ["AAPL"]


def test_a_single_string_is_one_ticker(fake: FakeYahoo, clock: VirtualClock) -> None:
    batch = yahoo.fetch("AAPL", config=config(), clock=clock.monotonic, sleep=clock.sleep)
    assert [r.ticker for r in batch.results] == ["AAPL"]


def test_describe_reads_like_a_sentence() -> None:
    assert LiveResult("AAPL", "ok").describe() == "AAPL: ok"
    cached = LiveResult("SPY", "no_coverage", "no analyst coverage (x)", from_cache=True)
    assert cached.describe() == "SPY: no analyst coverage (x) (from cache)"


def test_an_empty_batch() -> None:
    batch = yahoo.fetch([])
    assert batch.results == () and batch.summary() == "0 fetched, 0 without analyst coverage, 0 failed"
    assert_schemas(batch)


@pytest.mark.parametrize(
    ("message", "said", "unreachable"),
    [
        # curl_cffi's own words, as a closed proxy port gave them on this machine: longer than 200 characters.
        (
            "Failed to perform, curl: (7) Failed to connect to query2.finance.yahoo.com port 443 via 127.0.0.1 "
            "after 0 ms: Could not connect to server. See https://curl.se/libcurl/c/libcurl-errors.html first for "
            "more details.",
            "Failed to connect to query2.finance.yahoo.com port 443 via 127.0.0.1 after 0 ms: Could not connect to "
            "server (curl error 7)",
            True,
        ),
        (
            "Failed to perform, curl: (28) Operation timed out after 10001 milliseconds.",
            "Operation timed out after 10001 milliseconds (curl error 28)",
            False,
        ),
    ],
)
def test_a_curl_failure_is_said_in_curls_words_once(message: str, said: str, unreachable: bool) -> None:
    from ratings.yahoo.boundary import network_failure

    assert network_failure(curl_requests.exceptions.ConnectionError(message)) == (said, unreachable)
