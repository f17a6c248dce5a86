"""Charts of one ticker: its price with each source's targets, and its ratings source by source.

Each takes a ``CONSENSUS_TABLE`` frame as :func:`ratings.core.consensus_table` made it (or a frame
of the public CSV contract, which lacks the computed columns past the contract's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ..core import BAND_EDGES, COVERAGE_NONE, LABELS
from ..formatting import MISSING, count, counts_text, dated, money, money_range
from ..schema import CONSENSUS_HISTORY, CONSENSUS_TABLE, COUNT_COLUMNS, day_mask
from . import style
from .style import LABEL_COLORS, NO_LABEL, NOTE_COLOR, escape, plain

# --- one ticker: price and targets ------------------------------------------------------------


def price_target_chart(
    table: pd.DataFrame,
    *,
    prices: pd.DataFrame,
    history: pd.DataFrame | None = None,
    ticker: str,
) -> go.Figure:
    """Price history with each source's lowest / mean / highest target at its as-of date.

    A source dated only to the year (TipRanks' "2026") has no day to place markers at, so its
    mean target is a dotted horizontal line labelled with its reduced-precision date. With
    `history`, the mean target over time is a step line. `prices` (``PRICES``) and `history`
    (``CONSENSUS_HISTORY``) come as the loaders deliver them; rows of other tickers are left out.
    """
    closes = prices[(prices["ticker"] == ticker).fillna(False) & prices["close"].notna()].sort_values("date")
    rows = style.with_columns(table, CONSENSUS_TABLE)
    rows = rows[(rows["ticker"] == ticker).fillna(False) & rows["source"].notna()]
    price_currency = closes["currency"].dropna().iloc[0] if closes["currency"].notna().any() else None
    currency = price_currency or (rows["currency"].dropna().iloc[0] if rows["currency"].notna().any() else None)

    fig = go.Figure()
    notes: list[str] = []
    if not closes.empty:
        fig.add_trace(
            go.Scatter(
                x=closes["date"],
                y=closes["close"].to_numpy(float),
                mode="lines",
                line=dict(color="#333", width=1.5),
                name="Daily close",
                hovertemplate="%{x|%Y-%m-%d}: %{y:,.2f}<extra>close</extra>",
                meta="close",
            )
        )
    else:
        notes.append(f"No price history in the data for {escape(ticker)}")

    targeted = rows[rows[["target_low", "target_mean", "target_high"]].notna().any(axis=1)]
    if currency is not None:
        # Targets in another currency than the axis (the closes', else the first source's) cannot share it.
        other = targeted["currency"].notna() & (targeted["currency"] != currency)
        for source, cur in targeted.loc[other, ["source", "currency"]].astype(str).itertuples(index=False):
            notes.append(f"{escape(source)} targets are in {escape(cur)}, not drawn against {escape(currency)}")
        targeted = targeted[~other.fillna(False)]

    day_precise = day_mask(targeted["as_of"])
    dated_rows, vague_rows = targeted[day_precise], targeted[~day_precise]
    colors = style.source_colors(targeted["source"].astype(str))

    for row in dated_rows.to_dict("records"):
        _add_target_markers(fig, row, colors[str(row["source"])])

    history_rows = _history_rows(history, ticker, price_currency)
    for source, group in history_rows.groupby("source", sort=False):
        color = colors.get(str(source)) or style.source_colors([str(source)])[str(source)]
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(group["as_of"]),
                y=group["target_mean"].to_numpy(float),
                mode="lines+markers",
                line=dict(color=color, width=2, shape="hv"),
                marker=dict(size=4),
                name=f"{escape(source)} mean target over time",
                hovertemplate="%{x|%Y-%m-%d}: mean target %{y:,.2f}<extra></extra>",
                meta="history",
            )
        )

    x_dates = [d for d in (closes["date"].min(), closes["date"].max()) if pd.notna(d)]
    x_dates += list(pd.to_datetime(dated_rows["as_of"]))
    x_dates += list(pd.to_datetime(history_rows["as_of"]))
    for row in vague_rows.to_dict("records"):
        if pd.isna(row["target_mean"]):
            continue
        as_of = row["as_of"] if isinstance(row["as_of"], str) and row["as_of"] else None
        span = (min(x_dates), max(x_dates)) if x_dates else _period(as_of)
        if span is None:
            notes.append(f"{escape(row['source'])} mean target {escape(money(row['target_mean'], currency))}: no date")
            continue
        start, end = span
        when = f"{escape(as_of)}, no day given" if as_of else "no date given"
        label = f"{escape(row['source'])} mean target ({when})"
        fig.add_trace(
            go.Scatter(
                x=[start, end],
                y=[float(row["target_mean"])] * 2,
                mode="lines",
                line=dict(color=colors[str(row["source"])], width=2, dash="dot"),
                name=label,
                hovertext=[_target_hover(row, "mean")] * 2,
                hovertemplate="%{hovertext}<extra></extra>",
                meta="vague_mean",
            )
        )

    if targeted.empty:
        notes.append(f"No price target in the data for {escape(ticker)}")
    for i, note in enumerate(notes):
        style.add_note(fig, note, y=0.55 - 0.1 * i)

    if x_dates:
        first, last = min(x_dates), max(x_dates)
        # Room right of the last marker for its "$20.00" label, at a phone's chart width too.
        pad = max((last - first) * 0.2, pd.Timedelta(days=20))
        fig.update_xaxes(range=[first - pd.Timedelta(days=5), last + pad])
    fig.update_xaxes(type="date", title_text=None, visible=bool(fig.data))  # no empty dates axis
    fig.update_yaxes(
        title_text=f"Price ({escape(currency)})" if currency else "Price",
        tickformat=",.2f",
        visible=bool(fig.data),
    )
    name = rows["name"].dropna()
    heading = f"{escape(ticker)}" + (f" · {escape(name.iloc[0])}" if not name.empty else "")
    caption = style.source_caption(rows)
    if not closes.empty:
        caption += f" Daily closes {closes['date'].min():%Y-%m-%d} to {closes['date'].max():%Y-%m-%d}" + (
            f" in {price_currency}." if price_currency else "."
        )
    return style.finish(
        fig,
        title=f"{heading}: price and analyst price targets",
        subtitle="Markers: lowest (▲), mean (◆) and highest (▼) target on the day each source published them"
        if not dated_rows.empty
        else None,
        caption=caption,
        height=440,
        summary=_price_summary(ticker, closes, targeted, price_currency),
    )


def _price_summary(ticker: str, closes: pd.DataFrame, targeted: pd.DataFrame, currency: Any) -> str:
    """'F: daily closes 2020-12-30 to 2026-07-02, last $13.35; Yahoo Finance mean target $14.90 (2026-07-02).'"""
    parts = []
    if not closes.empty:
        last = closes.iloc[-1]
        span = f"{closes['date'].min():%Y-%m-%d} to {last['date']:%Y-%m-%d}"
        parts.append(f"daily closes {span}, last {money(last['close'], currency)}")
    for row in targeted.to_dict("records"):
        if pd.notna(row["target_mean"]):
            low_high = money_range(row["target_low"], row["target_high"], row["currency"])
            spread = f", lowest to highest {low_high}" if low_high != MISSING else ""
            mean = money(row["target_mean"], row["currency"])
            parts.append(f"{row['source']} mean target {mean}{spread} ({dated(row['as_of'])})")
    return f"{ticker}: " + ("; ".join(parts) if parts else "no prices and no price targets in the data") + "."


_TARGET_KINDS = (("low", "Lowest target", "triangle-up"), ("mean", "Mean target", "diamond"),
                 ("high", "Highest target", "triangle-down"))  # fmt: skip


def _add_target_markers(fig: go.Figure, row: Mapping[Any, Any], color: str) -> None:
    """Lowest, mean and highest target of one dated source row, joined by a thin vertical line."""
    kinds = [(k, label, symbol) for k, label, symbol in _TARGET_KINDS if pd.notna(row[f"target_{k}"])]
    day = pd.Timestamp(row["as_of"])
    currency = row.get("currency")
    fig.add_trace(
        go.Scatter(
            x=[day] * len(kinds),
            y=[float(row[f"target_{k}"]) for k, _, _ in kinds],
            mode="lines+markers+text",
            line=dict(color=color, width=1),
            marker=dict(
                color=color,
                size=[13 if k == "mean" else 10 for k, _, _ in kinds],
                symbol=[symbol for _, _, symbol in kinds],
                line=dict(color="white", width=1),
            ),
            # The amount only: the marker's shape says which target (the legend and the hover name it), and a
            # short label fits beside the last close on a phone's narrow chart.
            text=[escape(money(row[f"target_{k}"], currency)) for k, _, _ in kinds],
            textposition="middle right",
            textfont=dict(color=color, size=11),
            customdata=[k for k, _, _ in kinds],
            hovertext=[_target_hover(row, k) for k, _, _ in kinds],
            hovertemplate="%{hovertext}<extra></extra>",
            name=f"{escape(row['source'])} targets ({escape(row['as_of'])})",
            meta="targets",
        )
    )


def _target_hover(row: Mapping[Any, Any], kind: str) -> str:
    label = {"low": "Lowest", "mean": "Mean", "high": "Highest"}[kind]
    analysts = count(row.get("n_analysts"))
    return (
        f"<b>{escape(row['source'])}</b>, {escape(dated(row.get('as_of')))}<br>"
        f"{label} target {escape(money(row[f'target_{kind}'], row.get('currency')))}"
        f" · {analysts} analysts"
    )


def _history_rows(history: pd.DataFrame | None, ticker: str, price_currency: Any) -> pd.DataFrame:
    """The dated mean targets of `ticker` in `history` (``CONSENSUS_HISTORY``) that share the closes' currency."""
    if history is None or history.empty:
        return CONSENSUS_HISTORY.empty()
    keep = (history["ticker"] == ticker).fillna(False) & history["target_mean"].notna() & day_mask(history["as_of"])
    keep &= history["source"].notna()
    if price_currency is not None:
        keep &= (history["currency"].isna() | (history["currency"] == price_currency)).fillna(False)
    return history[keep].sort_values("as_of")


def _period(as_of: str | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The span a reduced-precision date stands for: '2026' -> the year, '2026-07' -> the month."""
    if not as_of:
        return None
    try:
        start = pd.Timestamp(as_of)
    except ValueError:
        return None
    if pd.isna(start):
        return None
    end = start + (pd.offsets.YearEnd(0) if len(str(as_of)) == 4 else pd.offsets.MonthEnd(0))
    return start, pd.Timestamp(end)


# --- one ticker: rating breakdown -------------------------------------------------------------


def rating_breakdown_chart(table: pd.DataFrame) -> go.Figure:
    """Strong Buy..Strong Sell counts per source as stacked bars, and each source's mean on the 1-5 scale.

    The scale is shaded with the label bands of :data:`ratings.core.BAND_EDGES`. A source with only
    a rating mean (Yahoo, finviz) appears on the scale; one with counts (TipRanks) in both.
    """
    every = style.with_columns(table, CONSENSUS_TABLE)
    rows = every[every["source"].notna() & (every["coverage"] != COVERAGE_NONE).fillna(True)].copy()
    tickers = style.ticker_order(rows["ticker"]) or style.ticker_order(every["ticker"])
    several = len(tickers) > 1
    rows["label"] = [
        (f"{escape(r['ticker'])} · " if several else "") + f"{escape(r['source'])}<br>{escape(dated(r['as_of']))}"
        for r in rows.to_dict("records")
    ]
    counted = rows[rows[list(COUNT_COLUMNS)].notna().any(axis=1)]
    rated = rows[rows["rating_mean"].notna()]

    panels = (["counts"] if not counted.empty else []) + ["scale"]
    sizes = {"counts": max(1, len(counted)), "scale": max(1, len(rated))}
    fig = style.stacked_subplots(
        [{"counts": "Analyst ratings, by count", "scale": "Mean rating on the 1–5 scale"}[p] for p in panels],
        row_heights=[sizes[p] + 0.6 for p in panels],
        vertical_spacing=0.22 if len(panels) > 1 else 0.1,
    )
    scale_row = panels.index("scale") + 1

    if not counted.empty:
        for column, label in zip(COUNT_COLUMNS, LABELS, strict=True):
            values = counted[column].astype("Float64")
            if values.isna().all():
                continue  # the source does not count this rating separately: leave it out, not 0
            fig.add_trace(
                go.Bar(
                    x=values.astype(float).to_numpy(),
                    y=counted["label"].to_numpy(),
                    orientation="h",
                    name=label,
                    marker=dict(color=LABEL_COLORS[label], line=dict(color="white", width=1)),
                    text=[count(v) if pd.notna(v) and v > 0 else "" for v in values],
                    textposition="inside",
                    insidetextanchor="middle",
                    hovertemplate="%{y}<br>%{x} " + label + "<extra></extra>",
                    meta=column,
                ),
                row=1,
                col=1,
            )
        fig.update_xaxes(title_text="Analysts", row=1, col=1)
        fig.update_yaxes(autorange="reversed", row=1, col=1)
        fig.update_layout(barmode="stack", bargap=0.35, legend_traceorder="normal")

    xref = "x" if scale_row == 1 else f"x{scale_row}"
    yref = "y" if scale_row == 1 else f"y{scale_row}"
    for lower, upper, label in zip(BAND_EDGES[:-1], BAND_EDGES[1:], LABELS, strict=True):
        fig.add_shape(
            type="rect",
            xref=xref,
            yref=f"{yref} domain",
            x0=lower,
            x1=upper,
            y0=0,
            y1=1,
            fillcolor=LABEL_COLORS[label],
            opacity=0.22,
            line_width=0,
            layer="below",
            name=f"band {label}",
        )
        # The two narrow outer bands are labelled a line lower, flush with the scale's ends, so that their
        # names neither run off the chart nor into their neighbours' on a phone's narrow chart.
        outer = {LABELS[0]: (lower, "left"), LABELS[-1]: (upper, "right")}.get(label)
        fig.add_annotation(
            name="band_label",
            text=label,
            xref=xref,
            yref=f"{yref} domain",
            x=outer[0] if outer else (lower + upper) / 2,
            xanchor=outer[1] if outer else "center",
            y=1,
            yanchor="top",
            yshift=-15 if outer else 0,
            showarrow=False,
            font=dict(size=11, color=NOTE_COLOR),
        )
    if not rated.empty:
        colors = style.source_colors(rated["source"].astype(str))
        basis = rated["rating_basis"].astype(object)
        fig.add_trace(
            go.Scatter(
                x=rated["rating_mean"].to_numpy(float),
                y=rated["label"].to_numpy(),
                mode="markers+text",
                marker=dict(
                    size=14,
                    symbol="diamond",
                    color=[colors[str(s)] for s in rated["source"]],
                    line=dict(color="white", width=1),
                ),
                text=[
                    f"{escape(c)} {m:.2f}"
                    for c, m in zip(rated["consensus"].astype(object), rated["rating_mean"], strict=True)
                ],
                textposition="top center",
                # An unknown basis (a frame of the CSV contract has none) is the source's own mean.
                customdata=[
                    "computed from the counts" if isinstance(b, str) and b == "counts" else "as the source reports it"
                    for b in basis
                ],
                hovertemplate="%{y}<br>mean rating %{x:.2f} (%{customdata})<extra></extra>",
                name="Mean rating",
                showlegend=False,
                meta="rating_mean",
            ),
            row=scale_row,
            col=1,
        )
    else:
        style.add_note(
            fig,
            "No rating in the data" + (f" for {escape(tickers[0])}" if len(tickers) == 1 else ""),
            xref=f"{xref} domain",
            yref=f"{yref} domain",
        )
    fig.update_xaxes(
        range=[BAND_EDGES[0] - 0.05, BAND_EDGES[-1] + 0.05],
        tickvals=list(range(1, 6)),  # the bands name the labels; the axis gives the scale's numbers
        showgrid=False,
        row=scale_row,
        col=1,
    )
    # Reversed category axis with room above the first row for the band labels (two lines of them).
    fig.update_yaxes(range=[max(len(rated), 1) - 0.5, -1.4], showticklabels=not rated.empty, row=scale_row, col=1)
    if not several and tickers:
        name = every["name"].dropna()
        heading = (
            escape(tickers[0])
            + (f" · {escape(name.iloc[0])}" if not name.empty else "")
            + ": analyst ratings by source"
        )
    else:
        heading = "Analyst ratings by source"
    body = 70 * (sizes["scale"] + (sizes["counts"] if "counts" in panels else 0)) + 90 * len(panels)
    said = [
        f"{plain(r['label'])}: {r['consensus'] if isinstance(r['consensus'], str) else NO_LABEL}"
        + (f" {r['rating_mean']:.2f} of 5" if pd.notna(r["rating_mean"]) else "")
        + (f" ({counts})" if (counts := counts_text(r)) else "")
        for r in rows.to_dict("records")
    ]
    return style.finish(
        fig,
        title=heading,
        caption=style.source_caption(rows),
        height=max(260, body),
        extra_top=20,
        summary=("; ".join(said) if said else "No rating in the data") + ".",
    )
