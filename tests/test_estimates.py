"""ratings/estimates.py's derived figures on hand-made frames (expected values worked out by hand), their
properties (hypothesis), and their words (ratings/formatting/estimates.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratings.dataset import Dataset
from ratings.estimates import (
    BEAT_RATES,
    ESTIMATE_METRICS,
    ESTIMATES_CSV_COLUMNS,
    ESTIMATES_TABLE,
    NEAR_ZERO,
    beat_rates,
    estimate_metrics,
    estimates_table,
    ticker_estimates,
)
from ratings.formatting import (
    amount_text,
    beat_rate_text,
    beat_word,
    currency_note,
    estimate_cells,
    no_estimates_text,
    period_text,
    revisions_text,
    surprise_cells,
)
from ratings.schema import EPS_REVISIONS, EPS_TREND, ESTIMATES, SURPRISES, conform, validate

T1, T2 = "2026-07-01T14:00:00Z", "2026-07-02T09:30:00Z"


def est(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return conform(
        pd.DataFrame([{"ticker": "X", "period": "0q", "observed_at": T1, "currency": "USD"} | r for r in rows]),
        ESTIMATES,
    )


def trend(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return conform(
        pd.DataFrame([{"ticker": "X", "period": "0q", "observed_at": T1, "currency": "USD"} | r for r in rows]),
        EPS_TREND,
    )


def revisions(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return conform(
        pd.DataFrame([{"ticker": "X", "period": "0q", "observed_at": T1, "currency": "USD"} | r for r in rows]),
        EPS_REVISIONS,
    )


def surprises(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return conform(pd.DataFrame([{"ticker": "X", "observed_at": T1, "currency": "USD"} | r for r in rows]), SURPRISES)


def metric(frame: pd.DataFrame, column: str) -> list[float]:
    return frame[column].tolist()


# --- revision momentum, net revisions, dispersion ---------------------------------------------------


def test_revision_momentum_against_30_and_90_days() -> None:
    rows = estimate_metrics(
        est([{"period": "0q"}, {"period": "0y"}, {"period": "+1y"}]),
        trend(
            [
                {"period": "0q", "eps_current": 1.10, "eps_30d_ago": 1.00, "eps_90d_ago": 1.25},
                {"period": "0y", "eps_current": -0.20, "eps_30d_ago": -0.30, "eps_90d_ago": -0.10},  # a loss
                {"period": "+1y", "eps_current": 2.0, "eps_30d_ago": 0.004, "eps_90d_ago": math.nan},  # near 0
            ]
        ),
        revisions([]),
    )
    # 0q: 1.10 / 1.00 - 1 = +10%, 1.10 vs 1.25: -12%. 0y: a loss narrowing from -0.30 to -0.20 is a raise,
    # (-0.20 + 0.30) / 0.30 = +1/3; widening from -0.10 to -0.20 is a cut of 100%. +1y: unknown.
    assert metric(rows, "revision_30d")[:2] == pytest.approx([0.10, 1 / 3])
    assert metric(rows, "revision_90d")[:2] == pytest.approx([-0.12, -1.0])
    assert math.isnan(metric(rows, "revision_30d")[2]) and math.isnan(metric(rows, "revision_90d")[2])
    validate(rows, ESTIMATE_METRICS)


def test_net_revisions_are_raises_less_cuts_over_the_analysts() -> None:
    rows = estimate_metrics(
        est(
            [
                {"period": "0q", "eps_analysts": 27},
                {"period": "+1q", "eps_analysts": pd.NA},
                {"period": "0y", "eps_analysts": 10},
            ]
        ),
        trend([]),
        revisions(
            [
                {"period": "0q", "up_30d": 3, "down_30d": 20},
                {"period": "+1q", "up_30d": 1, "down_30d": 0},
                {"period": "0y", "up_30d": 0, "down_30d": 0},
            ]
        ),
    )
    net = metric(rows, "net_revisions_30d")
    assert net[0] == pytest.approx((3 - 20) / 27)  # -0.63: AAPL's this quarter on 2025-02-24
    assert math.isnan(net[1])  # no count of analysts: unknown, not 1.0
    assert net[2] == 0.0  # nobody revised: a real zero


def test_dispersion_is_the_range_over_the_absolute_mean_unknown_near_zero() -> None:
    rows = estimate_metrics(
        est(
            [
                {
                    "period": "0q",
                    "eps_mean": 1.60796,
                    "eps_low": 1.5,
                    "eps_high": 1.67,
                    "revenue_mean": 100.0,
                    "revenue_low": 90.0,
                    "revenue_high": 120.0,
                },
                {"period": "+1q", "eps_mean": -0.5, "eps_low": -0.7, "eps_high": -0.4},
                {"period": "0y", "eps_mean": NEAR_ZERO / 2, "eps_low": -0.1, "eps_high": 0.1},
                {"period": "+1y", "eps_mean": 2.0, "eps_low": 2.0, "eps_high": 2.0},
            ]
        ),
        trend([]),
        revisions([]),
    )
    eps = metric(rows, "eps_dispersion")
    assert eps[0] == pytest.approx((1.67 - 1.5) / 1.60796)
    assert eps[1] == pytest.approx(0.3 / 0.5)  # over |mean|: a spread is never negative
    assert math.isnan(eps[2])  # a mean of half a cent: the ratio would be noise
    assert eps[3] == 0.0  # one analyst, or all agree: no spread
    assert metric(rows, "revenue_dispersion")[0] == pytest.approx(0.3)
    assert all(math.isnan(v) for v in metric(rows, "revenue_dispersion")[1:])


def test_a_trend_in_another_currency_is_not_set_against_the_estimates() -> None:
    table = estimates_table(
        est([{"eps_mean": 1.0, "eps_analysts": 3}]),
        trend([{"eps_current": 7.0, "eps_30d_ago": 6.0, "currency": "CNY"}]),
        revisions([]),
        surprises([]),
    )
    assert table.loc[0, "currency"] == "USD"
    assert pd.isna(table.loc[0, "eps_current"]) and pd.isna(table.loc[0, "revision_30d"])


# --- beat rate ---------------------------------------------------------------------------------------


def test_beat_rate_counts_each_quarter_once_and_a_meet_is_no_beat() -> None:
    frame = surprises(
        [
            {"quarter": "2025-03-31", "eps_estimate": 1.00, "eps_actual": 1.10},  # beat
            {"quarter": "2025-06-30", "eps_estimate": 1.00, "eps_actual": 1.00},  # met: not a beat
            {"quarter": "2025-09-30", "eps_estimate": 1.00, "eps_actual": 0.90},  # missed
            {"quarter": "2025-12-31", "eps_estimate": math.nan, "eps_actual": 1.2},  # no estimate: not counted
            # Fetched again a day later: the same quarters, one revised (the latest record counts).
            {"quarter": "2025-09-30", "eps_estimate": 1.00, "eps_actual": 1.05, "observed_at": T2},
            {"quarter": "2025-03-31", "eps_estimate": 1.00, "eps_actual": 1.10, "observed_at": T2},
        ]
    )
    rates = beat_rates(frame).set_index("ticker")
    assert rates.loc["X", "beat_quarters"] == 3 and rates.loc["X", "beats"] == 2
    assert rates.loc["X", "beat_rate"] == pytest.approx(2 / 3)
    assert (rates.loc["X", "first_quarter"], rates.loc["X", "last_quarter"]) == ("2025-03-31", "2025-09-30")
    validate(beat_rates(frame), BEAT_RATES)


def test_beat_rate_without_a_judged_quarter_is_unknown_with_a_count_of_zero() -> None:
    rates = beat_rates(surprises([{"quarter": "2025-03-31", "eps_estimate": math.nan, "eps_actual": 1.0}]))
    assert rates["beat_quarters"].tolist() == [0] and rates["beats"].tolist() == [0]
    assert math.isnan(rates.loc[0, "beat_rate"])
    assert beat_rates(SURPRISES.empty()).empty


# --- the table and one ticker's estimates -----------------------------------------------------------


def test_the_table_takes_each_tickers_latest_fetch_in_the_order_asked() -> None:
    frame = est(
        [
            {"ticker": "B", "period": "+1y", "observed_at": T1, "eps_mean": 9.0},
            {"ticker": "A", "period": "+1q", "observed_at": T1, "eps_mean": 1.0},
            {"ticker": "A", "period": "0q", "observed_at": T2, "eps_mean": 2.0},
            {"ticker": "A", "period": "0y", "observed_at": T2, "eps_mean": 3.0},
            {"ticker": "A", "period": "+1q", "observed_at": T2, "eps_mean": 2.5},
        ]
    )
    table = estimates_table(frame, trend([]), revisions([]), surprises([]), tickers=["B", "A", "C"])
    assert table[["ticker", "period", "horizon"]].to_numpy().tolist() == [
        ["B", "+1y", "next_year"], ["A", "0q", "this_quarter"], ["A", "+1q", "next_quarter"], ["A", "0y", "this_year"],
    ]  # fmt: skip
    assert table["eps_mean"].tolist() == [9.0, 2.0, 2.5, 3.0]  # A's older fetch is not shown
    assert pd.isna(table["beat_quarters"]).all()  # no earnings history recorded: unknown, not 0
    assert list(table.columns[: len(ESTIMATES_CSV_COLUMNS)]) == list(ESTIMATES_CSV_COLUMNS)
    validate(table, ESTIMATES_TABLE)


def test_one_tickers_trend_is_of_the_fetch_that_gave_its_latest_estimates() -> None:
    mine = ticker_estimates(
        "X",
        est([{"observed_at": T1, "eps_mean": 1.0}, {"observed_at": T2, "eps_mean": 1.1}]),
        trend([{"observed_at": T1, "eps_current": 1.0}]),  # T2 had none (no EPS analyst that day, say)
        revisions([{"observed_at": T2, "up_30d": 1}]),
        surprises([{"quarter": "2025-06-30", "observed_at": T1}, {"quarter": "2025-03-31", "observed_at": T2}]),
    )
    assert mine.estimates["eps_mean"].tolist() == [1.1]
    assert mine.eps_trend.empty  # never T1's trend beside T2's estimates
    assert mine.eps_revisions["up_30d"].tolist() == [1]
    assert mine.surprises["quarter"].tolist() == ["2025-03-31", "2025-06-30"]  # every recorded quarter, oldest first
    assert (
        not mine.empty
        and ticker_estimates("Y", ESTIMATES.empty(), EPS_TREND.empty(), EPS_REVISIONS.empty(), SURPRISES.empty()).empty
    )


def test_a_dataset_without_estimates_has_empty_frames_of_their_schemas(bundle: Dataset) -> None:
    for frame, schema in ((bundle.estimates, ESTIMATES), (bundle.surprises, SURPRISES)):
        validate(frame, schema)
    assert bundle.estimates_table(["F"]).empty and bundle.estimates_for("F").empty


# --- properties ---------------------------------------------------------------------------------------

eps_value = st.floats(min_value=-50, max_value=50, allow_nan=False)
maybe_eps = st.one_of(st.none(), eps_value)
small_count = st.integers(min_value=0, max_value=60)


@st.composite
def period_rows(draw: st.DrawFn) -> dict[str, Any]:
    low, high = sorted(draw(st.lists(eps_value, min_size=2, max_size=2)))
    up, down = draw(small_count), draw(small_count)
    return {
        "eps_mean": draw(st.floats(min_value=low, max_value=high)),
        "eps_low": low,
        "eps_high": high,
        "eps_analysts": draw(st.integers(min_value=up + down, max_value=up + down + 30)) or None,
        "eps_current": draw(maybe_eps),
        "eps_30d_ago": draw(maybe_eps),
        "up_30d": up,
        "down_30d": down,
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(period_rows(), min_size=1, max_size=12))
def test_vectorised_figures_equal_the_formulas_row_by_row(rows: list[dict[str, Any]]) -> None:
    periods = [f"p{i}" for i in range(len(rows))]
    keyed = [{"period": p} | r for p, r in zip(periods, rows, strict=True)]
    out = estimate_metrics(est(keyed), trend(keyed), revisions(keyed))
    for row, (_, got) in zip(rows, out.iterrows(), strict=True):
        ago, now = row["eps_30d_ago"], row["eps_current"]
        if ago is None or now is None or abs(ago) < NEAR_ZERO:
            assert math.isnan(got["revision_30d"])
        else:
            assert got["revision_30d"] == pytest.approx((now - ago) / abs(ago))
            assert np.sign(got["revision_30d"]) == np.sign(now - ago)  # positive means raised, losses included
        spread = got["eps_dispersion"]
        assert math.isnan(spread) if abs(row["eps_mean"]) < NEAR_ZERO else spread >= 0
        net = got["net_revisions_30d"]
        if row["eps_analysts"]:
            assert -1 <= net <= 1 and net == pytest.approx((row["up_30d"] - row["down_30d"]) / row["eps_analysts"])
        else:
            assert math.isnan(net)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 11), st.one_of(st.none(), eps_value), st.one_of(st.none(), eps_value), st.booleans()),
        max_size=20,
    )
)
def test_beat_rate_is_a_share_of_the_quarters_it_counts(records: list[tuple[int, Any, Any, bool]]) -> None:
    frame = surprises(
        [
            {
                "quarter": f"20{20 + q // 4}-{3 * (q % 4) + 3:02d}-28",
                "eps_estimate": e,
                "eps_actual": a,
                "observed_at": T2 if later else T1,
            }
            for q, e, a, later in records
        ]
    )
    rates = beat_rates(frame)
    if frame.empty:
        assert rates.empty
        return
    (row,) = rates.to_dict("records")
    latest = frame.sort_values("observed_at", kind="stable").drop_duplicates("quarter", keep="last")
    judged = latest.dropna(subset=["eps_estimate", "eps_actual"])
    assert row["beat_quarters"] == len(judged) <= latest["quarter"].nunique()
    assert row["beats"] == int((judged["eps_actual"] > judged["eps_estimate"]).sum()) <= row["beat_quarters"]
    assert math.isnan(row["beat_rate"]) if len(judged) == 0 else 0 <= row["beat_rate"] <= 1


# --- words ----------------------------------------------------------------------------------------------


def test_estimates_in_words() -> None:
    assert period_text("0q", "2025-03-31") == "This quarter (to 2025-03-31)" and period_text("+1y") == "Next year"
    assert period_text("+2y") == "+2y"  # a period Yahoo may add later, as it came
    assert amount_text(94076168920, "USD") == "$94.08B" and amount_text(48641200, "CAD") == "CA$48.64M"
    assert amount_text(6.8222e12, "TRY") == "6.82T TRY" and amount_text(math.nan, "USD") == "—"
    assert revisions_text({"net_revisions_30d": (3 - 20) / 27, "up_30d": 3, "down_30d": 20}) == "-63.0% (3 up, 20 down)"
    assert revisions_text({"net_revisions_30d": math.nan, "up_30d": pd.NA, "down_30d": 1}) == "—"
    assert [beat_word(1.0, 1.1), beat_word(1.0, 1.0), beat_word(1.0, 0.9), beat_word(math.nan, 1.0)] == [
        "beat", "met", "missed", "—",
    ]  # fmt: skip
    assert currency_note("CNY", "USD") == "in CNY, the company's reporting currency (its price is in USD)"
    assert currency_note("USD", "USD") == "in USD" and currency_note(pd.NA) == "in a currency Yahoo did not name"
    assert no_estimates_text("SPY", "the local store", no_coverage=True) == (
        "SPY: the local store has no estimates for it (Yahoo: no analyst coverage)"
    )


def test_beat_rate_in_words() -> None:
    row = {
        "beat_quarters": 4,
        "beats": 3,
        "beat_rate": 0.75,
        "first_quarter": "2023-12-31",
        "last_quarter": "2024-09-30",
    }
    assert beat_rate_text(row) == "beat the EPS estimate in 3 of 4 reported quarters (75.0%, 2023-12-31 to 2024-09-30)"
    assert beat_rate_text(row | {"beat_quarters": 1, "beats": 1, "beat_rate": 1.0}) == (
        "beat the EPS estimate in 1 of 1 reported quarter (100.0%, 2024-09-30)"
    )
    assert beat_rate_text(row | {"beat_quarters": 0}) == "no reported quarter with both an estimate and an actual"
    assert beat_rate_text(row | {"beat_quarters": pd.NA}) == "no earnings history recorded"


def test_cells_write_unknown_as_a_dash_and_money_in_the_rows_currency() -> None:
    cells = estimate_cells(
        [{"period": "0y", "end_date": "2024-12-31", "eps_mean": -0.307, "currency": "CAD", "eps_analysts": 1}]
    )
    assert cells["EPS estimate"] == ["-CA$0.31"] and cells["Revenue estimate"] == ["—"] and cells["Analysts"] == ["1"]
    quarters = surprise_cells(
        [
            {
                "quarter": "2024-03-31",
                "eps_estimate": 1.49923,
                "eps_actual": 1.53,
                "eps_difference": 0.03,
                "surprise": 0.020499999,  # as recorded (Yahoo: 2.05%): to one digit, 2.0%
                "currency": "USD",
            }
        ]
    )
    assert quarters == {
        "Quarter": ["2024-03-31"], "EPS estimate": ["$1.50"], "EPS actual": ["$1.53"], "Difference": ["$0.03"],
        "Surprise": ["+2.0%"], "Beat": ["beat"],
    }  # fmt: skip


def test_the_methodology_renders_as_sections() -> None:
    import ratings.estimates
    from ratings.dashboard.markdown import rst_to_markdown

    sections = rst_to_markdown(ratings.estimates.__doc__)
    assert [heading for heading, _ in sections] == [
        "", "Revision momentum", "Net revisions", "Dispersion", "Beat rate", "Near zero", "Currency",
    ]  # fmt: skip
    assert f"is {NEAR_ZERO} of the currency unit" in dict(sections)["Near zero"]
