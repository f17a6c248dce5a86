"""Chart builders: each takes frames and keyword options and returns a plotly Figure.

Every figure carries :func:`source_caption` as an annotation at its bottom (named
``source_caption``), so an exported PNG still says where its numbers come from.

Plotly renders a subset of HTML in titles, annotations, tick labels, legend entries and hover
text, so every text that comes from data or from a user goes through :func:`escape` first. It
escapes ``&``, ``<`` and ``>`` and writes quotes as numeric entities: plotly decodes numeric
entities but not ``&quot;``, so "Macy's" still reads "Macy's".
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core import (
    BAND_EDGES,
    COVERAGE_NONE,
    COVERAGE_RATING,
    COVERAGE_TARGETS,
    HISTORY_CLOSE_MAX_AGE,
    LABELS,
)
from ..formatting import MISSING, count, dated, money, percent, utc_minute
from ..schema import CONSENSUS_HISTORY, CONSENSUS_TABLE, COUNT_COLUMNS, PRICES, TREND, conform

TEMPLATE = "plotly_white"
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13, color="#222")
NOTE_COLOR = "#6b6b6b"
CAPTION_NAME = "source_caption"  # name of the caption annotation, so callers and tests can find it

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
SOURCE_COLORS: dict[str, str] = {"Yahoo Finance": "#0072B2", "TipRanks": "#D55E00", "finviz": "#009E73"}
_SPARE_COLORS = ("#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
LABEL_COLORS: dict[str, str] = dict(zip(LABELS, ("#1a7f37", "#7cc47f", "#e3c565", "#f08a3c", "#c0392b"), strict=True))
NO_LABEL = "No rating"
NO_LABEL_COLOR = "#9a9a9a"

NO_CONSENSUS_NOTE = "no consensus in the data"
NO_TARGET_NOTE = "no price target in the data (rating only)"
NO_PRICE_NOTE = "price target but no usable price, so no upside"

UPSIDE_FORMULA = "Upside = target / price − 1."
_METRIC_TITLES: dict[str, str] = {
    "upside_mean": "Implied upside to the mean target",
    "upside_median": "Implied upside to the median target",
    "upside_low": "Implied upside to the lowest target",
    "upside_high": "Implied upside to the highest target",
    "target_dispersion": "Target dispersion, (high − low) / mean",
    "n_analysts": "Number of analysts",
    "rating_mean": "Mean rating (1 Strong Buy … 5 Strong Sell)",
}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- text -------------------------------------------------------------------------------------


# Direction overrides and isolates: a name holding one would reverse the rest of a caption's line.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(value: Any) -> str:
    """Text from data or users, safe for plotly's HTML-like text; missing -> '—'.

    Shown literally: markup is escaped, plotly's own ``%{...}`` placeholders are broken up (plotly.js
    fills them in titles and annotations too), and Unicode direction controls are dropped.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    text = _BIDI_CONTROLS.sub("", str(value))
    text = html.escape(text, quote=False).replace('"', "&#34;").replace("'", "&#39;")
    return text.replace("%{", "%&#123;")


def _escaped(values: pd.Series) -> np.ndarray:
    return np.array([escape(v) for v in values.astype(object)], dtype=object)


def _is_day(as_of: Any) -> bool:
    return isinstance(as_of, str) and bool(_DAY.fullmatch(as_of))


def _day_mask(as_of: pd.Series) -> pd.Series:
    """True where `as_of` is a full ISO day (boolean even on an empty frame)."""
    return as_of.astype("string").str.fullmatch(_DAY.pattern).fillna(False).astype(bool)


def _when(dates: Iterable[str]) -> str:
    """'as of 2026-07-02', 'as of 2026-06-29 to 2026-07-02', '2026, no day given', or both kinds."""
    days = sorted({d for d in dates if _is_day(d)})
    vague = sorted({d for d in dates if not _is_day(d)})
    parts = []
    if days:
        parts.append(f"as of {days[0]}" if len(days) == 1 else f"as of {days[0]} to {days[-1]}")
    parts += [f"{d}, no day given" for d in vague]
    return "; ".join(parts) if parts else "no date given"


