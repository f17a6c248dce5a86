"""The Streamlit side of the dashboard: the only part of ``ratings`` that imports Streamlit.

``app.py`` and ``pages/`` are thin scripts: they read widgets, call this package and ``ratings``,
and render. What they share lives here, one concern a module:

* :mod:`~ratings.dashboard.cache`: the Streamlit caches around the loaders;
* :mod:`~ratings.dashboard.source`: the data source of a run and the dataset app.py opens;
* :mod:`~ratings.dashboard.watchlist`: the sidebar's watchlist;
* :mod:`~ratings.dashboard.live`: the Live source: its refresh button and staleness banner;
* :mod:`~ratings.dashboard.state`: widget values and query parameters across page switches;
* :mod:`~ratings.dashboard.links`: what a shared link asks for, each unusable value named;
* :mod:`~ratings.dashboard.downloads`: charts and tables with their download buttons;
* :mod:`~ratings.dashboard.sections`: a long page's tabs, of which only the open one is drawn;
* :mod:`~ratings.dashboard.provenance`: where every number comes from, on screen;
* :mod:`~ratings.dashboard.markdown`: user and data text escaped for Markdown.

The names below are what the pages use, so that a page reads ``ui.chart(...)`` after
``from ratings import dashboard as ui``.
"""

from __future__ import annotations

from pathlib import Path

from . import cache
from .downloads import GRID_KEYS, chart, consensus_csv, csv_button, static_export_available, static_export_note, table
from .links import link_choice, link_day, link_int, link_subset, link_text, link_ticker, link_warning
from .live import refresh_controls, staleness_banner
from .markdown import md, md_list, rst_to_markdown
from .provenance import (
    describe_source,
    overview_frame,
    price_sources,
    price_used,
    provenance_caption,
    sources_table,
    stale_note,
    table_height,
)
from .sections import Sections, sections
from .source import SOURCE_LABELS, data_name, freshness_text, load_dataset, open_dataset, source, source_choice
from .state import (
    CHANGES,
    COMPARE,
    METHODOLOGY,
    OVERVIEW,
    TICKER,
    WATCHLIST_KEY,
    WATCHLIST_PARAM,
    remember,
    remembered,
    run_through_app,
    seed_widget,
    set_query_param,
)
from .watchlist import initial_watchlist, watchlist_box, watchlist_input, watchlist_tickers

#: The dashboard's favicon, served by Streamlit itself.
FAVICON = str(Path(__file__).with_name("favicon.png"))

__all__ = [
    "CHANGES",
    "COMPARE",
    "FAVICON",
    "GRID_KEYS",
    "METHODOLOGY",
    "OVERVIEW",
    "SOURCE_LABELS",
    "TICKER",
    "WATCHLIST_KEY",
    "WATCHLIST_PARAM",
    "Sections",
    "cache",
    "chart",
    "consensus_csv",
    "csv_button",
    "data_name",
    "describe_source",
    "freshness_text",
    "initial_watchlist",
    "link_choice",
    "link_day",
    "link_int",
    "link_subset",
    "link_text",
    "link_ticker",
    "link_warning",
    "load_dataset",
    "md",
    "md_list",
    "open_dataset",
    "overview_frame",
    "price_sources",
    "price_used",
    "provenance_caption",
    "refresh_controls",
    "remember",
    "remembered",
    "rst_to_markdown",
    "run_through_app",
    "sections",
    "seed_widget",
    "set_query_param",
    "source",
    "source_choice",
    "sources_table",
    "stale_note",
    "staleness_banner",
    "static_export_available",
    "static_export_note",
    "table",
    "table_height",
    "watchlist_box",
    "watchlist_input",
    "watchlist_tickers",
]
