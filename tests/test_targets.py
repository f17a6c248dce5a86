"""Price targets against the prices that followed, and the bias-aware upside (ratings.targets, and its words).

The closes are built here; every expected share, gap and interval is worked out from them in the test.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hand_track_record import wilson
from hypothesis import given, settings
from hypothesis import strategies as st

from ratings import targets as tg
from ratings import track_record as tr
from ratings.formatting import bias_aware_text, no_targets_text, target_text
from ratings.schema import PRICES, UPGRADES, conform


def closes(ticker: str, steps: dict[str, float], end: str = "2021-12-31") -> pd.DataFrame:
    days = pd.bdate_range("2020-01-01", end)
    points = pd.Series(steps, dtype="float64").set_axis(pd.to_datetime(list(steps)))
    values = points.reindex(points.index.union(days)).ffill().reindex(days)
    return conform(pd.DataFrame({"ticker": ticker, "date": days, "close": values.to_numpy(), "currency": "USD",
                                 "source_id": "test"}), PRICES)  # fmt: skip


def checked(rows: list[tuple[str, str, float]], series: pd.DataFrame) -> pd.DataFrame:
    """(firm, graded_at, target) actions on T, scored and their targets checked."""
    frame = pd.DataFrame(rows, columns=["firm", "graded_at", "current_price_target"])
    acts = conform(frame.assign(ticker="T", to_grade="Buy", action="main", source="Yahoo Finance"), UPGRADES)
    prices = pd.concat([series, closes("B", {"2020-01-01": 100.0})])
    calls = tr.score_calls(acts, prices, benchmark="B")
    return tg.check_targets(calls, prices)


@pytest.mark.parametrize(
    ("steps", "target", "met_end", "met_within", "realised"),
    [
        ({"2020-01-01": 100.0, "2021-01-04": 125.0}, 120.0, True, True, 0.25),  # met, and still met at the end
        ({"2020-01-01": 100.0, "2020-06-01": 125.0, "2020-09-01": 110.0}, 120.0, False, True, 0.10),  # met, then lost
        ({"2020-01-01": 100.0}, 120.0, False, False, 0.0),  # never met
        ({"2020-01-01": 100.0, "2020-06-01": 75.0, "2020-09-01": 90.0}, 80.0, False, True, -0.10),  # a target below
        ({"2020-01-01": 100.0, "2020-12-01": 78.0}, 80.0, True, True, -0.22),
    ],
)
def test_a_target_is_met_at_the_end_or_within_the_12_months(
    steps: dict[str, float], target: float, met_end: bool, met_within: bool, realised: float
) -> None:
    row = checked([("F1", "2020-01-06T14:00:00Z", target)], closes("T", steps)).iloc[0]
    assert row["status"] == "matured" and row["window_end"] == pd.Timestamp("2021-01-06")
    assert (bool(row["met_end"]), bool(row["met_within"])) == (met_end, met_within)
    assert row["implied_return"] == pytest.approx(target / 100 - 1)
    assert row["realised_return"] == pytest.approx(realised)
    assert row["gap"] == pytest.approx(target / 100 - 1 - realised)


def test_a_target_is_held_12_months_whatever_the_firm_does_meanwhile() -> None:
    series = closes("T", {"2020-01-01": 100.0, "2020-11-02": 130.0})
    rows = checked([("F1", "2020-01-06T14:00:00Z", 120.0), ("F1", "2020-02-03T14:00:00Z", 90.0)], series)
    first = rows[rows["graded_at"] == "2020-01-06T14:00:00Z"].iloc[0]
    assert bool(first["met_end"]) and first["realised_return"] == pytest.approx(0.30)


@pytest.mark.parametrize(
    ("end", "graded_at", "status"),
    [("2020-12-31", "2020-01-06T14:00:00Z", "pending"), ("2020-06-30", "2020-08-03T14:00:00Z", "no price")],
)
def test_a_target_whose_12_months_have_not_passed_is_pending_and_never_counted(
    end: str, graded_at: str, status: str
) -> None:
    rows = checked([("F1", graded_at, 120.0)], closes("T", {"2020-01-01": 100.0, "2020-03-02": 130.0}, end=end))
    assert rows["status"].tolist() == [status]
    assert not rows["met_end"].any() and not rows["met_within"].any() and rows["gap"].isna().all()
    record = tg.target_record(rows).iloc[0]
    assert (record["matured"], record["pending"]) == (0, 1 if status == "pending" else 0)
    assert pd.isna(record["met_end_rate"])


def test_actions_without_a_target_are_not_checked() -> None:
    assert checked([("F1", "2020-01-06T14:00:00Z", float("nan"))], closes("T", {"2020-01-01": 100.0})).empty


def test_the_shares_of_targets_met_come_with_their_counts_and_intervals() -> None:
    series = closes("T", {"2020-01-01": 100.0, "2020-06-01": 125.0, "2020-09-01": 110.0})
    # Targets of 105 (met at the end and within), 120 (within only), 130 and 140 (never): by hand.
    rows = checked([(f"F{t}", "2020-01-06T14:00:00Z", float(t)) for t in (105, 120, 130, 140)], series)
    record = tg.target_record(rows).iloc[0]
    assert (record["matured"], record["met_end"], record["met_within"]) == (4, 1, 2)
    assert (record["met_end_low"], record["met_end_high"]) == pytest.approx(wilson(1, 4))
    assert (record["met_within_low"], record["met_within_high"]) == pytest.approx(wilson(2, 4))
    gaps = [t / 100 - 1 - 0.10 for t in (105, 120, 130, 140)]
    assert record["mean_gap"] == pytest.approx(sum(gaps) / 4)
    by_firm = tg.target_record(rows, by=("firm",))
    assert by_firm["firm"].tolist() == ["F105", "F120", "F130", "F140"]
    text = target_text(record.to_dict())
    assert "Of 4 matured targets" in text and "1 of 4 (25%" in text and "2 of 4 (50%" in text


def matured_gaps(gaps: list[float], ticker: str = "T") -> pd.DataFrame:
    return conform(pd.DataFrame({"ticker": ticker, "status": "matured", "gap": gaps}), tg.TARGETS)


@pytest.mark.parametrize(
    ("frames", "ticker", "basis", "gap"),
    [
        ([matured_gaps([0.05] * 29)], "T", "published", 0.15),  # 29: one too few
        ([matured_gaps([0.05] * 30)], "T", "ticker", 0.05),
        ([matured_gaps([0.05] * 10), matured_gaps([0.11] * 20, "U")], "T", "data", (10 * 0.05 + 20 * 0.11) / 30),
        ([tg.TARGETS.empty()], "T", "published", 0.15),
    ],
)
def test_the_historical_gap_is_the_datas_own_only_from_30_matured_targets(
    frames: list[pd.DataFrame], ticker: str, basis: str, gap: float
) -> None:
    found = tg.historical_gap(pd.concat(frames, ignore_index=True), ticker)
    assert (found.basis, found.gap) == (basis, pytest.approx(gap))


def test_the_bias_aware_upside_names_the_published_figure_and_is_no_forecast() -> None:
    result = tg.bias_aware_upside(0.12, tg.TARGETS.empty(), "AAPL")
    assert result.less_gap == pytest.approx(0.12 - 0.15)
    text = bias_aware_text(result, "AAPL")
    for words in ("+12.0%", "about 15 points", "Bradshaw, Brown & Huang (2013)", "2000-2009", "not a forecast",
                  "-3.0%", "no matured price target"):  # fmt: skip
        assert words in text, (words, text)
    unknown = bias_aware_text(tg.bias_aware_upside(float("nan"), tg.TARGETS.empty(), "F"), "F")
    assert "no implied upside" in unknown and math.isnan(
        tg.bias_aware_upside(float("nan"), tg.TARGETS.empty()).less_gap
    )


def test_without_targets_the_page_says_so() -> None:
    assert no_targets_text("the bundled snapshot").startswith("The bundled snapshot has no price targets")


@settings(max_examples=50, deadline=None)
@given(levels=st.lists(st.floats(50, 200), min_size=3, max_size=12), target=st.floats(60, 190))
def test_a_target_met_at_the_end_was_met_within_the_months(levels: list[float], target: float) -> None:
    months = pd.date_range("2020-02-03", periods=len(levels), freq="MS")
    steps = {"2020-01-01": 100.0, **{f"{d:%Y-%m-%d}": v for d, v in zip(months, levels, strict=True)}}
    row = checked([("F1", "2020-01-06T14:00:00Z", target)], closes("T", steps)).iloc[0]
    assert not row["met_end"] or row["met_within"]


def test_a_stores_2025_targets_stay_pending_until_their_12_months_pass() -> None:
    """As in the local store: targets from 2025 on, Yahoo's closes to the last fetch, SPY as the benchmark."""
    days = pd.bdate_range("2025-01-02", "2026-02-27")
    prices = pd.concat(
        conform(
            pd.DataFrame({"ticker": t, "date": days, "close": v, "currency": "USD", "source_id": "yfinance"}), PRICES
        )
        for t, v in (("AAPL", 240.0), ("SPY", 600.0))
    )
    frame = pd.DataFrame({"firm": ["F1", "F2"], "graded_at": ["2025-01-10T14:00:00Z", "2025-06-02T14:00:00Z"],
                          "current_price_target": [260.0, 250.0]})  # fmt: skip
    acts = conform(frame.assign(ticker="AAPL", to_grade="Buy", action="main", source="Yahoo Finance"), UPGRADES)
    closes_, benchmark = tr.scoring_closes(PRICES.empty(), prices)
    assert benchmark == "SPY"
    targets = tg.check_targets(tr.score_calls(acts, closes_, benchmark=benchmark), closes_)
    assert targets["status"].tolist() == ["matured", "pending"]  # 2025-01-10 + 12 months is before 2026-02-27
    record = tg.target_record(targets).iloc[0]
    assert (record["matured"], record["pending"], record["met_end"]) == (1, 1, 0)
    assert record["mean_gap"] == pytest.approx(260 / 240 - 1 - 0.0)
