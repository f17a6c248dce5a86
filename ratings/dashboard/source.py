"""The data source of a run: the sidebar's choice, the dataset app.py opens with it, and its freshness."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from ..dataset import DataError, Dataset
from ..formatting import age_text, kind_name, utc_minute
from ..store import StoreError, display
from . import cache
from .markdown import md, md_list
from .state import SOURCE_KEY, SOURCE_PARAM, seed_widget, set_query_param
from .watchlist import watchlist_tickers

#: The data-source choices in words.
SOURCE_LABELS: dict[str, str] = {"bundle": "Bundled snapshot", "store": "Local store", "live": "Live (Yahoo)"}

# Session-state keys of what app.py worked out in this run.
_RUN_SOURCE = "_run_source"
_RUN_DATASET = "_run_dataset"


def source_choice() -> str:
    """The sidebar's data-source choice (app.py draws it on every run), kept in ``?source=``."""
    shared = st.query_params.get(SOURCE_PARAM)
    if shared is not None and shared not in SOURCE_LABELS and SOURCE_KEY not in st.session_state:
        st.warning(
            f"Unknown data source {md(shared)} in the link; showing the bundled snapshot.", icon=":material/warning:"
        )
    seed_widget(SOURCE_KEY, lambda: shared if shared in SOURCE_LABELS else "bundle")
    kind = st.sidebar.radio(
        "Data source",
        list(SOURCE_LABELS),
        format_func=SOURCE_LABELS.__getitem__,
        key=SOURCE_KEY,
        help="Bundled snapshot: real data shipped with the project, works offline. Local store: what "
        "`ratings fetch` or the Refresh button stored, with its history. Live: the local store, refreshed "
        "from Yahoo Finance on demand.",
    )
    set_query_param(SOURCE_PARAM, None if kind == "bundle" else kind)
    return str(kind)


def data_name(data: Dataset | cache.Source) -> str:
    """'the bundled snapshot' or 'the local store', for sentences."""
    return kind_name(data.kind)


def no_store_message(src: cache.Source) -> str:
    text = (
        f"There is no local store yet at {md(display(src.location))}. Fill it from the command line with "
        "`ratings fetch TICKER...` (for example `ratings fetch F TSLA NVDA`)"
    )
    if src.kind == "live":
        tickers = md_list(watchlist_tickers()) or "empty"
        return text + f", or press **Refresh from Yahoo** in the sidebar to fetch the watchlist ({tickers}) now."
    return text + ", or choose **Live (Yahoo)** as the data source and press **Refresh from Yahoo**."


def open_dataset(kind: str) -> Dataset | None:
    """app.py: load the chosen source for this run, or show why not (never a traceback) and return None.

    A missing store is explained (st.info); a store that cannot be read (corrupt, not ours, newer
    schema) is an st.error naming the file, which is left untouched.
    """
    src = cache.source(kind)
    st.session_state[_RUN_SOURCE] = src
    st.session_state[_RUN_DATASET] = None
    if src.from_store and not src.path.exists():
        st.info(no_store_message(src), icon=":material/info:")
        return None
    try:
        data = cache.dataset(src)
    except StoreError as exc:
        st.error(
            f"The local store {md(display(src.location))} cannot be read, so nothing is shown and the file is left "
            f"as it is. {md(exc)}. Move it away, or point the `RATINGS_STORE` environment variable at another file.",
            icon=":material/error:",
        )
        return None
    except DataError as exc:
        st.error(f"The data could not be loaded. {md(exc)}")
        return None
    st.session_state[_RUN_DATASET] = data
    return data


def source() -> cache.Source:
    """The data source of this run (as app.py opened it)."""
    src = st.session_state.get(_RUN_SOURCE)
    return src if isinstance(src, cache.Source) else cache.source()


def load_dataset() -> Dataset | None:
    """The dataset app.py opened in this run; None if it could not (app.py has said why)."""
    data = st.session_state.get(_RUN_DATASET)
    return data if isinstance(data, Dataset) else None


def freshness_text(data: Dataset) -> str:
    """'Newest data 3 h old (fetched 2026-11-24 14:03 UTC)' for store data; '' for the bundle."""
    if data.kind == "bundle":
        return ""
    newest = data.newest_fetch()
    if newest is None:
        return ""  # the label says "no snapshot yet" already
    return f"Newest data {age_text(newest, datetime.now(UTC))} (fetched {utc_minute(newest)})"
