"""Chart builders: each takes frames and keyword options and returns a plotly Figure.

Every figure carries :func:`source_caption` as an annotation at its bottom (named
``source_caption``), so an exported PNG still says where its numbers come from.

Plotly renders a subset of HTML in titles, annotations, tick labels, legend entries and hover
text, so every text that comes from data or from a user goes through :func:`escape` first. It
escapes ``&``, ``<`` and ``>`` and writes quotes as numeric entities: plotly decodes numeric
entities but not ``&quot;``, so "Macy's" still reads "Macy's".

By family: :mod:`.many` (many tickers), :mod:`.ticker` (one ticker), :mod:`.over_time` (one
ticker over time), :mod:`.track_record` (analysts' track record); :mod:`.style` is what they share.
"""

from __future__ import annotations

from .many import NO_CONSENSUS_NOTE, NO_PRICE_NOTE, NO_TARGET_NOTE, top_bottom_chart, upside_chart, upside_scatter
from .over_time import HISTORY_MIN_TARGET_SPAN, history_chart, trend_chart
from .style import (
    CAPTION_NAME,
    LABEL_COLORS,
    NO_LABEL,
    SOURCE_COLORS,
    UPSIDE_FORMULA,
    alt_text,
    escape,
    for_screen,
    source_caption,
    subtitle_text,
)
from .ticker import price_target_chart, rating_breakdown_chart
from .track_record import calls_chart, success_rate_chart

__all__ = [
    "CAPTION_NAME",
    "HISTORY_MIN_TARGET_SPAN",
    "LABEL_COLORS",
    "NO_CONSENSUS_NOTE",
    "NO_LABEL",
    "NO_PRICE_NOTE",
    "NO_TARGET_NOTE",
    "SOURCE_COLORS",
    "UPSIDE_FORMULA",
    "alt_text",
    "calls_chart",
    "escape",
    "for_screen",
    "history_chart",
    "price_target_chart",
    "rating_breakdown_chart",
    "source_caption",
    "subtitle_text",
    "success_rate_chart",
    "top_bottom_chart",
    "trend_chart",
    "upside_chart",
    "upside_scatter",
]
