"""Charts of many tickers: the upside of each, the highest and lowest by a metric, upside against a metric.

Each takes a ``CONSENSUS_TABLE`` frame as :func:`ratings.core.consensus_table` made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..core import LABELS, coverage_partition
from ..formatting import count, dated, money, percent
from ..schema import CONSENSUS_TABLE
from . import style
from .style import LABEL_COLORS, NO_LABEL, NO_LABEL_COLOR, NOTE_COLOR, SOURCE_COLORS, SPARE_COLORS, escape, escaped

# Short, to fit beside a ticker on a phone's narrow chart.
NO_CONSENSUS_NOTE = "no consensus in the data"
NO_TARGET_NOTE = "rating only, no price target"
NO_PRICE_NOTE = "a price target but no usable price"

_METRIC_TITLES: dict[str, str] = {
    "upside_mean": "Implied upside to the mean target",
    "upside_median": "Implied upside to the median target",
    "upside_low": "Implied upside to the lowest target",
    "upside_high": "Implied upside to the highest target",
    "target_dispersion": "Target dispersion, (high − low) / mean",
    "n_analysts": "Number of analysts",
    "rating_mean": "Mean rating (1 Strong Buy … 5 Strong Sell)",
}


# --- upside across tickers --------------------------------------------------------------------


def upside_chart(table: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Dot at the mean-target upside and a line from the lowest to the highest, per ticker and source.

    One row per ticker in the frame's order (first at the top). Several sources of one ticker sit
    side by side, slightly offset. A ticker without an upside keeps its row, with a note saying why.
    """
    rows = style.with_columns(table, CONSENSUS_TABLE)
    upsides = ["upside_low", "upside_mean", "upside_high"]
    finite = rows[upsides].where(np.isfinite(rows[upsides].astype(float)))  # inf is no upside either
    rows = rows.assign(**{column: finite[column] for column in upsides})
    tickers = style.ticker_order(rows["ticker"])
    position = {t: i for i, t in enumerate(tickers)}
    plotted = rows[rows["upside_mean"].notna() & rows["ticker"].notna() & rows["source"].notna()].copy()
    plotted["source"] = plotted["source"].astype(str)

    # Spread the sources of one ticker symmetrically around its row.
    k = plotted.groupby("ticker")["ticker"].transform("size")
    j = plotted.groupby("ticker").cumcount()
    step = 0.26
    plotted["y"] = plotted["ticker"].map(position).astype(float) + (j - (k - 1) / 2) * step

    fig = go.Figure()
    colors = style.source_colors(plotted["source"])
    for source, color in colors.items():
        part = plotted[plotted["source"] == source]
        low, high = part["upside_low"].to_numpy(float), part["upside_high"].to_numpy(float)
        has_range = ~(np.isnan(low) | np.isnan(high))
        ys = part["y"].to_numpy(float)[has_range]
        # One trace of segments separated by None: low..high per row.
        seg_x = np.column_stack([low[has_range], high[has_range], np.full(has_range.sum(), np.nan)]).ravel()
        seg_y = np.column_stack([ys, ys, np.full(has_range.sum(), np.nan)]).ravel()
        fig.add_trace(
            go.Scatter(
                x=seg_x,
                y=seg_y,
                mode="lines",
                line=dict(color=color, width=3),
                opacity=0.45,
                name=escape(source),
                legendgroup=escape(source),
                showlegend=False,
                hoverinfo="skip",
                meta="range",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=part["upside_mean"].to_numpy(float),
                y=part["y"].to_numpy(float),
                mode="markers",
                marker=dict(color=color, size=12, line=dict(color="white", width=1)),
                name=escape(source),
                legendgroup=escape(source),
                customdata=np.column_stack([escaped(part["ticker"]), escaped(part["source"])]),
                hovertext=[_upside_hover(r) for r in part.to_dict("records")],
                hovertemplate="%{hovertext}<extra></extra>",
                meta="mean",
            )
        )

    fig.add_vline(x=0, line=dict(color="#444", width=1, dash="dot"))
    spread = plotted[["upside_low", "upside_mean", "upside_high"]].to_numpy(float).ravel()
    spread = spread[~np.isnan(spread)]
    lo, hi = (float(spread.min()), float(spread.max())) if spread.size else (0.0, 0.0)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = 0.06 * (hi - lo) if hi > lo else 0.5

    notes = _upside_notes(rows, set(plotted["ticker"]))
    if notes:
        # From the left edge of the plot, so that the whole width holds them on a phone too.
        fig.add_trace(
            go.Scatter(
                x=[lo - pad] * len(notes),
                y=[float(position[t]) for t in notes],
                mode="text",
                text=[f" {escape(note)}" for note in notes.values()],
                textposition="middle right",
                textfont=dict(color=NOTE_COLOR, size=12),
                customdata=[escape(t) for t in notes],
                name="no upside",
                showlegend=False,
                hoverinfo="skip",
                meta="note",
            )
        )
    fig.update_xaxes(
        tickformat="+.0%",
        range=[lo - pad, hi + pad],
        title_text="Implied upside (analyst price target / price − 1)",
        zeroline=False,
    )
    fig.update_yaxes(
        tickvals=list(range(len(tickers))),
        ticktext=[f"<b>{escape(t)}</b>" for t in tickers],
        range=[len(tickers) - 0.5, -0.5] if tickers else [0.5, -0.5],
        showgrid=False,
        zeroline=False,
    )
    if not tickers:
        style.add_note(fig, "No tickers to show")
    heading = escape(title) if title is not None else "Implied upside to analyst price targets"
    without = len(tickers) - plotted["ticker"].nunique()
    summary = f"Upside to the mean target of {len(tickers):,} tickers, one dot per ticker and source"
    if ranked := style.extremes(plotted["upside_mean"], plotted["ticker"], percent):
        summary += f": {ranked}"
    summary += f"; {without:,} without an upside." if without else "."
    return style.finish(
        fig,
        title=heading,
        subtitle="Dot: mean target · line: lowest to highest target · one colour per source",
        caption=style.source_caption(rows),
        height=max(220, 44 * len(tickers)),
        summary=summary,
    )