def source_caption(table: pd.DataFrame) -> str:
    """Plain text naming every source of `table` with its as-of date, and how upside is computed.

    e.g. "Sources: Yahoo Finance (as of 2026-07-02), TipRanks (2026, no day given).
    Upside = target / price − 1." The caller escapes it before it goes into a figure.
    """
    if table.empty or "source" not in table.columns:
        return f"Sources: no consensus in the data. {UPSIDE_FORMULA}"
    rows = table.loc[table["source"].notna(), ["source", "as_of"]].astype(object)
    if rows.empty:
        return f"Sources: no consensus in the data. {UPSIDE_FORMULA}"
    rows = rows.fillna("")
    dates_by_source: dict[str, list[str]] = {}
    for source, as_of in rows.drop_duplicates().itertuples(index=False):
        dates_by_source.setdefault(str(source), []).append(str(as_of))
    named = ", ".join(f"{source} ({_when(dates)})" for source, dates in dates_by_source.items())
    text = f"Sources: {named}. {UPSIDE_FORMULA}"
    if {"price_source", "upside_mean", "price_as_of"} <= set(table.columns):
        closes = table[(table["price_source"] == "close").fillna(False) & table["upside_mean"].notna()]
        if not closes.empty:
            used = closes[["source", "price_as_of"]].astype(object).fillna(MISSING).drop_duplicates()
            which = ", ".join(f"{s} {d}" for s, d in used.itertuples(index=False))
            text += f" Where a source quoted no price, upside uses the latest bundled close ({which})."
    return text


def _wrap(text: str, width: int = 100) -> list[str]:
    """Break a caption into lines, at sentence ends where possible, else at spaces.

    A long source list must not run off the right edge of an exported PNG.
    """
    lines: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=\.) ", text):
        if current and len(current) + 1 + len(sentence) <= width:
            current = f"{current} {sentence}"
            continue
        if current:
            lines.append(current)
        current = ""
        for word in sentence.split(" "):
            if current and len(current) + 1 + len(word) > width:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


# --- layout helpers ---------------------------------------------------------------------------


def _source_colors(sources: Iterable[str]) -> dict[str, str]:
    colors: dict[str, str] = {}
    spare = iter(_SPARE_COLORS * 4)
    for source in sources:
        if source not in colors:
            colors[source] = SOURCE_COLORS.get(source) or next(spare, "#555555")
    return colors


def _finish(
    fig: go.Figure,
    *,
    title: str,
    caption: str,
    height: int,
    subtitle: str | None = None,
    bottom: int = 60,
    extra_top: int = 0,
) -> go.Figure:
    """Common look: template, escaped title, legend on top, the caption below the plot area.

    `title` and `subtitle` must already be escaped; `bottom` is the room the x axis needs below
    the plot area, `extra_top` the room subplot titles need above it.
    """
    lines = [escape(line) for line in _wrap(caption)]
    caption_height = 16 * len(lines)
    # Title, subtitle and legend are placed in pixels from the top of the whole figure (container
    # coordinates), so a legend of several rows pushes the plot down instead of covering the title.
    heading = 70 if subtitle else 48
    top = heading + 30 + extra_top
    total = top + height + bottom + caption_height + 10
    fig.update_layout(
        template=TEMPLATE,
        font=FONT,
        title=dict(
            text=title,
            x=0.01,
            xanchor="left",
            yref="container",
            y=1 - 12 / total,
            yanchor="top",
            subtitle=dict(text=subtitle or "", font=dict(size=12, color=NOTE_COLOR)),
        ),
        height=total,
        margin=dict(l=10, r=30, t=top, b=bottom + caption_height + 10, autoexpand=True),
        legend=dict(
            orientation="h",
            xref="container",
            x=0.01,
            xanchor="left",
            yref="container",
            y=1 - heading / total,
            yanchor="top",
            bgcolor="rgba(0,0,0,0)",
        ),
        hoverlabel=dict(align="left"),
    )
    fig.add_annotation(
        name=CAPTION_NAME,
        text="<br>".join(lines),
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        xanchor="left",
        yanchor="top",
        yshift=-bottom,
        align="left",
        showarrow=False,
        font=dict(size=11, color=NOTE_COLOR),
    )
    return fig


