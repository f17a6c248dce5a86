"""Chart builders: the traces carry the table's numbers, nothing silently vanishes, text is escaped."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from ratings import charts, export
from ratings.core import BAND_EDGES, LABELS, consensus_table
from ratings.dataset import Dataset
from ratings.formatting import dated, percent
from ratings.schema import CONSENSUS, CONSENSUS_HISTORY, COUNT_COLUMNS, PRICES, conform
from ratings.tickers import WATCHLIST

NAN = float("nan")
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def full_table(bundle: Dataset) -> pd.DataFrame:
    return bundle.table()


# --- frames built in code -----------------------------------------------------------------------


def make_table(*rows: dict[str, Any], prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """A CONSENSUS_TABLE computed by the real core from partial CONSENSUS rows."""
    consensus = conform(pd.DataFrame(list(rows)), CONSENSUS)
    tickers = list(dict.fromkeys(r["ticker"] for r in rows))
    return consensus_table(consensus, prices if prices is not None else PRICES.empty(), None, tickers)


def make_prices(ticker: str, closes: list[float], *, start: str = "2026-01-02", currency: str = "USD") -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "ticker": ticker,
            "date": pd.bdate_range(start, periods=len(closes)),
            "close": closes,
            "currency": currency,
            "source_id": "test",
        }
    )
    return conform(frame, PRICES)


def yahoo_row(ticker: str, price: float, mean: float, low: float, high: float, **extra: Any) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "source": "Yahoo Finance",
        "source_id": "yahoo-test",
        "as_of": "2026-07-02",
        "currency": "USD",
        "price": price,
        "price_as_of": "2026-07-02",
        "target_mean": mean,
        "target_low": low,
        "target_high": high,
        "n_analysts": 10,
        "rating_mean": 2.0,
        **extra,
    }


# --- figure helpers -------------------------------------------------------------------------------


def traces(fig: go.Figure, meta: str) -> list[Any]:
    return [t for t in fig.data if t.meta == meta]


def annotations(fig: go.Figure, name: str) -> list[Any]:
    return [a for a in fig.layout.annotations if a.name == name]


def caption_text(fig: go.Figure) -> str:
    (caption,) = annotations(fig, charts.CAPTION_NAME)
    return str(caption.text).replace("<br>", " ")


def tick_labels(axis: Any) -> list[str]:
    return [str(t).removeprefix("<b>").removesuffix("</b>") for t in axis.ticktext]


def ticker_positions(fig: go.Figure) -> dict[str, float]:
    return dict(zip(tick_labels(fig.layout.yaxis), fig.layout.yaxis.tickvals, strict=True))


def points(trace: Any) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in zip(trace.x, trace.y, strict=True)]


def row_of(table: pd.DataFrame, ticker: str, source: str) -> pd.Series:
    match = table[(table["ticker"] == ticker) & (table["source"] == source)]
    assert len(match) == 1, f"expected one {source} row for {ticker}"
    return match.iloc[0]


# --- upside_chart ---------------------------------------------------------------------------------


def test_upside_chart_lists_every_ticker_in_the_frames_order_first_at_top(
    watchlist_table: pd.DataFrame,
) -> None:
    fig = charts.upside_chart(watchlist_table)
    expected = list(dict.fromkeys(watchlist_table["ticker"]))
    assert tick_labels(fig.layout.yaxis) == expected == list(WATCHLIST)
    low_end, high_end = fig.layout.yaxis.range
    assert low_end > high_end, "the y axis is reversed so the first ticker is at the top"
    assert list(fig.layout.yaxis.tickvals) == sorted(fig.layout.yaxis.tickvals)


@pytest.mark.parametrize(
    ("ticker", "source"),
    [("F", "Yahoo Finance"), ("F", "TipRanks"), ("TSLA", "Yahoo Finance"), ("NVDA", "Yahoo Finance")],
)
def test_upside_chart_dot_is_the_tables_upside_on_the_tickers_row(
    watchlist_table: pd.DataFrame, ticker: str, source: str
) -> None:
    fig = charts.upside_chart(watchlist_table)
    row = row_of(watchlist_table, ticker, source)
    position = ticker_positions(fig)[ticker]
    (dots,) = [t for t in traces(fig, "mean") if t.name == source]
    mine = [(x, y) for (x, y), cd in zip(points(dots), dots.customdata, strict=True) if cd[0] == ticker]
    assert len(mine) == 1
    x, y = mine[0]
    assert x == pytest.approx(row["upside_mean"])
    assert abs(y - position) < 0.5, "the dot sits within its ticker's band"


def test_upside_chart_shows_both_sources_of_ford_apart(watchlist_table: pd.DataFrame) -> None:
    fig = charts.upside_chart(watchlist_table)
    with_upside = watchlist_table[(watchlist_table["ticker"] == "F") & watchlist_table["upside_mean"].notna()]
    ys = {
        y
        for trace in traces(fig, "mean")
        for (_, y), cd in zip(points(trace), trace.customdata, strict=True)
        if cd[0] == "F"
    }
    assert len(ys) == len(with_upside) == 2, "Yahoo and TipRanks are drawn at different heights"
    legend = {t.name for t in traces(fig, "mean") if t.showlegend is not False}
    assert set(with_upside["source"]) <= legend


def test_upside_chart_range_line_runs_from_low_to_high(watchlist_table: pd.DataFrame) -> None:
    fig = charts.upside_chart(watchlist_table)
    row = row_of(watchlist_table, "F", "Yahoo Finance")
    (segments,) = [t for t in traces(fig, "range") if t.name == "Yahoo Finance"]
    (dots,) = [t for t in traces(fig, "mean") if t.name == "Yahoo Finance"]
    (f_y,) = [y for (_, y), cd in zip(points(dots), dots.customdata, strict=True) if cd[0] == "F"]
    xs = [x for x, y in zip(segments.x, segments.y, strict=True) if y is not None and not math.isnan(y) and y == f_y]
    assert sorted(xs) == pytest.approx(sorted([row["upside_low"], row["upside_high"]]))


@pytest.mark.parametrize(
    ("ticker", "note"),
    [
        ("PSNY", charts.NO_TARGET_NOTE),
        ("LOT", charts.NO_TARGET_NOTE),
        ("1810.HK", charts.NO_CONSENSUS_NOTE),
        ("1211.HK", charts.NO_CONSENSUS_NOTE),
        ("BYDDF", charts.NO_CONSENSUS_NOTE),
    ],
)
def test_upside_chart_explains_tickers_without_upside(watchlist_table: pd.DataFrame, ticker: str, note: str) -> None:
    fig = charts.upside_chart(watchlist_table)
    (notes,) = traces(fig, "note")
    by_ticker = dict(zip(notes.customdata, notes.text, strict=True))
    assert note in by_ticker[ticker]
    (y,) = [y for t, y in zip(notes.customdata, notes.y, strict=True) if t == ticker]
    assert y == ticker_positions(fig)[ticker]


def test_upside_chart_notes_a_target_without_a_price() -> None:
    table = make_table(yahoo_row("NOPX", NAN, 12.0, 10.0, 14.0))
    assert table["upside_mean"].isna().all()
    fig = charts.upside_chart(table)
    (notes,) = traces(fig, "note")
    assert list(notes.customdata) == ["NOPX"]
    assert charts.NO_PRICE_NOTE in notes.text[0]


def test_upside_chart_marks_zero_and_formats_percent(watchlist_table: pd.DataFrame) -> None:
    fig = charts.upside_chart(watchlist_table)
    assert any(s.type == "line" and s.x0 == 0 and s.x1 == 0 for s in fig.layout.shapes)
    assert "%" in fig.layout.xaxis.tickformat
    lo, hi = fig.layout.xaxis.range
    finite = watchlist_table[["upside_low", "upside_mean", "upside_high"]].to_numpy(float).ravel()
    finite = finite[~np.isnan(finite)]
    assert lo <= min(0.0, finite.min()) and hi >= max(0.0, finite.max()), "every dot and line is in view"


@pytest.mark.parametrize(
    "table",
    [
        pytest.param(pd.DataFrame(), id="empty frame"),
        pytest.param(make_table({"ticker": "AAA"}, {"ticker": "BBB"}), id="no consensus at all"),
        pytest.param(
            make_table(yahoo_row("AAA", NAN, 1.0, 1.0, 1.0), yahoo_row("BBB", 0.0, 2, 1, 3)),
            id="all-NaN upside",
        ),
        pytest.param(make_table(yahoo_row("ONE", 10.0, 12.0, 9.0, 15.0)), id="one row"),
    ],
)
def test_upside_chart_edge_frames(table: pd.DataFrame) -> None:
    fig = charts.upside_chart(table)
    assert isinstance(fig, go.Figure)
    known = table if not table.empty else pd.DataFrame({"ticker": [], "upside_mean": []})
    tickers = list(dict.fromkeys(known["ticker"]))
    assert tick_labels(fig.layout.yaxis) == tickers
    plotted = [xy for trace in traces(fig, "mean") for xy in points(trace)]
    assert [x for x, _ in plotted] == pytest.approx(known["upside_mean"].dropna().tolist())
    noted = list(traces(fig, "note")[0].customdata) if traces(fig, "note") else []
    assert sorted(noted) == sorted(set(tickers) - set(known.loc[known["upside_mean"].notna(), "ticker"]))
    assert all(np.isfinite(fig.layout.xaxis.range))


def test_upside_chart_title_is_escaped() -> None:
    fig = charts.upside_chart(make_table(yahoo_row("ONE", 10.0, 12.0, 9.0, 15.0)), title=EVIL)
    assert fig.layout.title.text == "&lt;script&gt;alert(1)&lt;/script&gt;"


# --- price_target_chart ---------------------------------------------------------------------------


def test_price_chart_draws_the_price_history(bundle: Dataset, watchlist_table: pd.DataFrame) -> None:
    prices = bundle.prices_for("F")
    fig = charts.price_target_chart(watchlist_table, prices=prices, ticker="F")
    (close,) = traces(fig, "close")
    assert list(close.y) == pytest.approx(prices.sort_values("date")["close"].tolist())
    assert prices["currency"].iloc[0] in fig.layout.yaxis.title.text


def test_price_chart_marks_dated_targets_at_their_as_of(bundle: Dataset, watchlist_table: pd.DataFrame) -> None:
    fig = charts.price_target_chart(watchlist_table, prices=bundle.prices_for("F"), ticker="F")
    row = row_of(watchlist_table, "F", "Yahoo Finance")
    (markers,) = traces(fig, "targets")
    assert "Yahoo Finance" in markers.name
    by_kind = dict(zip(markers.customdata, markers.y, strict=True))
    assert by_kind == pytest.approx({"low": row["target_low"], "mean": row["target_mean"], "high": row["target_high"]})
    assert {pd.Timestamp(x) for x in markers.x} == {pd.Timestamp(row["as_of"])}


def test_price_chart_draws_a_year_only_target_as_a_dotted_line(bundle: Dataset, watchlist_table: pd.DataFrame) -> None:
    fig = charts.price_target_chart(watchlist_table, prices=bundle.prices_for("F"), ticker="F")
    row = row_of(watchlist_table, "F", "TipRanks")
    (line,) = traces(fig, "vague_mean")
    assert line.name == f"TipRanks mean target ({row['as_of']}, no day given)"
    assert line.line.dash == "dot"
    assert list(line.y) == pytest.approx([row["target_mean"]] * 2)
    assert not [t for t in traces(fig, "targets") if "TipRanks" in t.name], "no invented day for TipRanks"


def test_price_chart_history_is_a_step_line(bundle: Dataset, watchlist_table: pd.DataFrame) -> None:
    history = bundle.history_for("TSLA")
    fig = charts.price_target_chart(watchlist_table, prices=bundle.prices_for("TSLA"), history=history, ticker="TSLA")
    (step,) = traces(fig, "history")
    assert step.line.shape == "hv"
    assert list(step.y) == pytest.approx(history.sort_values("as_of")["target_mean"].tolist())
    assert [pd.Timestamp(x) for x in step.x] == list(pd.to_datetime(history.sort_values("as_of")["as_of"]))


def test_price_chart_ignores_other_tickers_in_history(bundle: Dataset, watchlist_table: pd.DataFrame) -> None:
    fig = charts.price_target_chart(watchlist_table, prices=bundle.prices_for("F"), history=bundle.history, ticker="F")
    (step,) = traces(fig, "history")
    assert list(step.y) == pytest.approx(bundle.history_for("F")["target_mean"].tolist())


def test_price_chart_without_prices_still_shows_targets(watchlist_table: pd.DataFrame) -> None:
    fig = charts.price_target_chart(watchlist_table, prices=PRICES.empty(), ticker="F")
    assert not traces(fig, "close")
    assert traces(fig, "targets") and traces(fig, "vague_mean")
    assert any("No price history" in a.text for a in annotations(fig, "note"))


def test_price_chart_without_targets_is_the_price_line_and_a_note(
    bundle: Dataset, watchlist_table: pd.DataFrame
) -> None:
    prices = bundle.prices_for("1810.HK")
    fig = charts.price_target_chart(watchlist_table, prices=prices, ticker="1810.HK")
    assert [t.meta for t in fig.data] == ["close"]
    assert any("No price target" in a.text for a in annotations(fig, "note"))
    assert prices["currency"].iloc[0] in fig.layout.yaxis.title.text


def test_price_chart_with_nothing_at_all() -> None:
    fig = charts.price_target_chart(pd.DataFrame(), prices=PRICES.empty(), ticker="ZZZ")
    assert not fig.data
    notes = " ".join(a.text for a in annotations(fig, "note"))
    assert "No price history" in notes and "No price target" in notes


def test_price_chart_year_only_target_without_prices_spans_its_year() -> None:
    table = make_table({"ticker": "Y", "source": "TipRanks", "source_id": "t", "as_of": "2026", "target_mean": 9.0})
    fig = charts.price_target_chart(table, prices=PRICES.empty(), ticker="Y")
    (line,) = traces(fig, "vague_mean")
    start, end = (pd.Timestamp(x) for x in line.x)
    assert (start.year, end.year) == (2026, 2026) and start < end


@pytest.mark.parametrize(
    ("as_of", "label"),
    [("2026", "(2026, no day given)"), ("2026-07", "(2026-07, no day given)"), (None, "(no date given)")],
)
def test_price_chart_labels_a_target_without_a_day(as_of: str | None, label: str) -> None:
    prices = make_prices("Y", [10.0, 11.0, 12.0])
    table = make_table({"ticker": "Y", "source": "TipRanks", "source_id": "t", "as_of": as_of, "target_mean": 13.0})
    fig = charts.price_target_chart(table, prices=prices, ticker="Y")
    (line,) = traces(fig, "vague_mean")
    assert line.name == f"TipRanks mean target {label}"
    assert [pd.Timestamp(x) for x in line.x] == [prices["date"].min(), prices["date"].max()]


def test_price_chart_leaves_out_targets_in_another_currency() -> None:
    prices = make_prices("X", [10.0, 11.0], currency="USD")
    table = make_table(yahoo_row("X", NAN, 12.0, 10.0, 14.0, currency="EUR"))
    fig = charts.price_target_chart(table, prices=prices, ticker="X")
    assert not traces(fig, "targets")
    assert any("EUR" in a.text for a in annotations(fig, "note"))


# --- rating_breakdown_chart -----------------------------------------------------------------------


def test_rating_breakdown_counts_are_the_tables(watchlist_table: pd.DataFrame) -> None:
    ford = watchlist_table[watchlist_table["ticker"] == "F"]
    fig = charts.rating_breakdown_chart(ford)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    counted = ford[ford[list(COUNT_COLUMNS)].notna().any(axis=1)]
    assert len(counted) == 1, "only TipRanks gives counts for F"
    row = counted.iloc[0]
    reported = [c for c in COUNT_COLUMNS if pd.notna(row[c])]
    assert [b.meta for b in bars] == reported, "a count the source does not report is left out, not 0"
    for bar in bars:
        assert list(bar.x) == [row[bar.meta]]
        assert row["source"] in bar.y[0]


def test_rating_breakdown_puts_every_rating_mean_on_the_scale(watchlist_table: pd.DataFrame) -> None:
    ford = watchlist_table[watchlist_table["ticker"] == "F"]
    fig = charts.rating_breakdown_chart(ford)
    (scale,) = traces(fig, "rating_mean")
    rated = ford[ford["rating_mean"].notna()]
    assert list(scale.x) == pytest.approx(rated["rating_mean"].tolist())
    for label, source, as_of in zip(scale.y, rated["source"], rated["as_of"], strict=True):
        assert source in label and dated(as_of) in label


def test_rating_breakdown_shades_the_label_bands(watchlist_table: pd.DataFrame) -> None:
    fig = charts.rating_breakdown_chart(watchlist_table[watchlist_table["ticker"] == "F"])
    bands = [(s.x0, s.x1) for s in fig.layout.shapes if s.type == "rect"]
    assert bands == list(itertools.pairwise(BAND_EDGES))
    assert [a.text for a in annotations(fig, "band_label")] == list(LABELS)


@pytest.mark.parametrize("ticker", ["PSNY", "LOT", "TSLA"])
def test_rating_breakdown_rating_only_sources(watchlist_table: pd.DataFrame, ticker: str) -> None:
    rows = watchlist_table[watchlist_table["ticker"] == ticker]
    fig = charts.rating_breakdown_chart(rows)
    assert not [t for t in fig.data if isinstance(t, go.Bar)]
    (scale,) = traces(fig, "rating_mean")
    assert list(scale.x) == pytest.approx(rows["rating_mean"].dropna().tolist())
    assert fig.layout.title.text.startswith(ticker)


@pytest.mark.parametrize(
    "table",
    [
        pytest.param(pd.DataFrame(), id="empty frame"),
        pytest.param(make_table({"ticker": "1810.HK"}), id="no consensus"),
    ],
)
def test_rating_breakdown_without_ratings(table: pd.DataFrame) -> None:
    fig = charts.rating_breakdown_chart(table)
    assert isinstance(fig, go.Figure)
    assert not fig.data
    assert any("No rating" in a.text for a in annotations(fig, "note"))


# --- top_bottom_chart -----------------------------------------------------------------------------


def ladder(n_rows: int, *, without_price: int | None = 7) -> pd.DataFrame:
    """Tickers T00.. with upsides spread from -50% to +100% and distinct dispersions.

    Every `without_price`-th ticker (from the fourth) has no price, hence no upside.
    """
    rows = []
    for i in range(n_rows):
        price = NAN if without_price and i % without_price == 3 else 10.0
        target = 5.0 + 15.0 * i / max(n_rows - 1, 1)
        rows.append(yahoo_row(f"T{i:02d}", price, target, target * 0.8, target * (1.1 + 0.03 * ((i * 7) % n_rows))))
    return make_table(*rows)


@pytest.mark.parametrize("n", [1, 3, 5])
@pytest.mark.parametrize("metric", ["upside_mean", "upside_high", "target_dispersion", "target_mean"])
def test_top_bottom_are_the_n_highest_and_lowest(n: int, metric: str) -> None:
    table = ladder(30)
    fig = charts.top_bottom_chart(table, n=n, metric=metric)
    values = table[metric].dropna().sort_values(ascending=False, kind="stable")
    assert values.is_unique, "the ladder has no ties, so the order is well defined"
    top, bottom = fig.data
    assert top.name == f"Highest {n}" and bottom.name == f"Lowest {n}"
    assert list(top.x) == pytest.approx(values.head(n).tolist())
    assert list(bottom.x) == pytest.approx(values.tail(n).tolist())
    shown = tick_labels(fig.layout.yaxis)
    assert shown == [*table.loc[values.head(n).index, "ticker"], *table.loc[values.tail(n).index, "ticker"]]


def test_top_bottom_uses_primary_rows_only(watchlist_table: pd.DataFrame) -> None:
    fig = charts.top_bottom_chart(watchlist_table, n=10)
    primary = watchlist_table[watchlist_table["is_primary"] & watchlist_table["upside_mean"].notna()]
    (only,) = fig.data
    assert sorted(only.x) == pytest.approx(sorted(primary["upside_mean"]))
    assert sorted(tick_labels(fig.layout.yaxis)) == sorted(primary["ticker"])


def test_top_bottom_with_few_rows_shows_each_once() -> None:
    table = ladder(6, without_price=None)
    fig = charts.top_bottom_chart(table, n=5)
    (only,) = fig.data
    assert list(only.x) == pytest.approx(table["upside_mean"].sort_values(ascending=False).tolist())


@pytest.mark.parametrize("table", [pd.DataFrame(), make_table({"ticker": "A"})], ids=["empty", "all NaN"])
def test_top_bottom_without_values(table: pd.DataFrame) -> None:
    fig = charts.top_bottom_chart(table)
    assert all(len(t.x) == 0 for t in fig.data)
    assert annotations(fig, "note")


@pytest.mark.parametrize(("kwargs", "message"), [({"metric": "nope"}, "nope"), ({"n": 0}, "n must")])
def test_top_bottom_rejects_bad_options(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        charts.top_bottom_chart(ladder(5), **kwargs)


# --- upside_scatter -------------------------------------------------------------------------------


def test_scatter_has_one_trace_per_label_and_every_usable_row(full_table: pd.DataFrame) -> None:
    start = time.perf_counter()
    fig = charts.upside_scatter(full_table)
    elapsed = time.perf_counter() - start
    usable = full_table[full_table["upside_mean"].notna() & full_table["n_analysts"].notna()]
    assert len(usable) > 2000
    labels = usable["consensus"].astype(object).where(usable["consensus"].notna(), charts.NO_LABEL)
    assert sorted(t.meta for t in fig.data) == sorted(set(labels)), "one trace per colour, not per point"
    assert len(fig.data) <= len(LABELS) + 1
    assert sum(len(t.x) for t in fig.data) == len(usable)
    for trace in fig.data:
        expected = usable[labels == trace.meta]
        assert sorted(trace.y) == pytest.approx(sorted(expected["upside_mean"]))
    assert elapsed < 3, f"{len(full_table)} rows took {elapsed:.1f}s"


@pytest.mark.parametrize("x", ["n_analysts", "target_dispersion"])
def test_scatter_point_of_ford_carries_its_values(watchlist_table: pd.DataFrame, x: str) -> None:
    fig = charts.upside_scatter(watchlist_table, x=x)
    row = row_of(watchlist_table, "F", "Yahoo Finance")
    found = [
        (px, py, cd)
        for trace in fig.data
        for px, py, cd in zip(trace.x, trace.y, trace.customdata, strict=True)
        if cd[0] == "F" and cd[3] == "Yahoo Finance"
    ]
    assert len(found) == 1
    px, py, cd = found[0]
    assert (px, py) == pytest.approx((float(row[x]), row["upside_mean"]))
    assert cd[1] == row["name"] and cd[2] == row["consensus"]
    template = fig.data[0].hovertemplate
    assert all(f"customdata[{i}]" in template for i in range(3)) and "%{y" in template and "%{x" in template


def test_scatter_colour_by_another_column(full_table: pd.DataFrame, bundle: Dataset) -> None:
    with_sector = full_table.merge(bundle.universe[["ticker", "sector"]], on="ticker", how="left")
    fig = charts.upside_scatter(with_sector, color="sector")
    usable = with_sector[with_sector["upside_mean"].notna() & with_sector["n_analysts"].notna()]
    expected = set(usable["sector"].astype(object).where(usable["sector"].notna(), charts.NO_LABEL))
    assert {t.meta for t in fig.data} == expected


def test_scatter_numeric_colour_is_one_trace_with_a_scale(watchlist_table: pd.DataFrame) -> None:
    fig = charts.upside_scatter(watchlist_table, color="rating_mean")
    (trace,) = fig.data
    assert trace.marker.showscale


@pytest.mark.parametrize("table", [pd.DataFrame(), make_table({"ticker": "A"})], ids=["empty", "all NaN"])
def test_scatter_without_points(table: pd.DataFrame) -> None:
    fig = charts.upside_scatter(table)
    assert not fig.data
    assert annotations(fig, "note")


def test_scatter_rejects_an_unknown_colour_column(watchlist_table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="nope"):
        charts.upside_scatter(watchlist_table, color="nope")


# --- captions and escaping ------------------------------------------------------------------------


def test_caption_names_each_source_with_its_date(watchlist_table: pd.DataFrame) -> None:
    caption = charts.source_caption(watchlist_table)
    assert caption.startswith("Sources: ")
    for source, as_of in watchlist_table[["source", "as_of"]].dropna().drop_duplicates().itertuples(index=False):
        assert source in caption
        expected = as_of if len(as_of) == 10 else f"{as_of}, no day given"
        assert expected in caption.split(f"{source} (", 1)[1].split(")", 1)[0]  # one date, or within a range
    assert "target / price − 1" in caption


def test_caption_says_which_close_priced_a_source_without_price(watchlist_table: pd.DataFrame) -> None:
    tipranks = row_of(watchlist_table, "F", "TipRanks")
    assert tipranks["price_source"] == "close"
    assert f"TipRanks {tipranks['price_as_of']}" in charts.source_caption(watchlist_table)


def test_caption_spans_several_dates_of_one_source() -> None:
    table = make_table(yahoo_row("A", 10, 11, 9, 12, as_of="2026-06-29"), yahoo_row("B", 10, 11, 9, 12))
    assert "Yahoo Finance (as of 2026-06-29 to 2026-07-02)" in charts.source_caption(table)


@pytest.mark.parametrize("table", [pd.DataFrame(), make_table({"ticker": "A"})], ids=["empty", "no consensus"])
def test_caption_without_sources(table: pd.DataFrame) -> None:
    assert "no consensus in the data" in charts.source_caption(table)


def all_figures(bundle: Dataset, table: pd.DataFrame) -> dict[str, go.Figure]:
    ticker = str(table["ticker"].iloc[0])
    return {
        "upside": charts.upside_chart(table),
        "price": charts.price_target_chart(
            table, prices=bundle.prices_for(ticker), history=bundle.history, ticker=ticker
        ),
        "ratings": charts.rating_breakdown_chart(table[table["ticker"] == ticker]),
        "top_bottom": charts.top_bottom_chart(table),
        "scatter": charts.upside_scatter(table),
    }


def test_every_figure_carries_the_caption(bundle: Dataset, watchlist_table: pd.DataFrame) -> None:
    ford = watchlist_table[watchlist_table["ticker"] == "F"]
    with_upside = ford[ford["upside_mean"].notna()]
    # Each caption names the sources of the rows its chart draws from.
    drawn = {
        "upside": ford,
        "price": ford,
        "ratings": ford,
        "top_bottom": with_upside[with_upside["is_primary"]],
        "scatter": with_upside,
    }
    for kind, fig in all_figures(bundle, ford).items():
        text = caption_text(fig)
        assert text.startswith("Sources: ")
        for source, as_of in drawn[kind][["source", "as_of"]].itertuples(index=False):
            assert source in text, f"{kind} caption lacks {source}"
            assert as_of in text, f"{kind} caption lacks {source}'s date {as_of}"
        for source in set(ford["source"]) - set(drawn[kind]["source"]):
            assert source not in text, f"{kind} caption names {source}, which it does not draw"


@pytest.mark.parametrize("kind", ["upside", "price", "ratings", "top_bottom", "scatter"])
def test_the_screen_version_leaves_title_and_sources_to_the_page(
    bundle: Dataset, watchlist_table: pd.DataFrame, kind: str
) -> None:
    fig = all_figures(bundle, watchlist_table)[kind]
    screen = charts.for_screen(fig)
    assert annotations(fig, charts.CAPTION_NAME), "the exported figure keeps its source caption"
    assert not annotations(screen, charts.CAPTION_NAME) and not screen.layout.title.text
    assert screen.layout.height < fig.layout.height, "the room of title and caption is given back"
    assert len(screen.data) == len(fig.data) and fig.layout.title.text, "the figure itself is not changed"


def test_the_text_alternative_names_the_chart_and_what_it_shows(watchlist_table: pd.DataFrame) -> None:
    with_upside = watchlist_table[watchlist_table["upside_mean"].notna()]
    top = with_upside.loc[with_upside["upside_mean"].idxmax()]
    bottom = with_upside.loc[with_upside["upside_mean"].idxmin()]
    alt = charts.alt_text(charts.upside_chart(watchlist_table))
    assert alt.startswith("Implied upside to analyst price targets. ")
    assert f"highest {top['ticker']} {percent(top['upside_mean'])}" in alt
    assert f"lowest {bottom['ticker']} {percent(bottom['upside_mean'])}" in alt
    tickers = watchlist_table["ticker"].nunique()
    without = tickers - with_upside["ticker"].nunique()
    assert f"of {tickers} tickers" in alt and f"{without} without an upside" in alt


def test_the_text_alternative_is_plain_text_from_escaped_data() -> None:
    table = make_table(yahoo_row("<b>X</b>", 10, 12, 8, 14))
    alt = charts.alt_text(charts.upside_chart(table))
    assert "highest <b>X</b> +20.0%" in alt  # the data's own text, literally (the page escapes it as text)


def strings_in(value: Any) -> Any:
    """Every string in a figure's dict (not its JSON, which writes '<' as \\u003c anyway)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple | np.ndarray):
        for item in value:
            yield from strings_in(item)


