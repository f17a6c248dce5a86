"""Charts and tables with their download buttons: PNG, SVG and HTML for a chart, formula-safe CSV for a table.

Files are made only when a button is clicked (a callable as the button's data), so a page run
never pays for an export nobody asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from .. import export
from ..charts import alt_text, for_screen, subtitle_text
from . import cache
from .markdown import md

MIME = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html", "csv": "text/csv"}


def static_export_available() -> bool:
    """Whether PNG/SVG can be made here: a Chrome/Chromium was found and has not failed."""
    return export.static_export_available()


def static_export_note() -> None:
    """One caption per page when PNG/SVG downloads are not offered."""
    if not static_export_available():
        st.caption(
            "PNG and SVG downloads need Chrome or Chromium, which was not found on this machine; "
            "HTML and CSV downloads work without it."
        )


def chart(
    figure: go.Figure | Callable[..., go.Figure],
    *args: Any,
    kind: str,
    tickers: Iterable[str],
    as_of: str | None,
    key: str,
    scope: Sequence[str] = (),
    **options: Any,
) -> None:
    """Draw a chart with its PNG, SVG and HTML download buttons (files made only when clicked).

    `figure` is a chart builder of :mod:`ratings.charts` called with `args` and `options` (built once
    per content and shared between runs and sessions: :func:`ratings.dashboard.cache.drawn`), or a
    figure already built. On the page the chart follows the app's theme (light or dark) and leaves its
    title and source caption to the page; what its marks mean is a caption above it, and its title and
    a one-line summary are its text alternative. The downloaded files are the whole figure, on white,
    with its title and sources, so that a file says what it shows wherever it goes.
    """
    if isinstance(figure, go.Figure):
        made = cache.Drawn(figure, for_screen(figure), alt_text(figure), subtitle_text(figure))
    else:
        made = cache.drawn(figure, *args, **options)
    fig = made.figure
    if made.legend:
        st.caption(md(made.legend))
    st.plotly_chart(made.screen, key=f"{key}-chart", theme="streamlit", config={"displaylogo": False}, alt=made.alt)
    formats = ("png", "svg", "html") if static_export_available() else ("html",)
    names = list(tickers)
    with st.container(horizontal=True, gap="small"):
        for fmt in formats:
            st.download_button(
                fmt.upper(),
                data=partial(export.figure_bytes, fig, fmt),
                file_name=export.export_filename(kind, names, as_of, fmt, scope=scope),
                mime=MIME[fmt],
                key=f"{key}-{fmt}",
                on_click="ignore",
                icon=":material/download:",
                help=f"Download this chart as {fmt.upper()}",
            )


#: How a keyboard leaves a data grid: inside it, Tab moves between cells (as in a spreadsheet).
GRID_KEYS = "In the table, the arrow keys and Tab move between cells; Escape, then Tab, moves on past it."


def table(frame: pd.DataFrame, *, what: str, **options: Any) -> None:
    """``st.dataframe`` with a text alternative saying what the table holds and how a keyboard leaves it."""
    st.dataframe(frame, hide_index=True, alt=f"{what} ({len(frame):,} rows). {GRID_KEYS}", **options)


def csv_button(
    frame: pd.DataFrame,
    *,
    kind: str,
    tickers: Iterable[str],
    as_of: str | None,
    key: str,
    label: str = "CSV",
    scope: Sequence[str] = (),
) -> None:
    """A CSV download of `frame` (formula-safe, made only when clicked)."""
    st.download_button(
        label,
        data=partial(export.csv_bytes, frame),
        file_name=export.export_filename(kind, list(tickers), as_of, "csv", scope=scope),
        mime=MIME["csv"],
        key=f"{key}-csv",
        on_click="ignore",
        icon=":material/download:",
        help="Download this table as CSV (numbers unformatted, upside as a fraction)",
    )


def consensus_csv(table: pd.DataFrame, extra: Iterable[str] = ("name",)) -> pd.DataFrame:
    """The public CSV columns of a consensus table, followed by `extra` columns such as the name."""
    frame = export.contract_frame(table)
    for column in extra:
        if column in table.columns and column not in frame.columns:
            frame[column] = table[column].to_numpy()
    return frame
