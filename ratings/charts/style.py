"""What every chart shares: safe text, colours, the template and fonts, the source caption, the common layout.

Plotly renders a subset of HTML in titles, annotations, tick labels, legend entries and hover
text, so every text that comes from data or from a user goes through :func:`escape` first.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core import LABELS
from ..formatting import MISSING
from ..schema import FLAG, Schema, is_day

TEMPLATE = "plotly_white"
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13, color="#222")
NOTE_COLOR = "#6b6b6b"
CAPTION_NAME = "source_caption"  # name of the caption annotation, so callers and tests can find it

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
SOURCE_COLORS: dict[str, str] = {"Yahoo Finance": "#0072B2", "TipRanks": "#D55E00", "finviz": "#009E73"}
SPARE_COLORS = ("#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
LABEL_COLORS: dict[str, str] = dict(zip(LABELS, ("#1a7f37", "#7cc47f", "#e3c565", "#f08a3c", "#c0392b"), strict=True))
NO_LABEL = "No rating"
NO_LABEL_COLOR = "#9a9a9a"

UPSIDE_FORMULA = "Upside = target / price − 1."


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


def escaped(values: pd.Series) -> np.ndarray:
    """:func:`escape` of each value, as an object array for a trace's customdata."""
    return np.array([escape(v) for v in values.astype(object)], dtype=object)


def _when(dates: Iterable[str]) -> str:
    """'as of 2026-07-02', 'as of 2026-06-29 to 2026-07-02', '2026, no day given', or both kinds."""
    days = sorted({d for d in dates if is_day(d)})
    vague = sorted({d for d in dates if not is_day(d)})
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


def source_colors(sources: Iterable[str]) -> dict[str, str]:
    """A colour per source: its own where it has one, else the next spare."""
    colors: dict[str, str] = {}
    spare = iter(SPARE_COLORS * 4)
    for source in sources:
        if source not in colors:
            colors[source] = SOURCE_COLORS.get(source) or next(spare, "#555555")
    return colors


def finish(
    fig: go.Figure,
    *,
    title: str,
    caption: str,
    height: int,
    summary: str,
    subtitle: str | None = None,
    bottom: int = 60,
    extra_top: int = 0,
) -> go.Figure:
    """Common look: template, escaped title, legend on top, the caption below the plot area.

    `title` and `subtitle` must already be escaped; `summary` is plain text, one sentence of what the
    chart shows, for its text alternative; `bottom` is the room the x axis needs below the plot
    area, `extra_top` the room subplot titles need above it. This is the figure as it is exported
    (a file must say what it shows and where its numbers come from); :func:`for_screen` is the
    page's version of it.
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
        # Kept escaped like every text of a figure; alt_text() and subtitle_text() give them back as plain text.
        meta={
            "alt": escape(f"{plain(title)}. {summary}"),
            "subtitle": subtitle or "",
            "screen": {"height": height + bottom + extra_top + _LEGEND_ROOM + 10, "top": _LEGEND_ROOM + extra_top,
                       "bottom": bottom + 10},
        },
    )  # fmt: skip
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


#: Room above the plot area for the legend on a page, where the page's own heading names the chart.
_LEGEND_ROOM = 40


def for_screen(fig: go.Figure) -> go.Figure:
    """The figure as a page draws it, a copy: no title, subtitle or source caption inside it.

    On a page those are text of their own (the section's heading, a caption, the chart's text
    alternative), which a narrow screen wraps where a figure's one-line title would be cut off.
    Greys meant for a white background are left to the page's theme. The exported file keeps all.
    """
    screen = go.Figure(fig)
    meta = dict(fig.layout.meta or {})
    geometry = meta.get("screen")
    if not geometry:
        return screen
    screen.layout.annotations = [a for a in screen.layout.annotations if a.name != CAPTION_NAME]
    for annotation in screen.layout.annotations:
        if annotation.font.color == NOTE_COLOR:
            annotation.font.color = None
    for trace in screen.data:
        textfont = getattr(trace, "textfont", None)
        if textfont is not None and textfont.color == NOTE_COLOR:
            trace.textfont.color = None
    screen.update_layout(
        title=dict(text="", subtitle=dict(text="")),
        height=geometry["height"],
        margin=dict(t=geometry["top"], b=geometry["bottom"]),
        legend=dict(y=1 - 4 / geometry["height"]),
        font=dict(color=None),
    )
    return screen


def alt_text(fig: go.Figure) -> str:
    """The figure's text alternative, as plain text: its title and a one-line summary of what it shows."""
    return plain(str((fig.layout.meta or {}).get("alt") or fig.layout.title.text or "Chart"))