BUILDERS: dict[str, Callable[[pd.DataFrame], go.Figure]] = {
    "upside": charts.upside_chart,
    "price": lambda t: charts.price_target_chart(t, prices=make_prices(EVIL, [10.0, 11.0]), ticker=EVIL),
    "ratings": charts.rating_breakdown_chart,
    "top_bottom": charts.top_bottom_chart,
    "scatter": charts.upside_scatter,
}


@pytest.mark.parametrize("builder", list(BUILDERS), ids=list(BUILDERS))
@pytest.mark.parametrize("field", ["name", "source", "ticker"])
def test_text_from_data_is_escaped(builder: str, field: str) -> None:
    row = yahoo_row("EVIL", 10.0, 12.0, 9.0, 15.0, source="Yahoo Finance")
    table = make_table(row)
    table[field] = EVIL
    if builder == "price" and field != "ticker":
        table["ticker"] = EVIL  # the price chart shows one ticker's rows
    fig = BUILDERS[builder](table)
    texts = list(strings_in(fig.to_dict()))
    assert not [t for t in texts if "<script" in t]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in t for t in texts)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("Macy's", "Macy&#39;s"),
        ('Say "hi"', "Say &#34;hi&#34;"),
        ("AT&T", "AT&amp;T"),
        ("<b>", "&lt;b&gt;"),
        (None, "—"),
        (NAN, "—"),
        ("1810.HK", "1810.HK"),
        ("Tip %{x} Ranks", "Tip %&#123;x} Ranks"),  # plotly.js fills %{...} even in titles and annotations
        ("Tip\u202eRanks", "TipRanks"),  # a direction override would reverse the rest of the line
        ("a\u2066b\u2069c\u200f", "abc"),
    ],
)
def test_escape_uses_entities_plotly_decodes(raw: Any, escaped: str) -> None:
    # plotly decodes numeric entities and &amp; &lt; &gt;, but shows &quot; literally.
    assert charts.escape(raw) == escaped


