"""The core computation: labels, upside, dispersion, price fallback, primary source."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratings import core
from ratings.schema import CONSENSUS, CONSENSUS_TABLE, COUNT_COLUMNS, conform, validate

NAN = float("nan")


def consensus_rows(*rows: dict) -> pd.DataFrame:
    """CONSENSUS rows from partial dicts; every column not given is unknown."""
    return conform(pd.DataFrame(list(rows)), CONSENSUS)


def closes(*rows: tuple[str, str, float, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["ticker", "date", "close", "currency"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.assign(source_id="test")


# --- labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating_mean", "label"),
    [
        (1.0, "Strong Buy"),
        (1.5, "Strong Buy"),  # upper bounds are inclusive, as Yahoo's
        (1.5001, "Buy"),
        (2.5, "Buy"),
        (2.51, "Hold"),
        (2.71429, "Hold"),  # Ford on Yahoo, 2026-07-02
        (3.5, "Hold"),
        (3.58824, "Sell"),  # Yahoo calls this band "underperform"
        (4.5, "Sell"),  # PSNY on finviz
        (4.51, "Strong Sell"),
        (5.0, "Strong Sell"),
        (0.0, None),  # Yahoo sends 0 for a few tickers: off the scale, so unknown
        (0.99, None),
        (5.01, None),
        (NAN, None),
    ],
)
def test_label_bands(rating_mean: float, label: str | None) -> None:
    result = core.label_from_rating_mean(pd.Series([rating_mean]))
    assert (result.iloc[0] if pd.notna(result.iloc[0]) else None) == label


def test_ford_on_tipranks_reads_hold_from_its_counts() -> None:
    ford = consensus_rows({"ticker": "F", "buy": 2, "hold": 11, "sell": 1})
    assert core.rating_mean_from_counts(ford).iloc[0] == pytest.approx((2 * 2 + 11 * 3 + 1 * 4) / 14)
    assert core.label_from_counts(ford).iloc[0] == "Hold"


@pytest.mark.parametrize(
    ("counts", "expected_mean"),
    [
        ({"strong_buy": 10}, 1.0),
        ({"strong_sell": 3}, 5.0),
        ({"strong_buy": 1, "strong_sell": 1}, 3.0),
        ({"buy": 2, "hold": 11, "sell": 1}, 41 / 14),  # unreported Strong Buy/Sell are skipped, not 0
        ({"strong_buy": 0, "buy": 0, "hold": 0, "sell": 0, "strong_sell": 0}, NAN),  # nobody rates it
        ({}, NAN),
    ],
)
def test_rating_mean_from_counts(counts: dict[str, int], expected_mean: float) -> None:
    result = core.rating_mean_from_counts(consensus_rows({"ticker": "X", **counts})).iloc[0]
    if math.isnan(expected_mean):
        assert math.isnan(result)
    else:
        assert result == pytest.approx(expected_mean)


def test_reported_rating_mean_wins_over_counts_and_basis_says_so() -> None:
    rows = consensus_rows(
        {"ticker": "A", "source": "S", "rating_mean": 1.2, "hold": 5},  # reported and counts disagree
        {"ticker": "B", "source": "S", "hold": 5},
        {"ticker": "C", "source": "S", "rating_mean": 0.0, "buy": 4},  # off-scale report: counts fill in
        {"ticker": "D", "source": "S"},
    )
    out = core.add_metrics(core.attach_prices(rows, closes()))
    assert out["rating_mean"].tolist()[:3] == [1.2, 3.0, 2.0]
    assert math.isnan(out["rating_mean"].iloc[3])
    assert out["rating_basis"].tolist()[:3] == ["reported", "counts", "counts"]
    assert pd.isna(out["rating_basis"].iloc[3])
    assert out["consensus"].tolist()[:3] == ["Strong Buy", "Hold", "Buy"]


# --- upside and dispersion ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "price", "expected"),
    [
        (14.901, 13.405, 14.901 / 13.405 - 1),
        (10.0, 20.0, -0.5),
        (10.0, 10.0, 0.0),
        (10.0, 0.0, NAN),  # zero price: unknown, not inf
        (10.0, -1.0, NAN),
        (10.0, NAN, NAN),
        (NAN, 10.0, NAN),
        (0.0, 10.0, NAN),  # a zero target is a missing target
        (math.inf, 10.0, NAN),
        (10.0, math.inf, NAN),
        (1e300, 1e-300, NAN),  # overflow would be inf
    ],
)
def test_implied_upside(target: float, price: float, expected: float) -> None:
    result = core.implied_upside(pd.Series([target]), pd.Series([price])).iloc[0]
    if math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == pytest.approx(expected)


finite_positive = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
any_float = st.floats(allow_nan=True, allow_infinity=True)


@given(price=finite_positive, target=finite_positive, bump=st.floats(min_value=1e-6, max_value=1e6))
def test_upside_rises_with_the_target(price: float, target: float, bump: float) -> None:
    lower, higher = core.implied_upside(pd.Series([target, target + bump]), pd.Series([price, price]))
    assert higher >= lower


@given(target=any_float, price=any_float)
def test_upside_is_never_infinite_and_nan_in_gives_nan_out(target: float, price: float) -> None:
    result = core.implied_upside(pd.Series([target]), pd.Series([price])).iloc[0]
    assert not math.isinf(result)
    if math.isnan(target) or math.isnan(price):
        assert math.isnan(result)


@settings(max_examples=50)
@given(st.lists(st.tuples(any_float, any_float, any_float), min_size=1, max_size=30))
def test_dispersion_is_finite_or_nan(targets: list[tuple[float, float, float]]) -> None:
    frame = pd.DataFrame(targets, columns=["target_low", "target_mean", "target_high"])
    result = core.target_dispersion(frame)
    assert not np.isinf(result).any()
    assert (result.dropna() >= 0).all()


@pytest.mark.parametrize(
    ("low", "mean", "high", "expected"),
    [(11.0, 14.901, 20.0, 9 / 14.901), (10.0, 10.0, 10.0, 0.0), (20.0, 15.0, 10.0, NAN), (NAN, 10.0, 12.0, NAN)],
)
def test_dispersion(low: float, mean: float, high: float, expected: float) -> None:
    frame = pd.DataFrame({"target_low": [low], "target_mean": [mean], "target_high": [high]})
    result = core.target_dispersion(frame).iloc[0]
    assert (math.isnan(result) and math.isnan(expected)) or result == pytest.approx(expected)


# --- price fallback -------------------------------------------------------------------------

PRICES = closes(
    ("F", "2026-06-30", 13.90, "USD"),
    ("F", "2026-07-01", 13.64, "USD"),
    ("F", "2026-07-02", 13.35, "USD"),
    ("1810.HK", "2026-07-02", 22.60, "HKD"),
)


@pytest.mark.parametrize(
    ("row", "price", "price_as_of", "price_source"),
    [
        ({"as_of": "2026-07-02", "price": 13.405, "price_as_of": "2026-07-02"}, 13.405, "2026-07-02", "source"),
        ({"as_of": "2026"}, 13.35, "2026-07-02", "close"),  # no day: the latest close at all
        ({"as_of": "2026-07-01"}, 13.64, "2026-07-01", "close"),  # the latest close on or before as-of
        ({"as_of": "2026-07-01", "price": 0.0}, 13.64, "2026-07-01", "close"),  # zero price is missing
        ({"as_of": "2026-07-01", "price": -3.0}, 13.64, "2026-07-01", "close"),
        ({"as_of": "2026-07-01", "price": float("inf")}, 13.64, "2026-07-01", "close"),  # inf is no price
        ({"as_of": "2020-01-01"}, NAN, None, None),  # no close that early
        # A dropped price takes its date with it when no close replaces it.
        ({"as_of": "2020-01-01", "price": 0.0, "price_as_of": "2020-01-01"}, NAN, None, None),
        ({"as_of": "2020-01-01", "price": float("inf"), "price_as_of": "2020-01-01"}, NAN, None, None),
        ({"as_of": "2026", "currency": "EUR"}, NAN, None, None),  # close in another currency is unusable
    ],
)
def test_attach_prices(row: dict, price: float, price_as_of: str | None, price_source: str | None) -> None:
    out = core.attach_prices(consensus_rows({"ticker": "F", "source": "S", **row}), PRICES).iloc[0]
    assert (math.isnan(out["price"]) and math.isnan(price)) or out["price"] == pytest.approx(price)
    assert (out["price_as_of"] if pd.notna(out["price_as_of"]) else None) == price_as_of
    assert (out["price_source"] if pd.notna(out["price_source"]) else None) == price_source


def test_attach_prices_takes_the_currency_of_the_close_when_the_row_has_none() -> None:
    out = core.attach_prices(consensus_rows({"ticker": "1810.HK", "as_of": "2026"}), PRICES).iloc[0]
    assert (out["price"], out["currency"]) == (22.60, "HKD")


# --- primary source and the table -----------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "primary_source"),
    [
        # A mean target beats a bare rating, however recent.
        ([("finviz", "2026-08-01", NAN), ("Yahoo Finance", "2026-07-02", 14.9)], "Yahoo Finance"),
        # Dated to the day beats year-only (F: Yahoo 2026-07-02 vs TipRanks 2026).
        ([("TipRanks", "2026", 13.87), ("Yahoo Finance", "2026-07-02", 14.9)], "Yahoo Finance"),
        # Then the most recent.
        ([("Yahoo Finance", "2026-06-01", 10.0), ("TipRanks", "2026-07-01", 11.0)], "TipRanks"),
        # Then source priority.
        ([("finviz", "2026-07-01", NAN), ("TipRanks", "2026-07-01", NAN)], "TipRanks"),
        ([("finviz", "2025-08-21", NAN)], "finviz"),
    ],
)
def test_primary_rule(rows: list[tuple[str, str, float]], primary_source: str) -> None:
    frame = consensus_rows(*({"ticker": "X", "source": s, "as_of": a, "target_mean": t} for s, a, t in rows))
    primary = core.mark_primary(frame)
    assert primary.sum() == 1
    assert frame.loc[primary, "source"].item() == primary_source


@pytest.mark.parametrize("tickers", [None, [], ["F"], ["F", "F"]])
def test_consensus_table_of_no_consensus_at_all(tickers: list[str] | None) -> None:
    # A store that holds names and prices but no snapshot yet: a valid table, not a crash.
    table = core.consensus_table(CONSENSUS.empty(), PRICES, tickers=tickers)
    validate(table, CONSENSUS_TABLE)
    expected = list(dict.fromkeys(tickers or []))
    assert table["ticker"].tolist() == expected
    assert (table["coverage"] == "none").all()


def test_consensus_table_lists_a_repeated_ticker_once() -> None:
    consensus = consensus_rows({"ticker": "F", "source": "Yahoo Finance", "as_of": "2026-07-02", "target_mean": 14.9})
    table = core.consensus_table(consensus, PRICES, tickers=["NOPE", "F", "NOPE", "F"])
    validate(table, CONSENSUS_TABLE)
    assert table["ticker"].tolist() == ["NOPE", "F"]


def test_consensus_table_keeps_order_and_explains_uncovered_tickers() -> None:
    consensus = consensus_rows(
        {"ticker": "F", "source": "TipRanks", "source_id": "t", "as_of": "2026",
         "buy": 2, "hold": 11, "sell": 1, "target_mean": 13.87},
        {"ticker": "F", "source": "Yahoo Finance", "source_id": "y", "as_of": "2026-07-02", "price": 13.405,
         "target_mean": 14.901, "target_low": 11.0, "target_high": 20.0, "n_analysts": 20, "rating_mean": 2.71429},
    )  # fmt: skip
    table = core.consensus_table(consensus, PRICES, tickers=["1810.HK", "F", "NOPE"])
    validate(table, CONSENSUS_TABLE)
    assert list(table.columns[:21]) == list(CONSENSUS_TABLE.names[:21])
    assert table["ticker"].tolist() == ["1810.HK", "F", "F", "NOPE"]
    assert table["source"].tolist()[1:3] == ["Yahoo Finance", "TipRanks"]  # primary first
    assert table["coverage"].tolist() == ["none", "targets", "targets", "none"]
    assert table.loc[0, "price"] == 22.60 and math.isnan(table.loc[3, "price"])
    assert table.groupby("ticker")["is_primary"].sum().eq(1).all()
    tipranks = table.loc[2]
    assert (tipranks["n_analysts"], tipranks["consensus"], tipranks["price_source"]) == (14, "Hold", "close")
    assert tipranks["upside_mean"] == pytest.approx(13.87 / 13.35 - 1)
    assert table.loc[1, "upside_mean"] == pytest.approx(14.901 / 13.405 - 1)


def test_consensus_table_on_10000_rows_matches_a_row_by_row_reference() -> None:
    rng = np.random.default_rng(7)
    n = 10_000
    price = rng.uniform(-5, 500, n)
    price[rng.random(n) < 0.05] = np.nan
    target = price * rng.uniform(0.5, 1.8, n)
    target[rng.random(n) < 0.1] = np.nan
    counts = {c: rng.integers(0, 12, n) for c in COUNT_COLUMNS}
    frame = consensus_rows(
        *(
            {"ticker": f"T{i}", "source": "S", "as_of": "2026-07-02", "price": price[i], "target_mean": target[i]}
            | {c: counts[c][i] for c in COUNT_COLUMNS}
            for i in range(n)
        )
    )
    table = core.consensus_table(frame, closes())
    assert len(table) == n
    by_ticker = table.set_index("ticker")
    for i in rng.choice(n, 300, replace=False):
        row = by_ticker.loc[f"T{i}"]
        p, t = price[i], target[i]
        expected = t / p - 1 if (p > 0 and t > 0) else NAN
        assert (math.isnan(expected) and math.isnan(row["upside_mean"])) or row["upside_mean"] == pytest.approx(
            expected
        )
        total = sum(counts[c][i] for c in COUNT_COLUMNS)
        mean = sum(counts[c][i] * s for c, s in core.COUNT_SCORES.items()) / total if total else NAN
        assert (math.isnan(mean) and math.isnan(row["rating_mean"])) or row["rating_mean"] == pytest.approx(mean)
    numeric = table.select_dtypes("float64")
    assert not np.isinf(numeric.to_numpy()).any()


# --- coverage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # (ticker, source, target_mean, rating_mean) -> targets / rating only / none, in table order
        ([("A", "Yahoo Finance", 10.0, 2.0)], (["A"], [], [])),
        ([("A", "finviz", NAN, 2.0)], ([], ["A"], [])),
        ([("A", "finviz", NAN, 2.0), ("A", "Yahoo Finance", 10.0, 2.0)], (["A"], [], [])),  # the best row counts
        ([("B", "finviz", NAN, 3.0), ("A", "Yahoo Finance", 10.0, NAN)], (["A"], ["B"], [])),
    ],
)
def test_coverage_partition_puts_each_ticker_in_its_best_group(rows: list[tuple], expected: tuple) -> None:
    frame = consensus_rows(
        *({"ticker": t, "source": s, "source_id": s, "target_mean": m, "rating_mean": r} for t, s, m, r in rows)
    )
    table = core.consensus_table(frame, closes(), tickers=[*dict.fromkeys(r[0] for r in rows), "C"])
    groups = core.coverage_partition(table)
    assert (groups.targets, groups.rating_only) == expected[:2]
    assert groups.none == ["C"]  # asked for, no consensus row at all


# --- age and staleness ----------------------------------------------------------------------


def test_age_in_days_counts_whole_days_to_the_utc_day_and_has_none_without_a_day() -> None:
    dates = pd.Series(["2026-07-02", "2026", "2026-12-02", None], dtype="string")
    late_evening = pd.Timestamp("2026-12-02T23:59:00Z")
    assert core.age_in_days(dates, late_evening).tolist()[:1] == [153.0]  # July 2 .. December 2, by hand
    ages = core.age_in_days(dates, late_evening)
    assert math.isnan(ages[1]) and ages[2] == 0 and math.isnan(ages[3])


@pytest.mark.parametrize(
    ("kind", "days", "expected"),
    [("bundle", 30, False), ("bundle", 31, True), ("store", 8, True), ("live", 1, False), ("live", 2, True)],
)
def test_stale_is_past_the_threshold_of_the_kind_of_data(kind: str, days: int, expected: bool) -> None:
    now = pd.Timestamp("2026-12-02T12:00:00Z")
    day = (now.tz_localize(None).normalize() - pd.Timedelta(days=days)).strftime("%Y-%m-%d")
    assert core.stale(pd.Series([day, "2026"]), now, core.STALE_AFTER[kind]).tolist() == [expected, False]
