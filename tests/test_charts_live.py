"""trend_chart and history_chart: the traces carry the frames' numbers, in order, with gaps for
unknowns, label colours shared with the other charts, and every text from data escaped."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from ratings import charts
from ratings.core import HISTORY_CLOSE_MAX_AGE, LABELS, history_metrics, label_from_rating_mean
from ratings.dataset import Dataset
from ratings.export import figure_bytes
from ratings.formatting import utc_minute
from ratings.schema import CONSENSUS_HISTORY, COUNT_COLUMNS, PRICES, TREND, conform

NAN = float("nan")
EVIL = "<script>alert(1)</script>"


def notes_named(fig: go.Figure, name: str) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.name == name]


def caption(fig: go.Figure) -> str:
    return " ".join(notes_named(fig, charts.CAPTION_NAME)).replace("<br>", " ")


def by_meta(fig: go.Figure, meta: str) -> list[Any]:
    return [t for t in fig.data if t.meta == meta]


def same(values: Any, expected: list[float]) -> bool:
    """Equal element by element, NaN equal to NaN (a gap stays a gap)."""
    got = [float(v) if v is not None else NAN for v in values]
    return len(got) == len(expected) and all(
        (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b) for a, b in zip(got, expected, strict=True)
    )


def all_text(fig: go.Figure) -> str:
    """Every text a reader can see or hover: title, legend names, annotations, trace texts, ticks."""
    parts = [str(fig.layout.title.text), str(fig.layout.title.subtitle.text)]
    parts += [str(a.text) for a in fig.layout.annotations]
    for trace in fig.data:
        parts.append(str(trace.name))
        for field in ("text", "hovertext", "customdata", "x"):
            value = getattr(trace, field, None)
            if value is not None:
                parts.append(str(np.asarray(value, dtype=object).ravel().tolist()))
    return " ".join(parts)


# --- trend ----------------------------------------------------------------------------------------


def trend_rows(ticker: str, observed_at: str, months: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """TREND rows: month -> (strong_buy, buy, hold, sell, strong_sell); periods counted back from the last."""
    ordered = sorted(months)
    rows = []
    for month, counts in months.items():
        back = len(ordered) - 1 - ordered.index(month)
        rows.append(
            {"ticker": ticker, "period": f"-{back}m" if back else "0m", "month": month, "observed_at": observed_at,
             **dict(zip(COUNT_COLUMNS, counts, strict=True))}
        )  # fmt: skip
    return rows


def make_trend(*rows: dict[str, Any]) -> pd.DataFrame:
    return conform(pd.DataFrame(list(rows)), TREND)


def test_trend_uses_the_latest_fetch_in_calendar_order_with_the_label_colours() -> None:
    older = trend_rows("X", "2026-10-02T09:00:00Z", {"2026-07": (1, 1, 1, 1, 1), "2026-10": (9, 9, 9, 9, 9)})
    # Unordered on purpose: December, then October, then November.
    latest = trend_rows(
        "X",
        "2026-12-03T10:15:00Z",
        {"2026-12": (7, 21, 14, 2, 2), "2026-10": (8, 24, 12, 1, 2), "2026-11": (8, 21, 13, 2, 2)},
    )
    fig = charts.trend_chart(make_trend(*older, *latest))
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert [t.name for t in bars] == list(LABELS)
    assert [t.marker.color for t in bars] == [charts.LABEL_COLORS[label] for label in LABELS]
    expected = {"2026-10": (8, 24, 12, 1, 2), "2026-11": (8, 21, 13, 2, 2), "2026-12": (7, 21, 14, 2, 2)}
    for i, column in enumerate(COUNT_COLUMNS):
        trace = next(t for t in bars if t.meta == column)
        assert list(trace.x) == ["Oct 2026", "Nov 2026", "Dec 2026"]
        assert same(trace.y, [float(expected[m][i]) for m in sorted(expected)])
    totals = by_meta(fig, "total")[0]
    assert [t.split()[0] for t in totals.text] == [str(sum(expected[m])) for m in sorted(expected)]
    assert fig.layout.barmode == "stack"
    assert utc_minute("2026-12-03T10:15:00Z") in caption(fig) and "Yahoo Finance" in caption(fig)
    assert "2026-10-02" not in caption(fig), "the older fetch is not shown"


def test_trend_leaves_unknown_counts_as_gaps_and_drops_a_count_never_given() -> None:
    rows = trend_rows("X", "2026-12-03T10:15:00Z", {"2026-11": (3, None, 5, 1, None), "2026-12": (4, 6, 5, 0, None)})
    fig = charts.trend_chart(make_trend(*rows))
    metas = [t.meta for t in fig.data if isinstance(t, go.Bar)]
    assert "strong_sell" not in metas, "a count Yahoo never gave is not drawn as zero"
    buy = by_meta(fig, "buy")[0]
    assert same(buy.y, [NAN, 6.0])
    assert list(by_meta(fig, "sell")[0].text)[1] == "", "a zero count has no number in its (empty) bar"


def test_trend_orders_by_period_when_the_month_is_unknown() -> None:
    rows = [
        {"ticker": "X", "period": p, "observed_at": "2026-12-03T10:15:00Z", "strong_buy": n}
        for p, n in (("0m", 4), ("-2m", 2), ("-1m", 3))
    ]
    fig = charts.trend_chart(make_trend(*rows))
    trace = by_meta(fig, "strong_buy")[0]
    assert list(trace.x) == ["-2m", "-1m", "0m"]
    assert same(trace.y, [2.0, 3.0, 4.0])


def test_trend_of_several_tickers_groups_them_on_the_axis() -> None:
    rows = trend_rows("AAA", "2026-12-03T10:15:00Z", {"2026-11": (1, 2, 3, 0, 0), "2026-12": (1, 2, 3, 0, 0)})
    rows += trend_rows("BBB", "2026-12-01T08:00:00Z", {"2026-11": (5, 5, 0, 0, 0), "2026-12": (6, 5, 0, 0, 0)})
    fig = charts.trend_chart(make_trend(*rows))
    trace = by_meta(fig, "strong_buy")[0]
    assert [list(level) for level in trace.x] == [["AAA", "AAA", "BBB", "BBB"], ["Nov 2026", "Dec 2026"] * 2]
    assert same(trace.y, [1.0, 1.0, 5.0, 6.0])
    assert fig.layout.xaxis.type == "multicategory"


@pytest.mark.parametrize("trend", [TREND.empty(), None])
def test_an_empty_trend_is_a_note_not_an_error(trend: pd.DataFrame | None, bundle: Dataset) -> None:
    frame = bundle.trend_for("F") if trend is None else trend  # F is not among the bundle's recorded tickers
    assert frame.empty
    fig = charts.trend_chart(frame)
    assert not [t for t in fig.data if isinstance(t, go.Bar)]
    assert any("No recommendation trend" in n for n in notes_named(fig, "note"))
    assert caption(fig)
    figure_bytes(fig, "html")  # still exports


def test_trend_escapes_what_comes_from_data() -> None:
    rows = trend_rows(EVIL, "2026-12-03T10:15:00Z", {"2026-12": (1, 2, 3, 0, 0)})
    rows[0]["period"] = "<b>0m</b>"
    rows[0]["month"] = None
    fig = charts.trend_chart(make_trend(*rows), title="<i>mine</i>")
    text = all_text(fig)
    assert "<script>" not in text and "<b>0m" not in text and "<i>" not in text
    assert "&lt;script&gt;" in text and "&lt;i&gt;mine" in text
    default = charts.trend_chart(make_trend(*rows))
    assert default.layout.title.text.startswith("&lt;script&gt;")


# --- history --------------------------------------------------------------------------------------


def history_rows(*rows: dict[str, Any]) -> pd.DataFrame:
    base = {"ticker": "X", "source": "Yahoo Finance", "source_id": "test", "currency": "USD"}
    frame = pd.DataFrame([{**base, **r} for r in rows])
    if "observed_at" not in frame:
        frame["observed_at"] = frame["as_of"] + "T12:00:00Z"
    return conform(frame, CONSENSUS_HISTORY)


def test_history_from_the_bundle_carries_the_snapshots(bundle: Dataset) -> None:
    ford = bundle.history_for("F")
    fig = charts.history_chart(history_metrics(ford))
    targets, upsides = by_meta(fig, "target"), by_meta(fig, "upside")
    assert len(targets) == len(upsides) == ford["source"].nunique() == 1
    assert same(targets[0].y, ford["target_mean"].tolist())
    assert same(upsides[0].y, (ford["target_mean"] / ford["price"] - 1).tolist())
    assert [pd.Timestamp(x).strftime("%Y-%m-%d") for x in targets[0].x] == ford["as_of"].tolist()
    labels = label_from_rating_mean(ford["rating_mean"]).tolist()
    assert list(targets[0].marker.color) == [charts.LABEL_COLORS[label] for label in labels]
    assert targets[0].line.color == charts.SOURCE_COLORS["Yahoo Finance"]
    assert fig.layout.title.text == "F: consensus history"
    assert "Yahoo Finance" in caption(fig) and ford["as_of"].min() in caption(fig)


def test_history_prices_snapshots_without_a_price_from_a_recent_close_only(bundle: Dataset) -> None:
    nvda = bundle.history_for("NVDA")
    closes = bundle.prices_for("NVDA")
    fig = charts.history_chart(history_metrics(nvda, closes))
    upside = by_meta(fig, "upside")[0]
    last_close = closes["date"].max()
    expected = []
    for row in nvda.to_dict("records"):
        day = pd.Timestamp(row["as_of"])
        if pd.notna(row["price"]):
            expected.append(row["target_mean"] / row["price"] - 1)
        elif day - last_close <= HISTORY_CLOSE_MAX_AGE:
            close = closes.loc[closes["date"] <= day, "close"].iloc[-1]
            expected.append(row["target_mean"] / close - 1)
        else:
            expected.append(NAN)  # the bundled closes end weeks before: no upside, not a stale one
    assert same(upside.y, expected)
    assert any(math.isnan(v) for v in expected), "the bundle has snapshots without a price"


def test_history_uses_the_close_on_or_before_the_snapshot_day() -> None:
    rows = history_rows(
        {"as_of": "2026-01-05", "target_mean": 110.0, "price": 100.0, "price_as_of": "2026-01-05"},
        {"as_of": "2026-01-07", "target_mean": 121.0},  # no price of its own
    )
    prices = conform(
        pd.DataFrame(
            {"ticker": "X", "date": pd.to_datetime(["2026-01-06", "2026-01-08"]), "close": [110.0, 200.0],
             "currency": "USD", "source_id": "test"}
        ),
        PRICES,
    )  # fmt: skip
    fig = charts.history_chart(history_metrics(rows, prices))
    assert same(by_meta(fig, "upside")[0].y, [110 / 100 - 1, 121 / 110 - 1])
    assert "close of 2026-01-06" in by_meta(fig, "upside")[0].hovertext[1]
    assert "2026-01-06" in caption(fig)
    assert same(by_meta(charts.history_chart(history_metrics(rows)), "upside")[0].y, [0.1, NAN]), (
        "without prices: a gap"
    )


def test_history_writes_the_label_where_it_changes_and_keeps_gaps() -> None:
    rows = history_rows(
        {"as_of": "2026-01-05", "target_mean": 100.0, "rating_mean": 2.0},
        {"as_of": "2026-01-06", "target_mean": NAN, "rating_mean": 2.1},
        {"as_of": "2026-01-07", "target_mean": 104.0, "rating_mean": 2.7},
        {"as_of": "2026-01-08", "target_mean": 105.0, "rating_mean": 2.8},
    )
    trace = by_meta(charts.history_chart(history_metrics(rows)), "target")[0]
    assert list(trace.text) == ["Buy", "", "Hold", ""]
    assert same(trace.y, [100.0, NAN, 104.0, 105.0])
    assert list(trace.marker.color)[2] == charts.LABEL_COLORS["Hold"]


@pytest.mark.parametrize(
    "targets",
    [
        [14.851, 14.901, 14.901],  # Ford's real 0.3% revision (bundle, 2026-06-29 to 07-02)
        [100.0, 100.0],  # no change at all
        [80.0, 120.0],  # a wide move: the axis follows the data
        [0.5, 0.52],  # a penny stock
    ],
)
def test_history_target_axis_shows_the_move_in_proportion(targets: list[float]) -> None:
    days = pd.date_range("2026-01-05", periods=len(targets)).strftime("%Y-%m-%d")
    rows = history_rows(*({"as_of": d, "target_mean": t} for d, t in zip(days, targets, strict=True)))
    low_end, high_end = charts.history_chart(history_metrics(rows)).layout.yaxis.range
    low, high = min(targets), max(targets)
    assert low_end < low and high_end > high  # every marker, with room for its label
    middle = (low + high) / 2
    assert high_end - low_end >= charts.HISTORY_MIN_TARGET_SPAN * middle  # small moves look small
    assert high_end - low_end <= 2 * max(high - low, charts.HISTORY_MIN_TARGET_SPAN * middle)  # no wasted room


def test_history_draws_one_line_per_source_and_per_ticker() -> None:
    rows = pd.concat(
        [
            history_rows({"as_of": "2026-01-05", "target_mean": 10.0}, {"as_of": "2026-01-06", "target_mean": 11.0}),
            history_rows({"as_of": "2026-01-05", "target_mean": 12.0, "source": "finviz"}),
            history_rows({"as_of": "2026-01-05", "target_mean": 50.0, "ticker": "Y"}),
        ],
        ignore_index=True,
    )
    fig = charts.history_chart(history_metrics(rows))
    names = [t.name for t in by_meta(fig, "target")]
    assert names == ["X · Yahoo Finance", "X · finviz", "Y · Yahoo Finance"]
    assert fig.layout.title.text == "Consensus history"
    single = charts.history_chart(history_metrics(rows[rows["ticker"] == "X"]))
    assert [t.line.color for t in by_meta(single, "target")] == [
        charts.SOURCE_COLORS["Yahoo Finance"],
        charts.SOURCE_COLORS["finviz"],
    ]


def test_history_places_a_snapshot_without_a_day_at_its_fetch() -> None:
    rows = history_rows({"as_of": "2026", "observed_at": "2026-03-04T10:00:00Z", "target_mean": 13.87})
    trace = by_meta(charts.history_chart(history_metrics(rows)), "target")[0]
    assert [pd.Timestamp(x).strftime("%Y-%m-%d") for x in trace.x] == ["2026-03-04"]


@pytest.mark.parametrize("frame", [CONSENSUS_HISTORY.empty(), pd.DataFrame({"ticker": ["X"], "source": [None]})])
def test_an_empty_history_is_a_note(frame: pd.DataFrame) -> None:
    fig = charts.history_chart(history_metrics(frame))
    assert not by_meta(fig, "target")
    assert any("No consensus history" in n for n in notes_named(fig, "note"))
    figure_bytes(fig, "html")


def test_history_without_any_price_says_there_is_no_upside() -> None:
    fig = charts.history_chart(history_metrics(history_rows({"as_of": "2026-01-05", "target_mean": 10.0})))
    assert any("no upside" in n for n in notes_named(fig, "note"))


def test_history_escapes_what_comes_from_data() -> None:
    rows = history_rows(
        {"as_of": "2026-01-05", "target_mean": 10.0, "price": 9.0, "ticker": EVIL, "source": "<b>src</b>",
         "currency": "<i>USD</i>"}
    )  # fmt: skip
    fig = charts.history_chart(history_metrics(rows), title="<img src=x>")
    text = all_text(fig) + str(fig.layout.yaxis.title.text)
    assert "<script>" not in text and "<b>src" not in text and "<img" not in text and "<i>USD" not in text
    assert "&lt;b&gt;src&lt;/b&gt;" in text
    assert charts.history_chart(history_metrics(rows)).layout.title.text.startswith("&lt;script&gt;")
