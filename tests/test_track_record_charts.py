"""The track record's charts (ratings.charts.track_record) and words (ratings.formatting.track_record).

Frames are built here by hand; what a chart must show (each firm once, its interval, the calls where they
were entered) is read off the figure, and every expected text is worked out from the inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ratings import track_record as tr
from ratings.charts import CAPTION_NAME, alt_text, calls_chart, for_screen, success_rate_chart
from ratings.formatting import (
    call_cells,
    firm_cells,
    interval_text,
    outcome_text,
    points_text,
    rate_text,
    status_lines,
    success_text,
)
from ratings.schema import PRICES, conform

NOTE = "Scored over 12 months against B on closes 2020-01-01 to 2021-12-31 (test, as of 2021-12-31)."


def firms(*rows: tuple[str, int, int]) -> pd.DataFrame:
    """(firm, successes, calls) rows ranked as firm_record ranks them, with intervals by the formula."""
    k, n = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    low, high = tr.wilson_interval(k, n)
    frame = pd.DataFrame({"firm": [r[0] for r in rows], "successes": k, "scored_calls": n, "success_rate": k / n,
                          "success_low": low, "success_high": high, "mean_excess": 0.01})  # fmt: skip
    frame = frame.sort_values("success_low", ascending=False).assign(rank=lambda f: np.arange(1, len(f) + 1))
    return conform(frame, tr.FIRM_RECORD)


def test_the_success_rate_chart_draws_each_firm_once_with_its_interval_best_first() -> None:
    fig = success_rate_chart(firms(("Lucky", 2, 2), ("Steady", 60, 100), ("<b>Bold</b> & Co", 3, 10)), note=NOTE)
    trace = fig.data[0]
    assert list(trace.y) == ["Steady (100)", "Lucky (2)", "&lt;b&gt;Bold&lt;/b&gt; &amp; Co (10)"]  # escaped
    assert list(trace.x) == pytest.approx([0.6, 1.0, 0.3])
    lucky_low = tr.wilson_interval(np.array([2]), np.array([2]))[0][0]
    assert trace.error_x.arrayminus[1] == pytest.approx(1.0 - lucky_low) and trace.error_x.array[1] == pytest.approx(0)
    captions = [a.text for a in fig.layout.annotations if a.name == CAPTION_NAME]
    assert captions and "against B" in captions[0] and "2021-12-31" in captions[0]
    assert "3 firms ranked by the lower bound" in alt_text(fig) and "first Steady: 60% of 100 calls" in alt_text(fig)
    assert not [a for a in for_screen(fig).layout.annotations if a.name == CAPTION_NAME]


def test_an_empty_ranking_says_so() -> None:
    fig = success_rate_chart(tr.FIRM_RECORD.empty(), note=NOTE)
    assert any(a.name == "note" and "No firm" in a.text for a in fig.layout.annotations)
    assert "No firm has enough scored calls." in alt_text(fig)


def calls(*rows: tuple[str, str, str, str, bool, str | None]) -> pd.DataFrame:
    """(graded_at, stance, status, entry day, success, exit day) calls of Firm & Co on T."""
    frame = pd.DataFrame(rows, columns=["graded_at", "stance", "status", "entry_date", "success", "exit_date"])
    frame = frame.assign(ticker="T", firm="Firm & Co", to_grade="Buy", entry_close=100.0, exit_close=110.0,
                         scored=frame["status"] == "scored", entry_date=pd.to_datetime(frame["entry_date"]),
                         exit_date=pd.to_datetime(frame["exit_date"]))  # fmt: skip
    return conform(frame, tr.CALLS)


def test_the_calls_chart_marks_each_call_where_it_was_entered_by_stance_and_outcome() -> None:
    frame = calls(
        ("2020-01-06T14:00:00Z", "buy", "scored", "2020-01-06", True, "2020-03-02"),
        ("2020-03-02T14:00:00Z", "hold", "hold", "2020-03-02", False, "2020-06-01"),
        ("2020-06-01T14:00:00Z", "sell", "scored", "2020-06-01", False, "2020-09-01"),
        ("2020-09-01T14:00:00Z", "buy", "pending", "2020-09-01", False, None),
    )
    prices = conform(pd.DataFrame({"ticker": "T", "date": pd.bdate_range("2019-06-01", "2021-06-01"), "close": 100.0,
                                   "currency": "USD", "source_id": "test"}), PRICES)  # fmt: skip
    fig = calls_chart(frame, prices, firm="Firm & Co", ticker="T", note=NOTE)
    by_meta = {t.meta: t for t in fig.data}
    assert set(by_meta) == {"close", "windows", "calls-buy", "calls-hold", "calls-sell"}
    assert list(by_meta["calls-buy"].marker.color) == ["#0072B2", "#9a9a9a"]  # a success; a pending call is grey
    assert list(by_meta["calls-sell"].marker.color) == ["#D55E00"]  # a miss
    assert by_meta["calls-sell"].marker.symbol == "triangle-down"
    # The windows of the two scored calls (the hold is no position, the pending call has no exit), apart by None.
    assert list(by_meta["windows"].x) == [pd.Timestamp("2020-01-06"), pd.Timestamp("2020-03-02"), None,
                                          pd.Timestamp("2020-06-01"), pd.Timestamp("2020-09-01"), None]  # fmt: skip
    close_days = pd.to_datetime(pd.Series(by_meta["close"].x))
    assert close_days.min() >= pd.Timestamp("2020-01-06") - pd.Timedelta(days=60)  # only around the calls
    assert fig.layout.title.text == "T: calls by Firm &amp; Co"
    assert "4 calls by Firm & Co on T with a price; 2 scored, 1 of them successes." in alt_text(fig)


@pytest.mark.parametrize(
    ("value", "text"), [(0.8181, "82%"), (1.0, "100%"), (0.0, "0%"), (float("nan"), "—"), (pd.NA, "—")]
)
def test_rates_are_whole_percents(value: object, text: str) -> None:
    assert rate_text(value) == text


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((18, 22, 18 / 22, 0.6148, 0.9269), "18 of 22 (82%; 95% interval 61%–93%)"),
        ((1_234, 2_000, 0.617, 0.595, 0.638), "1,234 of 2,000 (62%; 95% interval 60%–64%)"),
        ((0, 0, float("nan"), float("nan"), float("nan")), "no scored call"),
    ],
)
def test_a_success_rate_is_worded_with_its_counts_and_interval(args: tuple[float, ...], text: str) -> None:
    assert success_text(*args) == text


@pytest.mark.parametrize(("value", "text"), [(0.153, "+15.3 points"), (-0.02, "-2.0 points"), (float("nan"), "—")])
def test_a_gap_is_worded_in_points(value: float, text: str) -> None:
    assert points_text(value) == text


def test_the_interval_needs_both_ends() -> None:
    assert interval_text(0.34, 1.0) == "34%–100%" and interval_text(0.34, float("nan")) == "—"


@pytest.mark.parametrize(
    ("row", "text"),
    [
        ({"status": "scored", "success": True}, "Success"),
        ({"status": "scored", "success": False}, "Miss"),
        ({"status": "pending", "success": False}, "Pending"),
        ({"status": "hold", "success": False}, "Not scored: hold-type: not scored, closes the firm's previous call"),
        ({"status": "unknown grade", "success": False}, "Not scored: a grade word not in the table"),
    ],
)
def test_each_calls_outcome_is_worded(row: dict[str, object], text: str) -> None:
    assert outcome_text(row) == text


def test_what_was_not_scored_is_counted_and_unknown_words_named() -> None:
    lines = status_lines(
        {"scored": 1_200, "pending": 30, "no price": 40, "hold": 5}, {"after the last close": 40}, {"Tactical Buy": 3}
    )
    assert lines == [
        "1,275 actions: 1,200 scored, 30 pending.",
        "5 hold-type: not scored, closes the firm's previous call.",
        "40 no price in the data (40 after the last close).",
        "Grade words not in the table, so not scored: 'Tactical Buy' (3).",
    ]


def test_a_firm_row_and_a_call_row_become_text_cells() -> None:
    row = firms(("UBS", 18, 22)).assign(buy_calls=22, sell_calls=0, pending=1, first_call="2016-05-11",
                                         last_call="2021-03-31", tickers="AAPL")  # fmt: skip
    cells = firm_cells(row.to_dict("records"))  # type: ignore[arg-type]
    assert (cells["Success rate"], cells["95% interval"], cells["Buy / sell calls"]) == (
        ["82%"],
        ["61%–93%"],
        ["22 / 0"],
    )
    assert cells["Calls from – to"] == ["2016-05-11 – 2021-03-31"] and cells["Mean excess"] == ["+1.0%"]
    one = calls(("2020-01-06T14:00:00Z", "buy", "scored", "2020-01-06", True, "2020-03-02")).assign(
        ticker_return=0.1, benchmark_return=0.05, call_excess=0.05, closed_by="next action"
    )
    words = call_cells(one.to_dict("records"))  # type: ignore[arg-type]
    assert {k: v[0] for k, v in words.items()} == {
        "Date": "2020-01-06", "Ticker": "T", "Grade": "Buy", "Reads as": "buy-type", "Entered": "2020-01-06",
        "Left": "2020-03-02", "Left at": "next action", "Return": "+10.0%", "Benchmark": "+5.0%", "Excess": "+5.0%",
        "Outcome": "Success",
    }  # fmt: skip
