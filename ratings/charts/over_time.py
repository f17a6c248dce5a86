"""Charts of a ticker over time: Yahoo's recommendation trend by month, and the consensus history.

:func:`trend_chart` takes a ``TREND`` frame as the loaders deliver it; :func:`history_chart` the
snapshots as :func:`ratings.core.history_metrics` made them (labelled, priced, each with its day).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ..core import HISTORY_CLOSE_MAX_AGE, LABELS
from ..formatting import count, counts_text, dated, money, percent, utc_minute
from ..schema import COUNT_COLUMNS
from . import style
from .style import LABEL_COLORS, NO_LABEL, NO_LABEL_COLOR, NOTE_COLOR, SPARE_COLORS, escape

TREND_SOURCE = "Yahoo Finance"  # the recommendation trend is Yahoo's (schema TREND)


def _latest_trend(trend: pd.DataFrame) -> pd.DataFrame:
    """Each ticker's trend from its latest fetch, months in calendar order (Yahoo's periods as fallback)."""
    rows = trend[trend["ticker"].notna() & trend["observed_at"].notna()]
    latest = rows.groupby("ticker")["observed_at"].transform("max")
    rows = rows[rows["observed_at"] == latest].copy()
    # '-3m' < '-2m' < '-1m' < '0m': the period's number orders months when the month is unknown.
    rows["_period"] = pd.to_numeric(rows["period"].str.extract(r"^([+-]?\d+)m$")[0], errors="coerce")
    rows["_month"] = rows["month"].fillna(rows["period"])
    order = style.ticker_order(rows["ticker"])
    rows["_ticker"] = rows["ticker"].map({t: i for i, t in enumerate(order)})
    return rows.sort_values(["_ticker", "month", "_period"], na_position="last", kind="stable")


def _month_text(month: Any) -> str:
    """'2026-11' -> 'Nov 2026'; anything else (a period such as '-1m') escaped as it is."""
    text = str(month)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return pd.Period(text, freq="M").strftime("%b %Y")
    return escape(text)


def trend_chart(trend: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Yahoo's recommendation trend: Strong Buy..Strong Sell counts per month as stacked bars.

    Uses each ticker's latest fetch (the trend is refetched every time; older fetches repeat
    months). Months run left to right in calendar order, colours are the label colours of the
    other charts, and a count Yahoo did not give stays a gap, never a zero. Several tickers share
    the axis, grouped by ticker.
    """
    rows = _latest_trend(trend)
    tickers = style.ticker_order(rows["ticker"])
    several = len(tickers) > 1
    months = [_month_text(m) for m in rows["_month"]]
    x: Any = [[escape(t) for t in rows["ticker"]], months] if several else months

    totals = rows[list(COUNT_COLUMNS)].astype("Float64").sum(axis=1, min_count=1)
    # A segment too thin for its number shows none (the hover still has it), not a tiny rotated one.
    smallest_labelled = 0.06 * float(totals.max()) if totals.notna().any() else 0.0
    fig = go.Figure()
    for column, label in zip(COUNT_COLUMNS, LABELS, strict=True):
        values = rows[column].astype("Float64")
        if values.isna().all():
            continue
        fig.add_trace(
            go.Bar(
                x=x,
                y=values.astype(float).to_numpy(),
                name=label,
                marker=dict(color=LABEL_COLORS[label], line=dict(color="white", width=1)),
                text=[count(v) if pd.notna(v) and v > 0 and v >= smallest_labelled else "" for v in values],
                textposition="inside",
                textangle=0,
                insidetextanchor="middle",
                customdata=[escape(t) for t in rows["ticker"]],
                hovertemplate="%{customdata} · %{x}<br>%{y} " + label + "<extra></extra>",
                meta=column,
            )
        )
    if totals.notna().any():
        fig.add_trace(
            go.Scatter(
                x=x,
                y=totals.astype(float).to_numpy(),
                mode="text",
                text=[f"{count(v)} analysts" if pd.notna(v) else "" for v in totals],
                textposition="top center",
                textfont=dict(color=NOTE_COLOR, size=11),
                hoverinfo="skip",
                showlegend=False,
                name="total",
                meta="total",
            )
        )
        fig.update_yaxes(range=[0, float(totals.max()) * 1.15 + 1])
    else:
        style.add_note(fig, "No recommendation trend in the data" + (f" for {escape(tickers[0])}" if tickers else ""))
    fig.update_layout(barmode="stack", bargap=0.3, legend_traceorder="normal")
    fig.update_xaxes(type="multicategory" if several else "category", title_text=None)
    fig.update_yaxes(title_text="Analysts", rangemode="tozero", visible=bool(fig.data))

    fetched = sorted({utc_minute(v) for v in rows["observed_at"].dropna()})
    when = f"fetched {' to '.join(dict.fromkeys([fetched[0], fetched[-1]]))}" if fetched else "no fetch"
    caption = (
        f"Source: {TREND_SOURCE} recommendation trend ({when}); each month counts the analysts' latest "
        "ratings that month, as Yahoo reports them."
    )
    heading = style.chart_title(title, tickers, "analyst recommendations by month")
    subtitle = "Strong Buy to Strong Sell, stacked; the latest fetch of each ticker"
    return style.finish(
        fig, title=heading, subtitle=subtitle, caption=caption, height=320, summary=_trend_summary(rows)
    )


