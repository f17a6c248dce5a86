"""Streamlit caches around the loaders: the only module of ``ratings`` that imports Streamlit.

The :class:`~ratings.data.Dataset` is loaded once per process and shared by every session
(``st.cache_resource``): no code in ``ratings`` mutates its frames, so sharing is safe and the
second page view costs nothing. Consensus tables are cached per tuple of tickers
(``st.cache_data``, which hands each caller its own copy). Every cache is keyed by the data
folder too, so pointing ``$RATINGS_DATA_DIR`` elsewhere never serves another bundle's numbers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from .data import Dataset, data_dir, load_bundle


@st.cache_resource(show_spinner="Loading the bundled snapshot…")
def _dataset(directory: str) -> Dataset:
    # A DataError propagates and is not cached: the next run tries again.
    return load_bundle(Path(directory))


def dataset() -> Dataset:
    """The bundled snapshot, loaded once per process. Raises :class:`ratings.data.DataError`."""
    return _dataset(str(data_dir()))


@st.cache_data(show_spinner=False, max_entries=128)
def _table(directory: str, tickers: tuple[str, ...] | None) -> pd.DataFrame:
    return _dataset(directory).table(list(tickers) if tickers is not None else None)


def table(tickers: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The consensus table (``CONSENSUS_TABLE``) for `tickers` in that order, or for every ticker."""
    return _table(str(data_dir()), tuple(tickers) if tickers is not None else None)


@st.cache_data(show_spinner=False, max_entries=64)
def _prices(directory: str, ticker: str) -> pd.DataFrame:
    return _dataset(directory).prices_for(ticker)


def prices(ticker: str) -> pd.DataFrame:
    """Daily closes of one ticker (``PRICES``)."""
    return _prices(str(data_dir()), ticker)


@st.cache_data(show_spinner=False, max_entries=64)
def _history(directory: str, ticker: str) -> pd.DataFrame:
    return _dataset(directory).history_for(ticker)


def history(ticker: str) -> pd.DataFrame:
    """Dated consensus snapshots of one ticker (``CONSENSUS_HISTORY``), oldest first."""
    return _history(str(data_dir()), ticker)