def _upside_hover(row: Mapping[Any, Any]) -> str:
    currency = row.get("currency")
    name = f" · {escape(row['name'])}" if isinstance(row.get("name"), str) else ""
    price_note = " (close)" if row.get("price_source") == "close" else ""
    lines = [
        f"<b>{escape(row['ticker'])}</b>{name}",
        f"{escape(row['source'])}, {escape(dated(row.get('as_of')))}",
        f"Upside {percent(row['upside_mean'])} "
        f"(lowest {percent(row['upside_low'])}, highest {percent(row['upside_high'])})",
        f"Mean target {escape(money(row['target_mean'], currency))}"
        f" vs price {escape(money(row['price'], currency))}"
        f" on {escape(dated(row.get('price_as_of')))}{price_note}",
        f"{escape(row.get('consensus') if isinstance(row.get('consensus'), str) else NO_LABEL)}"
        f" · {count(row.get('n_analysts'))} analysts",
    ]
    return "<br>".join(lines)


def _upside_notes(rows: pd.DataFrame, plotted: set[str]) -> dict[str, str]:
    """Why each ticker without a plotted upside has none, in the frame's order."""
    notes: dict[str, str] = {}
    held = coverage_partition(rows)
    for ticker, group in rows[rows["ticker"].notna()].groupby("ticker", sort=False):
        if ticker in plotted:
            continue
        if ticker in held.targets:
            notes[str(ticker)] = NO_PRICE_NOTE
        elif ticker in held.rating_only:
            labels = group.loc[group["consensus"].notna(), ["source", "consensus"]].astype(str)
            said = "; ".join(f"{s}: {c}" for s, c in labels.itertuples(index=False))
            notes[str(ticker)] = f"{NO_TARGET_NOTE}{' — ' + said if said else ''}"
        else:
            notes[str(ticker)] = NO_CONSENSUS_NOTE
    return notes


# --- highest and lowest by a metric; upside against a metric ----------------------------------


def _metric_title(metric: str) -> str:
    return _METRIC_TITLES.get(metric, metric.replace("_", " ").capitalize())


def _is_fraction(metric: str) -> bool:
    return metric.startswith("upside_") or metric == "target_dispersion"


