"""``ratings track-record`` on the bundle: its CSV/JSON contract, its words, its exit codes.

Figures are checked against tests/hand_track_record.py (Barclays on AAPL, worked out by hand from the
bundled closes) and against the bundle's own counts, never against the command's own output.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from hand_track_record import FIRM, barclays_aapl
from helpers import Run, parse_json

from ratings.dataset import Dataset

README = Path(__file__).resolve().parent.parent / "README.md"
#: The public contract as the README writes it, spelled out: not the code's own constant.
CONTRACT = (
    "rank", "firm", "tickers", "horizon_months", "scored_calls", "successes", "success_rate", "success_low",
    "success_high", "mean_excess", "median_excess", "mean_return", "buy_calls", "sell_calls", "pending",
    "first_call", "last_call", "benchmark",
)  # fmt: skip


def rows_of(result: Run) -> list[dict[str, str]]:
    assert result.code == 0, result.err
    reader = csv.DictReader(io.StringIO(result.out))
    assert tuple(reader.fieldnames or ()) == CONTRACT
    return list(reader)


def test_the_readme_writes_the_contract() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("Its CSV (and JSON) columns are a public contract, in this order:", 1)[1]
    written = block.split("```", 2)[1]
    assert tuple(c.strip() for c in written.replace("\n", " ").split(",")) == CONTRACT


def test_aapl_as_csv_lists_firms_with_scored_calls_intervals_and_excess_returns(run: Callable[..., Run]) -> None:
    rows = rows_of(run("track-record", "AAPL", "--format", "csv"))
    assert len(rows) >= 10
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    lows = [float(r["success_low"]) for r in rows]
    assert lows == sorted(lows, reverse=True)  # ranked by the interval's lower bound
    for row in rows:
        assert row["tickers"] == "AAPL" and row["benchmark"] == "EW-SP500" and row["horizon_months"] == "12"
        assert int(row["scored_calls"]) >= 5  # the default minimum
        assert float(row["success_low"]) <= float(row["success_rate"]) <= float(row["success_high"])
        assert math.isfinite(float(row["mean_excess"])) and math.isfinite(float(row["median_excess"]))


def test_one_firms_figures_match_the_hand_computation(run: Callable[..., Run], bundle: Dataset) -> None:
    hand = barclays_aapl(bundle.adjusted_closes)
    row = next(r for r in rows_of(run("track-record", "AAPL", "--format", "csv")) if r["firm"] == FIRM)
    assert (int(row["scored_calls"]), int(row["successes"])) == (hand.calls, hand.successes)
    figures = ("success_rate", "success_low", "success_high", "mean_excess", "median_excess")
    expected = (hand.rate, hand.low, hand.high, hand.mean_excess, hand.median_excess)
    assert tuple(float(row[f]) for f in figures) == pytest.approx(expected)
    assert (row["first_call"], row["last_call"], row["buy_calls"], row["sell_calls"]) == (
        "2015-10-14",
        "2016-09-29",
        "8",
        "0",
    )


def test_json_has_the_contracts_keys_in_order(run: Callable[..., Run]) -> None:
    result = run("track-record", "AAPL", "--format", "json", "--min-calls", "1")
    assert result.code == 0
    records = parse_json(result.out)
    assert records and all(list(r) == list(CONTRACT) for r in records)
    assert any(r["firm"] == FIRM and r["successes"] == 2 for r in records)


def test_the_table_names_the_benchmark_the_closes_and_what_was_not_scored(
    run: Callable[..., Run], bundle: Dataset
) -> None:
    result = run("track-record", "AAPL")
    assert result.code == 0
    aapl = bundle.upgrades[bundle.upgrades["ticker"] == "AAPL"]
    for words in ("Rank", "Barclays", "against EW-SP500", "2021-04-21", "Alpha Vantage", f"{len(aapl):,} actions",
                  "after the last close", "Ranked by the lower bound of the Wilson 95% interval"):  # fmt: skip
        assert words in result.out, words


@pytest.mark.parametrize(("horizon", "months"), [("3m", "3"), ("6", "6"), ("12m", "12")])
def test_the_horizon_is_3_6_or_12_months(run: Callable[..., Run], horizon: str, months: str) -> None:
    rows = rows_of(run("track-record", "AAPL", "--horizon", horizon, "--format", "csv", "--min-calls", "1"))
    assert {r["horizon_months"] for r in rows} == {months}


@pytest.mark.parametrize(("option", "value"), [("--horizon", "5m"), ("--horizon", "year"), ("--min-calls", "0")])
def test_a_bad_option_is_a_usage_error(run: Callable[..., Run], option: str, value: str) -> None:
    result = run("track-record", "AAPL", option, value)
    assert result.code == 2 and value in result.err


def test_without_tickers_every_ticker_with_actions_is_scored(run: Callable[..., Run]) -> None:
    rows = rows_of(run("track-record", "--format", "csv"))
    tickers = {t for r in rows for t in r["tickers"].split(", ")}
    assert tickers == {"AAPL", "ABBV", "AMZN", "GOOG"}  # the tickers with adjusted closes (data/manifest.json)


def test_a_ticker_without_closes_is_named_and_nothing_shown_is_exit_1(run: Callable[..., Run], bundle: Dataset) -> None:
    result = run("track-record", "ARMK")
    n = int((bundle.upgrades["ticker"] == "ARMK").sum())
    assert result.code == 1
    assert f"ARMK: the bundled snapshot has no closes to score its {n:,} actions on" in result.err


@pytest.mark.parametrize(
    ("ticker", "said"), [("F", "F: the bundled snapshot has no analysts' actions"), ("Z?Z", "Z?Z")]
)
def test_a_ticker_without_actions_is_named(run: Callable[..., Run], ticker: str, said: str) -> None:
    result = run("track-record", ticker, "AAPL", "--format", "csv")
    assert result.code == 0 and said in result.err
    assert rows_of(result)


def test_too_high_a_minimum_shows_nothing_and_says_why(run: Callable[..., Run]) -> None:
    result = run("track-record", "AAPL", "--min-calls", "1000")
    assert result.code == 1 and "no firm has 1000 scored calls" in result.err and result.out == ""