def _trend_summary(rows: pd.DataFrame) -> str:
    """'AAPL, Feb 2025: 7 Strong Buy · 21 Buy · 14 Hold · 2 Sell · 2 Strong Sell (4 months shown).'"""
    if rows.empty:
        return "No recommendation trend in the data."
    said = []
    for ticker, group in rows.groupby("ticker", sort=False):
        latest = group.to_dict("records")[-1]
        month = style.plain(_month_text(latest["_month"]))
        said.append(f"{ticker}, {month}: {counts_text(latest) or 'no counts'} ({len(group)} months shown)")
    return "; ".join(said) + "."


def _placed(metrics: pd.DataFrame) -> pd.DataFrame:
    """The snapshots of `metrics` that have a ticker, a source and a day, in drawing order (day as ``_day``)."""
    rows = metrics[metrics["ticker"].notna() & metrics["source"].notna() & metrics["day"].notna()]
    return rows.rename(columns={"day": "_day"}).sort_values(["ticker", "source", "_day"], kind="stable")


#: The least span of the history chart's target axis, as a fraction of the target's level.
HISTORY_MIN_TARGET_SPAN = 0.1


def history_chart(metrics: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The consensus over time: the mean target (top) and the implied upside (bottom), one line per source.

    `metrics` is :func:`ratings.core.history_metrics` of the snapshots: each has its label, its
    upside and the day it is placed at (its as-of day, or the day it was fetched when the source
    gives no day). Each snapshot is a marker coloured by its consensus label, and the label is
    written where it changes (and at the first snapshot). An unknown upside is a gap.
    """
    rows = _placed(metrics)
    tickers = style.ticker_order(rows["ticker"])
    several = len(tickers) > 1
    fig = style.stacked_subplots(
        ["Mean price target", "Implied upside (mean target / price − 1)"],
        shared_xaxes=True,
        row_heights=[0.6, 0.4],
        vertical_spacing=0.12,
    )

    colors = style.source_colors(rows["source"].astype(str))
    spare = iter(SPARE_COLORS * 4)
    for (ticker, source), group in rows.groupby(["ticker", "source"], sort=False):
        color = colors[str(source)] if not several else next(spare, colors[str(source)])
        name = f"{escape(ticker)} · {escape(source)}" if several else escape(source)
        labels = [v if isinstance(v, str) else NO_LABEL for v in group["consensus"].astype(object)]
        changed = [i == 0 or label != labels[i - 1] for i, label in enumerate(labels)]
        marker_colors = [LABEL_COLORS.get(label, NO_LABEL_COLOR) for label in labels]
        hover = [_history_hover(r) for r in group.to_dict("records")]
        # The target (top) and the upside (bottom) of one line: one legend entry, the same hover.
        shared = dict(
            x=group["_day"], name=name, legendgroup=name, hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"
        )
        fig.add_trace(
            go.Scatter(
                **shared,
                y=group["target_mean"].to_numpy(float),
                mode="lines+markers+text",
                line=dict(color=color, width=2),
                marker=dict(color=marker_colors, size=10, line=dict(color=color, width=2)),
                text=[escape(label) if first else "" for label, first in zip(labels, changed, strict=True)],
                textposition="top center",
                textfont=dict(size=11, color=NOTE_COLOR),
                meta="target",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                **shared,
                y=group["upside_mean"].to_numpy(float),
                mode="lines+markers",
                line=dict(color=color, width=2, dash="dot"),
                marker=dict(color=marker_colors, size=8, line=dict(color=color, width=1)),
                showlegend=False,
                meta="upside",
            ),
            row=2,
            col=1,
        )

    if rows.empty:
        style.add_note(fig, "No consensus history in the data" + (f" for {escape(title)}" if title else ""))
    elif rows["upside_mean"].isna().all():
        style.add_note(fig, "No price for these snapshots, so no upside", xref="x2 domain", yref="y2 domain", size=13)
    currencies = rows["currency"].dropna().unique()
    fig.update_yaxes(
        title_text=f"Target ({escape(currencies[0])})" if len(currencies) == 1 else "Target",
        tickformat=",.2f",
        row=1,
        col=1,
    )
    upsides = rows["upside_mean"].dropna()
    narrow = not upsides.empty and float(upsides.max() - upsides.min()) < 0.05  # whole percents would repeat
    fig.update_yaxes(tickformat="+.1%" if narrow else "+.0%", zeroline=True, zerolinecolor="#444", row=2, col=1)
    fig.update_xaxes(type="date", visible=not rows.empty)
    fig.update_yaxes(visible=not rows.empty)
    if not rows.empty:
        first, last = rows["_day"].min(), rows["_day"].max()
        pad = max((last - first) * 0.05, pd.Timedelta(days=1))
        fig.update_xaxes(range=[first - pad, last + pad])
        if last - first <= pd.Timedelta(days=21):  # days, not plotly's hours, on a short history
            fig.update_xaxes(dtick=24 * 3600 * 1000, tickformat="%b %-d")
        known = rows["target_mean"].dropna()
        if not known.empty:
            low, high = float(known.min()), float(known.max())
            # At least a tenth of the level in view, so that a 0.3% revision does not fill the chart; then
            # room above the highest and below the lowest marker for the label written beside it.
            middle = (low + high) / 2
            half = max(high - low, abs(middle) * HISTORY_MIN_TARGET_SPAN, 0.02) / 2
            margin = half * 0.4
            fig.update_yaxes(range=[middle - half - margin, middle + half + margin], row=1, col=1)

    caption = style.source_caption(rows.drop(columns="price_source"))
    closes = rows[(rows["price_source"] == "close").fillna(False) & rows["upside_mean"].notna()]
    if not closes.empty:
        days = sorted(closes["price_as_of"].dropna().astype(str).unique())
        caption += (
            f" Snapshots without their own price use the latest close on or before their day, at most "
            f"{HISTORY_CLOSE_MAX_AGE.days} days earlier (closes of {days[0]}"
            + (f" to {days[-1]})." if len(days) > 1 else ").")
        )
    return style.finish(
        fig,
        title=style.chart_title(title, tickers, "consensus history"),
        subtitle="One line per source; marker colour and text: the consensus label",
        caption=caption,
        height=460,
        extra_top=20,
        summary=_history_summary(rows),
    )


def _history_summary(rows: pd.DataFrame) -> str:
    """'TSLA, Yahoo Finance: mean target $421.16 (2026-06-29) to $397.87 (2026-08-08), 18 snapshots, now Buy.'"""
    if rows.empty:
        return "No consensus history in the data."
    said = []
    for (ticker, source), group in rows.groupby(["ticker", "source"], sort=False):
        first, last = group.iloc[0], group.iloc[-1]
        label = last["consensus"] if isinstance(last["consensus"], str) else NO_LABEL
        start, end = money(first["target_mean"], first["currency"]), money(last["target_mean"], last["currency"])
        said.append(
            f"{ticker}, {source}: mean target {start} ({first['_day']:%Y-%m-%d}) to {end} ({last['_day']:%Y-%m-%d}),"
            f" {len(group)} snapshots, now {label}"
        )
    return "; ".join(said) + "."


def _history_hover(row: Mapping[Any, Any]) -> str:
    currency = row.get("currency")
    label = row.get("consensus") if isinstance(row.get("consensus"), str) else NO_LABEL
    rating = f" ({float(row['rating_mean']):.2f} of 5)" if pd.notna(row.get("rating_mean")) else ""
    price_note = (
        f"close of {escape(dated(row.get('price_as_of')))}"
        if row.get("price_source") == "close"
        else f"quoted {escape(dated(row.get('price_as_of')))}"
    )
    upside = f"Upside {percent(row.get('upside_mean'))}"
    if pd.notna(row.get("price")):
        upside += f" on a price of {escape(money(row.get('price'), currency))}, {price_note}"
    return "<br>".join(
        [
            f"<b>{escape(row['ticker'])}</b> · {escape(row['source'])}, {escape(dated(row.get('as_of')))}",
            f"{escape(label)}{rating} · {count(row.get('n_analysts'))} analysts",
            f"Mean target {escape(money(row.get('target_mean'), currency))}",
            upside,
        ]
    )