def _numeric_column(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows.columns:
        raise ValueError(f"no column {column!r} in the table")
    values = pd.to_numeric(rows[column], errors="coerce")
    if not pd.api.types.is_numeric_dtype(values):
        raise ValueError(f"column {column!r} is not numeric")
    return values.astype("float64").where(np.isfinite(values.astype("float64")))


def top_bottom_chart(table: pd.DataFrame, *, n: int = 10, metric: str = "upside_mean") -> go.Figure:
    """The `n` highest and `n` lowest primary rows by `metric`, as horizontal bars (NaN rows left out).

    With a table that has no ``is_primary`` column every row counts. When there are no more
    than 2n rows, all of them are shown as one group.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    has_primary = "is_primary" in table.columns
    rows = style.with_columns(table, CONSENSUS_TABLE)
    if has_primary:
        rows = rows[rows["is_primary"]]
    rows = rows.assign(_value=_numeric_column(rows, metric))
    rows = rows[rows["_value"].notna()].sort_values("_value", ascending=False, kind="stable")
    if len(rows) <= 2 * n:
        groups = [(f"All {len(rows)}", rows, "#0072B2")]
    else:
        groups = [(f"Highest {n}", rows.head(n), "#1a7f37"), (f"Lowest {n}", rows.tail(n), "#c0392b")]

    fig = go.Figure()
    fraction = _is_fraction(metric)
    ticks: list[float] = []
    tick_text: list[str] = []
    offset = 0.0
    for name, group, color in groups:
        positions = offset + np.arange(len(group), dtype=float)
        offset = positions[-1] + 2 if len(positions) else offset  # a blank row between the groups
        values = group["_value"].to_numpy(float)
        fig.add_trace(
            go.Bar(
                x=values,
                y=positions,
                orientation="h",
                name=name,
                marker=dict(color=color),
                # A bar's value beside its end; a negative bar's value is written right of zero instead
                # (annotations below): left of the bar it would run into the ticker names on a narrow chart.
                text=[_value_text(v, fraction) if v >= 0 else "" for v in values],
                textposition="outside",
                cliponaxis=False,
                customdata=np.column_stack(
                    [
                        escaped(group["ticker"]),
                        escaped(group["name"]),
                        escaped(group["source"]),
                        [escape(dated(v)) for v in group["as_of"]],
                        [escape(c) if isinstance(c, str) else NO_LABEL for c in group["consensus"].astype(object)],
                    ]
                )
                if len(group)
                else None,
                hovertemplate="<b>%{customdata[0]}</b> %{customdata[1]}<br>"
                + _metric_title(metric)
                + (": %{x:+.1%}" if fraction else ": %{x:,.2f}")
                + "<br>%{customdata[4]} · %{customdata[2]}, %{customdata[3]}<extra></extra>",
                meta=escape(metric),
            )
        )
        for position, value in zip(positions, values, strict=True):
            if value < 0:
                fig.add_annotation(
                    name="value_label", text=_value_text(value, fraction), x=0, y=position, xanchor="left",
                    xshift=3, showarrow=False, font=dict(size=12),
                )  # fmt: skip
        ticks += list(positions)
        tick_text += [f"<b>{escape(t)}</b>" for t in group["ticker"]]
    if rows.empty:
        style.add_note(fig, f"No rows with a value for {escape(_metric_title(metric).lower())}")
    fig.update_yaxes(
        tickvals=ticks,
        ticktext=tick_text,
        range=[max(offset - 1.5, 0.5), -0.5] if ticks else [0.5, -0.5],
        showgrid=False,
    )
    if not rows.empty:
        # Room for the value labels outside the bars, on both sides.
        lo, hi = min(float(rows["_value"].min()), 0.0), max(float(rows["_value"].max()), 0.0)
        if hi == lo:  # every value 0 (one analyst: no dispersion): a short axis from 0, not -100%..+100%
            hi = lo + (0.1 if fraction else 1.0)
        pad = 0.16 * (hi - lo)
        fig.update_xaxes(range=[lo - (pad if lo < 0 else 0), hi + (pad if hi > 0 else 0)])
    fig.update_xaxes(
        title_text=escape(_metric_title(metric)),
        tickformat="+.0%" if fraction else ",",
        zeroline=True,
        zerolinecolor="#444",
    )
    heading = _metric_title(metric) + (
        f": highest and lowest {n}" if len(groups) > 1 else (f": all {len(rows):,} tickers" if len(rows) else "")
    )
    written = percent if fraction else (lambda v: f"{v:,.2f}")
    ranked = style.extremes(rows["_value"], rows["ticker"], written)
    return style.finish(
        fig,
        title=escape(heading),
        subtitle="One row per ticker: its primary source" if has_primary else None,
        caption=style.source_caption(rows),
        height=max(220, 24 * len(ticks) + (24 if len(groups) > 1 else 0)),
        summary=f"{len(rows):,} tickers with a value" + (f": {ranked}." if ranked else "."),
    )


def upside_scatter(
    table: pd.DataFrame,
    *,
    x: Literal["n_analysts", "target_dispersion"] = "n_analysts",
    color: str = "consensus",
) -> go.Figure:
    """Upside to the mean target against the number of analysts or the dispersion of targets.

    One trace per colour (categories of `color`, e.g. the consensus label), not per point, so
    thousands of rows stay fast. A numeric `color` column gives one trace with a colour scale.
    Rows without an upside or an x value are left out; the subtitle says how many.
    """
    rows = style.with_columns(table, CONSENSUS_TABLE)
    if color not in rows.columns:
        raise ValueError(f"no column {color!r} in the table to colour by")
    rows = rows.assign(_x=_numeric_column(rows, x), _y=_numeric_column(rows, "upside_mean"))
    shown = rows[rows["_x"].notna() & rows["_y"].notna()]
    fraction_x = _is_fraction(x)
    x_format = "%{x:.1%}" if fraction_x else "%{x:,}"
    hover = (
        "<b>%{customdata[0]}</b> %{customdata[1]}<br>%{customdata[2]}<br>"
        f"Upside %{{y:+.1%}}<br>{_metric_title(x)}: {x_format}"
        "<extra>%{customdata[3]}</extra>"
    )

    def points(part: pd.DataFrame, marker: dict[str, Any], **options: Any) -> go.Scatter:
        """The rows of `part` as markers at their x and upside, with the hover every trace shares."""
        customdata = np.column_stack(
            [
                escaped(part["ticker"]),
                escaped(part["name"]),
                [escape(c) if isinstance(c, str) else NO_LABEL for c in part["consensus"].astype(object)],
                escaped(part["source"]),
            ]
        )
        return go.Scatter(
            x=part["_x"].to_numpy(float),
            y=part["_y"].to_numpy(float),
            mode="markers",
            marker=dict(size=7, opacity=0.75, **marker),
            customdata=customdata,
            hovertemplate=hover,
            **options,
        )

    fig = go.Figure()
    numeric_color = pd.api.types.is_numeric_dtype(rows[color]) and not pd.api.types.is_bool_dtype(rows[color])
    if shown.empty:
        pass
    elif numeric_color:
        scale = dict(
            color=pd.to_numeric(shown[color], errors="coerce").astype(float).to_numpy(),
            colorscale="Viridis",
            showscale=True,
            colorbar=dict(title=dict(text=escape(color))),
        )
        fig.add_trace(points(shown, scale, name=escape(color), showlegend=False))
    else:
        groups = shown[color].astype(object).where(shown[color].notna(), NO_LABEL).astype(str)
        order = [v for v in (*LABELS, NO_LABEL) if v in set(groups)] if color == "consensus" else []
        order += sorted(set(groups) - set(order))
        palette = LABEL_COLORS if color == "consensus" else {}
        spare = iter((*SPARE_COLORS, *SOURCE_COLORS.values()) * 8)
        for value in order:
            part = shown[groups == value]
            marker = dict(
                color=palette.get(value) or (NO_LABEL_COLOR if value == NO_LABEL else next(spare)),
                line=dict(color="white", width=0.5),
            )
            fig.add_trace(points(part, marker, name=f"{escape(value)} ({len(part):,})", meta=escape(value)))
    if shown.empty:
        style.add_note(fig, "No rows with both an upside and " + escape(_metric_title(x).lower()))
    fig.add_hline(y=0, line=dict(color="#444", width=1, dash="dot"))
    fig.update_xaxes(title_text=escape(_metric_title(x)), tickformat=".0%" if fraction_x else ",")
    fig.update_yaxes(title_text="Implied upside (mean target / price − 1)", tickformat="+.0%")
    left_out = len(rows) - len(shown)
    subtitle = f"{len(shown):,} rows" + (f"; {left_out:,} without an upside or this value left out" if left_out else "")
    if not numeric_color and color == "consensus" and shown["consensus"].isna().any():
        subtitle += f"; {NO_LABEL}: a price target without a rating mean, so no consensus label"
    ranked = style.extremes(shown["_y"], shown["ticker"], percent)
    return style.finish(
        fig,
        title=f"Implied upside against {escape(_metric_title(x).lower())}",
        subtitle=subtitle,
        caption=style.source_caption(shown),
        height=480,
        summary=f"{len(shown):,} tickers, upside against {plain_metric(x)}" + (f": {ranked}." if ranked else "."),
    )


def _value_text(value: float, fraction: bool) -> str:
    return percent(value) if fraction else f"{value:,.2f}".rstrip("0").rstrip(".")


def plain_metric(metric: str) -> str:
    """A metric's title in lower case, for a sentence."""
    return _metric_title(metric).lower()