@pytest.mark.browser
def test_a_placeholder_in_a_name_is_drawn_literally(bundle: Dataset) -> None:
    if not export.static_export_available():
        pytest.skip("no Chrome or Chromium for SVG export")
    fig = charts.upside_chart(bundle.table(["F"]).assign(source="Tip %{x} Ranks"))
    assert "Tip %{x} Ranks" in export.figure_bytes(fig, "svg").decode("utf-8")


def test_upside_chart_treats_an_infinite_upside_as_none() -> None:
    table = make_table(yahoo_row("A", 10, 12, 9, 15), yahoo_row("B", 10, 11, 9, 12))
    table.loc[table["ticker"] == "A", ["upside_mean", "upside_high"]] = np.inf
    fig = charts.upside_chart(table)
    assert all(np.isfinite(fig.layout.xaxis.range))
    xs = [x for t in fig.data for x in (t.x if t.x is not None else []) if isinstance(x, int | float)]
    assert not any(np.isinf(xs))  # nothing drawn at infinity
    (b_mean,) = [x for t in traces(fig, "mean") for x in t.x]  # only B keeps a mean-target dot
    assert b_mean == pytest.approx(11 / 10 - 1)


def test_rating_breakdown_of_a_csv_contract_frame(bundle: Dataset) -> None:
    # The public CSV columns carry no rating_basis: the chart still draws, as the source reported it.
    fig = charts.rating_breakdown_chart(export.contract_frame(bundle.table(["F"])))
    (scale,) = traces(fig, "rating_mean")
    assert set(scale.customdata) == {"as the source reports it"}