def _note(fig: go.Figure, text: str, *, name: str = "note") -> None:
    """A centred grey note in an otherwise empty plot area (`text` already escaped)."""
    fig.add_annotation(
        name=name,
        text=text,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font=dict(size=14, color=NOTE_COLOR),
    )


def _table(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every CONSENSUS_TABLE column present and typed; extra columns kept."""
    return conform(table, CONSENSUS_TABLE, keep_extra=True)


def _ticker_order(tickers: pd.Series) -> list[str]:
    return list(dict.fromkeys(str(t) for t in tickers.dropna()))


# --- upside across tickers --------------------------------------------------------------------


def upside_chart(table: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Dot at the mean-target upside and a line from the lowest to the highest, per ticker and source.

    One row per ticker in the frame's order (first at the top). Several sources of one ticker sit
    side by side, slightly offset. A ticker without an upside keeps its row, with a note saying why.
    """
    rows = _table(table)
    upsides = ["upside_low", "upside_mean", "upside_high"]
    rows[upsides] = rows[upsides].where(np.isfinite(rows[upsides].astype(float)))  # inf is no upside either
    tickers = _ticker_order(rows["ticker"])
    position = {t: i for i, t in enumerate(tickers)}
    plotted = rows[rows["upside_mean"].notna() & rows["ticker"].notna() & rows["source"].notna()].copy()
    plotted["source"] = plotted["source"].astype(str)

    # Spread the sources of one ticker symmetrically around its row.
    k = plotted.groupby("ticker")["ticker"].transform("size")
    j = plotted.groupby("ticker").cumcount()
    step = 0.26
    plotted["y"] = plotted["ticker"].map(position).astype(float) + (j - (k - 1) / 2) * step

    fig = go.Figure()
    colors = _source_colors(plotted["source"])
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
                customdata=np.column_stack([_escaped(part["ticker"]), _escaped(part["source"])]),
                hovertext=[_upside_hover(r) for r in part.to_dict("records")],
                hovertemplate="%{hovertext}<extra></extra>",
                meta="mean",
            )
        )

    notes = _upside_notes(rows, set(plotted["ticker"]))
    if notes:
        fig.add_trace(
            go.Scatter(
                x=[0.0] * len(notes),
                y=[float(position[t]) for t in notes],
                mode="text",
                text=[f"  {escape(note)}" for note in notes.values()],
                textposition="middle right",
                textfont=dict(color=NOTE_COLOR, size=12),
                customdata=[escape(t) for t in notes],
                name="no upside",
                showlegend=False,
                hoverinfo="skip",
                meta="note",
            )
        )

    fig.add_vline(x=0, line=dict(color="#444", width=1, dash="dot"))
    spread = plotted[["upside_low", "upside_mean", "upside_high"]].to_numpy(float).ravel()
    spread = spread[~np.isnan(spread)]
    lo, hi = (float(spread.min()), float(spread.max())) if spread.size else (0.0, 0.0)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if notes:
        hi = max(hi, 0.6 * (hi - lo) if hi > lo else 0.5)  # room for the notes right of 0
    pad = 0.06 * (hi - lo) if hi > lo else 0.5
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
        _note(fig, "No tickers to show")
    heading = escape(title) if title is not None else "Implied upside to analyst price targets"
    return _finish(
        fig,
        title=heading,
        subtitle="Dot: mean target · line: lowest to highest target · one colour per source",
        caption=source_caption(rows),
        height=max(220, 44 * len(tickers)),
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
    for ticker, group in rows[rows["ticker"].notna()].groupby("ticker", sort=False):
        if ticker in plotted:
            continue
        coverage = set(group["coverage"].dropna())
        if COVERAGE_TARGETS in coverage:
            notes[str(ticker)] = NO_PRICE_NOTE
        elif COVERAGE_RATING in coverage:
            labels = group.loc[group["consensus"].notna(), ["source", "consensus"]].astype(str)
            said = "; ".join(f"{s}: {c}" for s, c in labels.itertuples(index=False))
            notes[str(ticker)] = f"{NO_TARGET_NOTE}{' — ' + said if said else ''}"
        else:
            notes[str(ticker)] = NO_CONSENSUS_NOTE
    return notes


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
    `history`, the mean target over time is a step line.
    """
    closes = conform(prices, PRICES)
    closes = closes[(closes["ticker"] == ticker).fillna(False) & closes["close"].notna()].sort_values("date")
    rows = _table(table)
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

    day_precise = _day_mask(targeted["as_of"])
    dated_rows, vague_rows = targeted[day_precise], targeted[~day_precise]
    colors = _source_colors(targeted["source"].astype(str))

    for row in dated_rows.to_dict("records"):
        _add_target_markers(fig, row, colors[str(row["source"])])

    history_rows = _history_rows(history, ticker, price_currency)
    for source, group in history_rows.groupby("source", sort=False):
        color = colors.get(str(source)) or _source_colors([str(source)])[str(source)]
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
        fig.add_annotation(
            name="note",
            text=note,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.55 - 0.1 * i,
            showarrow=False,
            font=dict(size=14, color=NOTE_COLOR),
        )

    if x_dates:
        first, last = min(x_dates), max(x_dates)
        # Room right of the last marker for its "Highest $20.00" label at a page's chart width.
        pad = max((last - first) * 0.18, pd.Timedelta(days=20))
        fig.update_xaxes(range=[first - pd.Timedelta(days=5), last + pad])
    fig.update_xaxes(type="date", title_text=None, visible=bool(fig.data))  # no empty dates axis
    fig.update_yaxes(
        title_text=f"Price ({escape(currency)})" if currency else "Price",
        tickformat=",.2f",
        visible=bool(fig.data),
    )
    name = rows["name"].dropna()
    heading = f"{escape(ticker)}" + (f" · {escape(name.iloc[0])}" if not name.empty else "")
    caption = source_caption(rows)
    if not closes.empty:
        caption += f" Daily closes {closes['date'].min():%Y-%m-%d} to {closes['date'].max():%Y-%m-%d}" + (
            f" in {price_currency}." if price_currency else "."
        )
    return _finish(
        fig,
        title=f"{heading}: price and analyst price targets",
        subtitle="Markers: lowest, mean and highest target on the day each source published them"
        if not dated_rows.empty
        else None,
        caption=caption,
        height=440,
    )


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
            text=[f"{label.split()[0]} {escape(money(row[f'target_{k}'], currency))}" for k, label, _ in kinds],
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
    if history is None or history.empty:
        return conform(pd.DataFrame(), CONSENSUS_HISTORY)
    rows = conform(history, CONSENSUS_HISTORY)
    keep = (rows["ticker"] == ticker).fillna(False) & rows["target_mean"].notna() & _day_mask(rows["as_of"])
    keep &= rows["source"].notna()
    if price_currency is not None:
        keep &= (rows["currency"].isna() | (rows["currency"] == price_currency)).fillna(False)
    return rows[keep].sort_values("as_of")


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
    rows = _table(table)
    rows = rows[rows["source"].notna() & (rows["coverage"] != COVERAGE_NONE).fillna(True)].copy()
    tickers = _ticker_order(rows["ticker"]) or _ticker_order(_table(table)["ticker"])
    several = len(tickers) > 1
    rows["label"] = [
        (f"{escape(r['ticker'])} · " if several else "") + f"{escape(r['source'])}<br>{escape(dated(r['as_of']))}"
        for r in rows.to_dict("records")
    ]
    counted = rows[rows[list(COUNT_COLUMNS)].notna().any(axis=1)]
    rated = rows[rows["rating_mean"].notna()]

    panels = (["counts"] if not counted.empty else []) + ["scale"]
    sizes = {"counts": max(1, len(counted)), "scale": max(1, len(rated))}
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        row_heights=[sizes[p] + 0.6 for p in panels],
        vertical_spacing=0.22 if len(panels) > 1 else 0.1,
        subplot_titles=[
            {"counts": "Analyst ratings, by count", "scale": "Mean rating on the 1–5 scale"}[p] for p in panels
        ],
    )
    for annotation in fig.layout.annotations:
        annotation.update(name="subplot_title", font=dict(size=13), x=0, xanchor="left")
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
        fig.add_annotation(
            name="band_label",
            text=label,
            xref=xref,
            yref=f"{yref} domain",
            x=(lower + upper) / 2,
            y=1,
            yanchor="top",
            showarrow=False,
            font=dict(size=11, color=NOTE_COLOR),
        )
    if not rated.empty:
        colors = _source_colors(rated["source"].astype(str))
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
        fig.add_annotation(
            name="note",
            text="No rating in the data" + (f" for {escape(tickers[0])}" if len(tickers) == 1 else ""),
            xref=f"{xref} domain",
            yref=f"{yref} domain",
            x=0.5,
            y=0.5,
            showarrow=False,
            font=dict(size=14, color=NOTE_COLOR),
        )
    fig.update_xaxes(
        range=[BAND_EDGES[0] - 0.05, BAND_EDGES[-1] + 0.05],
        tickvals=list(range(1, 6)),
        ticktext=[f"{i} {label}" for i, label in enumerate(LABELS, start=1)],
        showgrid=False,
        row=scale_row,
        col=1,
    )
    # Reversed category axis with room above the first row for the band labels.
    fig.update_yaxes(range=[max(len(rated), 1) - 0.5, -1.1], showticklabels=not rated.empty, row=scale_row, col=1)
    if not several and tickers:
        name = _table(table)["name"].dropna()
        heading = (
            escape(tickers[0])
            + (f" · {escape(name.iloc[0])}" if not name.empty else "")
            + ": analyst ratings by source"
        )
    else:
        heading = "Analyst ratings by source"
    body = 70 * (sizes["scale"] + (sizes["counts"] if "counts" in panels else 0)) + 90 * len(panels)
    return _finish(
        fig,
        title=heading,
        caption=source_caption(rows),
        height=max(260, body),
        extra_top=20,
    )


# --- many tickers -----------------------------------------------------------------------------


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
    rows = _table(table)
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
                text=[percent(v) if fraction else f"{v:,.2f}".rstrip("0").rstrip(".") for v in values],
                textposition="outside",
                cliponaxis=False,
                customdata=np.column_stack(
                    [
                        _escaped(group["ticker"]),
                        _escaped(group["name"]),
                        _escaped(group["source"]),
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
        ticks += list(positions)
        tick_text += [f"<b>{escape(t)}</b>" for t in group["ticker"]]
    if rows.empty:
        _note(fig, f"No rows with a value for {escape(_metric_title(metric).lower())}")
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
        f": highest and lowest {n}" if len(groups) > 1 else (": all tickers" if len(rows) else "")
    )
    return _finish(
        fig,
        title=escape(heading),
        subtitle="One row per ticker: its primary source" if has_primary else None,
        caption=source_caption(rows),
        height=max(220, 24 * len(ticks) + (24 if len(groups) > 1 else 0)),
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
    rows = _table(table)
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

    def customdata(part: pd.DataFrame) -> np.ndarray:
        return np.column_stack(
            [
                _escaped(part["ticker"]),
                _escaped(part["name"]),
                [escape(c) if isinstance(c, str) else NO_LABEL for c in part["consensus"].astype(object)],
                _escaped(part["source"]),
            ]
        )

    fig = go.Figure()
    numeric_color = pd.api.types.is_numeric_dtype(rows[color]) and not pd.api.types.is_bool_dtype(rows[color])
    if shown.empty:
        pass
    elif numeric_color:
        fig.add_trace(
            go.Scatter(
                x=shown["_x"].to_numpy(float),
                y=shown["_y"].to_numpy(float),
                mode="markers",
                marker=dict(
                    color=pd.to_numeric(shown[color], errors="coerce").astype(float).to_numpy(),
                    colorscale="Viridis",
                    showscale=True,
                    colorbar=dict(title=dict(text=escape(color))),
                    size=7,
                    opacity=0.75,
                ),
                customdata=customdata(shown),
                hovertemplate=hover,
                name=escape(color),
                showlegend=False,
            )
        )
    else:
        groups = shown[color].astype(object).where(shown[color].notna(), NO_LABEL).astype(str)
        order = [v for v in (*LABELS, NO_LABEL) if v in set(groups)] if color == "consensus" else []
        order += sorted(set(groups) - set(order))
        palette = LABEL_COLORS if color == "consensus" else {}
        spare = iter((*_SPARE_COLORS, *SOURCE_COLORS.values()) * 8)
        for value in order:
            part = shown[groups == value]
            fig.add_trace(
                go.Scatter(
                    x=part["_x"].to_numpy(float),
                    y=part["_y"].to_numpy(float),
                    mode="markers",
                    marker=dict(
                        color=palette.get(value) or (NO_LABEL_COLOR if value == NO_LABEL else next(spare)),
                        size=7,
                        opacity=0.75,
                        line=dict(color="white", width=0.5),
                    ),
                    customdata=customdata(part),
                    hovertemplate=hover,
                    name=f"{escape(value)} ({len(part):,})",
                    meta=escape(value),
                )
            )
    if shown.empty:
        _note(fig, "No rows with both an upside and " + escape(_metric_title(x).lower()))
    fig.add_hline(y=0, line=dict(color="#444", width=1, dash="dot"))
    fig.update_xaxes(title_text=escape(_metric_title(x)), tickformat=".0%" if fraction_x else ",")
    fig.update_yaxes(title_text="Implied upside (mean target / price − 1)", tickformat="+.0%")
    left_out = len(rows) - len(shown)
    subtitle = f"{len(shown):,} rows" + (f"; {left_out:,} without an upside or this value left out" if left_out else "")
    return _finish(
        fig,
        title=f"Implied upside against {escape(_metric_title(x).lower())}",
        subtitle=subtitle,
        caption=source_caption(shown),
        height=480,
    )


# --- one ticker over time: recommendation trend and consensus history ----------------------------

TREND_SOURCE = "Yahoo Finance"  # the recommendation trend is Yahoo's (schema TREND)


def _latest_trend(trend: pd.DataFrame) -> pd.DataFrame:
    """Each ticker's trend from its latest fetch, months in calendar order (Yahoo's periods as fallback)."""
    rows = conform(trend, TREND)
    rows = rows[rows["ticker"].notna() & rows["observed_at"].notna()]
    latest = rows.groupby("ticker")["observed_at"].transform("max")
    rows = rows[rows["observed_at"] == latest].copy()
    # '-3m' < '-2m' < '-1m' < '0m': the period's number orders months when the month is unknown.
    rows["_period"] = pd.to_numeric(rows["period"].str.extract(r"^([+-]?\d+)m$")[0], errors="coerce")
    rows["_month"] = rows["month"].fillna(rows["period"])
    order = _ticker_order(rows["ticker"])
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
    tickers = _ticker_order(rows["ticker"])
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
        _note(fig, "No recommendation trend in the data" + (f" for {escape(tickers[0])}" if tickers else ""))
    fig.update_layout(barmode="stack", bargap=0.3, legend_traceorder="normal")
    fig.update_xaxes(type="multicategory" if several else "category", title_text=None)
    fig.update_yaxes(title_text="Analysts", rangemode="tozero", visible=bool(fig.data))

    fetched = sorted({utc_minute(v) for v in rows["observed_at"].dropna()})
    when = f"fetched {' to '.join(dict.fromkeys([fetched[0], fetched[-1]]))}" if fetched else "no fetch"
    caption = (
        f"Source: {TREND_SOURCE} recommendation trend ({when}); each month counts the analysts' latest "
        "ratings that month, as Yahoo reports them."
    )
    if title is not None:
        heading = escape(title)
    elif len(tickers) == 1:
        heading = f"{escape(tickers[0])}: analyst recommendations by month"
    else:
        heading = "Analyst recommendations by month"
    return _finish(
        fig,
        title=heading,
        subtitle="Strong Buy to Strong Sell, stacked; the latest fetch of each ticker",
        caption=caption,
        height=320,
    )


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
    tickers = _ticker_order(rows["ticker"])
    several = len(tickers) > 1
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.6, 0.4],
        vertical_spacing=0.12,
        subplot_titles=["Mean price target", "Implied upside (mean target / price − 1)"],
    )
    for annotation in fig.layout.annotations:
        annotation.update(name="subplot_title", font=dict(size=13), x=0, xanchor="left")

    colors = _source_colors(rows["source"].astype(str))
    spare = iter(_SPARE_COLORS * 4)
    for (ticker, source), group in rows.groupby(["ticker", "source"], sort=False):
        color = colors[str(source)] if not several else next(spare, colors[str(source)])
        name = f"{escape(ticker)} · {escape(source)}" if several else escape(source)
        labels = [v if isinstance(v, str) else NO_LABEL for v in group["consensus"].astype(object)]
        changed = [i == 0 or label != labels[i - 1] for i, label in enumerate(labels)]
        marker_colors = [LABEL_COLORS.get(label, NO_LABEL_COLOR) for label in labels]
        hover = [_history_hover(r) for r in group.to_dict("records")]
        targets = group["target_mean"].to_numpy(float)
        fig.add_trace(
            go.Scatter(
                x=group["_day"],
                y=targets,
                mode="lines+markers+text",
                line=dict(color=color, width=2),
                marker=dict(color=marker_colors, size=10, line=dict(color=color, width=2)),
                text=[escape(label) if first else "" for label, first in zip(labels, changed, strict=True)],
                textposition="top center",
                textfont=dict(size=11, color=NOTE_COLOR),
                name=name,
                legendgroup=name,
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
                meta="target",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=group["_day"],
                y=group["upside_mean"].to_numpy(float),
                mode="lines+markers",
                line=dict(color=color, width=2, dash="dot"),
                marker=dict(color=marker_colors, size=8, line=dict(color=color, width=1)),
                name=name,
                legendgroup=name,
                showlegend=False,
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
                meta="upside",
            ),
            row=2,
            col=1,
        )

    if rows.empty:
        fig.add_annotation(
            name="note",
            text="No consensus history in the data" + (f" for {escape(title)}" if title else ""),
            xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
            font=dict(size=14, color=NOTE_COLOR),
        )  # fmt: skip
    elif rows["upside_mean"].isna().all():
        fig.add_annotation(
            name="note",
            text="No price for these snapshots, so no upside",
            xref="x2 domain", yref="y2 domain", x=0.5, y=0.5, showarrow=False,
            font=dict(size=13, color=NOTE_COLOR),
        )  # fmt: skip
    currencies = rows["currency"].dropna().unique()
    fig.update_yaxes(
        title_text=f"Target ({escape(currencies[0])})" if len(currencies) == 1 else "Target",
        tickformat=",.2f",
        row=1,
        col=1,
    )
    fig.update_yaxes(tickformat="+.0%", zeroline=True, zerolinecolor="#444", row=2, col=1)
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

    caption = source_caption(rows.drop(columns="price_source"))
    closes = rows[(rows["price_source"] == "close").fillna(False) & rows["upside_mean"].notna()]
    if not closes.empty:
        days = sorted(closes["price_as_of"].dropna().astype(str).unique())
        caption += (
            f" Snapshots without their own price use the latest close on or before their day, at most "
            f"{HISTORY_CLOSE_MAX_AGE.days} days earlier (closes of {days[0]}"
            + (f" to {days[-1]})." if len(days) > 1 else ").")
        )
    if title is not None:
        heading = escape(title)
    elif len(tickers) == 1:
        heading = f"{escape(tickers[0])}: consensus history"
    else:
        heading = "Consensus history"
    return _finish(
        fig,
        title=heading,
        subtitle="One line per source; marker colour and text: the consensus label",
        caption=caption,
        height=460,
        extra_top=20,
    )


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


__all__: Sequence[str] = (
    "CAPTION_NAME",
    "escape",
    "history_chart",
    "price_target_chart",
    "rating_breakdown_chart",
    "source_caption",
    "top_bottom_chart",
    "trend_chart",
    "upside_chart",
    "upside_scatter",
)