def subtitle_text(fig: go.Figure) -> str:
    """The figure's subtitle as plain text ('' if none): what its marks mean, for a caption on a page."""
    return plain(str((fig.layout.meta or {}).get("subtitle") or ""))


def extremes(values: pd.Series, labels: pd.Series, written: Callable[[float], str]) -> str:
    """'highest TSLA +25.3%, lowest F -2.1%' from the known `values` (labelled by `labels`); '' if none."""
    known = values.astype("float64")
    known = known[known.notna()]
    if known.empty:
        return ""
    ranked = known.sort_values(kind="stable")
    named = labels.reindex(ranked.index).astype(str)
    highest = f"highest {named.iloc[-1]} {written(float(ranked.iloc[-1]))}"
    return highest if len(ranked) == 1 else f"{highest}, lowest {named.iloc[0]} {written(float(ranked.iloc[0]))}"


_TAGS = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """Plotly's HTML-like text (as this module escapes it) as plain text: tags dropped, then entities decoded.

    Tags are dropped before decoding, so a '&lt;b&gt;' from the data comes back as the text '<b>'.
    """
    return html.unescape(_TAGS.sub("", text.replace("<br>", " "))).strip()


def add_note(
    fig: go.Figure, text: str, *, xref: str = "paper", yref: str = "paper", y: float = 0.5, size: int = 14
) -> None:
    """A centred grey note named ``note`` (`text` already escaped), by default amid an empty plot area."""
    fig.add_annotation(
        name="note",
        text=text,
        xref=xref,
        yref=yref,
        x=0.5,
        y=y,
        showarrow=False,
        font=dict(size=size, color=NOTE_COLOR),
    )


def stacked_subplots(titles: Sequence[str], **options: Any) -> go.Figure:
    """Panels one above the other, titled small at their left edge (annotations named ``subplot_title``)."""
    fig = make_subplots(rows=len(titles), cols=1, subplot_titles=list(titles), **options)
    for annotation in fig.layout.annotations:
        annotation.update(name="subplot_title", font=dict(size=13), x=0, xanchor="left")
    return fig


def with_columns(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """`frame` as the core made it, plus each column of `schema` it lacks, all missing.

    A frame of the public CSV contract has no ``rating_basis``, ``coverage`` or ``name``, and an
    empty ``pd.DataFrame()`` no column at all. The columns `frame` has are left as they are (not
    recast: the core typed them already), and a frame that lacks none is returned itself.
    """
    missing = {
        c.name: pd.Series(False if c.dtype == FLAG else None, index=frame.index, dtype=c.dtype)
        for c in schema.columns
        if c.name not in frame.columns
    }
    return frame.assign(**missing) if missing else frame


def chart_title(title: str | None, tickers: Sequence[str], subject: str) -> str:
    """The caller's `title` (escaped), else 'F: `subject`' for one ticker, else `subject` capitalised."""
    if title is not None:
        return escape(title)
    if len(tickers) == 1:
        return f"{escape(tickers[0])}: {subject}"
    return subject[:1].upper() + subject[1:]


def ticker_order(tickers: pd.Series) -> list[str]:
    """The tickers in the order they first appear, each once."""
    return list(dict.fromkeys(str(t) for t in tickers.dropna()))