def test_top_bottom_of_all_zero_values_has_an_axis_from_zero() -> None:
    rows = [yahoo_row(t, 10, 12, 12, 12) for t in ("A", "B", "C")]  # one analyst each: no dispersion
    fig = charts.top_bottom_chart(make_table(*rows), metric="target_dispersion")
    low, high = fig.layout.xaxis.range
    assert low == 0 and high > 0


def test_targets_in_two_currencies_without_closes_are_not_drawn_on_one_axis() -> None:
    table = make_table(
        {**yahoo_row("X", 100, 150, 140, 160), "currency": "HKD"},
        {**yahoo_row("X", 13, 19, 18, 20), "source": "TipRanks", "source_id": "t", "currency": "USD"},
    )
    fig = charts.price_target_chart(table, prices=PRICES.empty(), ticker="X")
    drawn = [y for t in traces(fig, "targets") for y in t.y]
    assert drawn and (max(drawn) < 50 or min(drawn) > 50)  # one currency's targets only
    assert any("not drawn against" in a.text for a in annotations(fig, "note"))


def test_history_frame_may_be_empty_or_foreign(bundle: Dataset, watchlist_table: pd.DataFrame) -> None:
    for history in (CONSENSUS_HISTORY.empty(), bundle.history_for("NVDA")):
        fig = charts.price_target_chart(watchlist_table, prices=bundle.prices_for("F"), history=history, ticker="F")
        assert not traces(fig, "history")


def test_top_bottom_writes_a_negative_value_right_of_zero_not_into_the_ticker_names() -> None:
    rows = [yahoo_row("UP", 10.0, 13.0, 9.0, 14.0), yahoo_row("DOWN", 10.0, 8.0, 7.0, 9.0)]
    fig = charts.top_bottom_chart(make_table(*rows), n=5)
    (bars,) = fig.data
    labels = {round(a.y): a for a in annotations(fig, "value_label")}
    positions = ticker_positions(fig)
    assert list(bars.text) == [percent(0.3), ""], "the positive bar's own label; none on the negative bar"
    assert set(labels) == {positions["DOWN"]}
    down = labels[positions["DOWN"]]
    assert (down.text, down.x, down.xanchor) == (percent(-0.2), 0, "left")
