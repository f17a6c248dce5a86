"""Streamlit caches around the loaders.

Every cache is keyed by a :class:`Source`: which kind of data (``bundle``, ``store`` or ``live``,
see :data:`ratings.dataset.KINDS`), where it lives (the bundle folder or the store file) and, for the
store, a *version*: the size and modification time of the SQLite file and its WAL (of a PostgreSQL
store: its newest fetch-log id and snapshot, :func:`ratings.store.version_stamp`). A write to the
store (a refresh here, or ``ratings fetch`` in another process) changes the version, so the next
run loads the new data without anyone clearing anything, and pointing ``$RATINGS_DATA_DIR`` or
``$RATINGS_STORE`` elsewhere never serves another file's numbers.

The :class:`~ratings.dataset.Dataset` is shared by every session (``st.cache_resource``): no code in
``ratings`` mutates its frames. Derived frames are cached per argument (``st.cache_data``, which
hands each caller its own copy). A load that fails raises and is not cached: the next run tries
again. :func:`refresh` clears the store's entries after a refresh that stored something, so the
superseded datasets do not linger in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from .. import changes as changes_module
from .. import charts, core, sources, store
from ..dataset import KINDS, DataError, Dataset
from ..paths import data_dir, default_store_path, store_target

if TYPE_CHECKING:  # the live loader (yfinance) is imported only when a refresh runs: it weighs ~30 MiB
    from .. import yahoo
    from ..refresh import RefreshOutcome

#: Set by tests (never by the app) to replace :class:`ratings.yahoo.LiveConfig`'s conservative
#: defaults, e.g. no rate limit and no backoff against the offline fake.
live_config_override: yahoo.LiveConfig | None = None

# The store's version stamp (ratings.store.version_stamp): a file's (mtime, size) pairs, or PostgreSQL's newest fetch.
FileVersion = tuple[Any, ...]


@dataclass(frozen=True)
class Source:
    """Where the dashboard's data comes from; hashable, so it can key the caches."""

    kind: str
    location: str
    version: FileVersion = ()

    @property
    def path(self) -> Path | store.StoreURL:
        return store.locate(self.location)  # a file's Path, or a PostgreSQL URL: both say exists()

    @property
    def from_store(self) -> bool:
        return self.kind != "bundle"


def store_version(path: Path | str) -> FileVersion:
    """(mtime_ns, size) of the store file and of its WAL, None for a file that is absent; for a PostgreSQL
    store, its newest fetch-log id and snapshot time (one cheap query)."""
    return store.version_stamp(path)


def source(kind: str = "bundle") -> Source:
    """The current :class:`Source` of `kind`: the bundle folder, or the store file as it is now."""
    if kind not in KINDS:
        raise ValueError(f"unknown data source {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "bundle":
        return Source(kind, str(data_dir()))
    path = default_store_path()
    return Source(kind, str(path), store_version(path))


# Two caches for two lifetimes: the bundle never changes; the store's entries go with each new version.
@st.cache_resource(show_spinner="Loading the bundled snapshot…")
def _bundle(directory: str) -> Dataset:
    return sources.load("bundle", data_directory=Path(directory))


@st.cache_resource(show_spinner="Reading the local store…", max_entries=8)
def _stored(kind: str, location: str, version: FileVersion) -> Dataset:
    # `version` is only part of the key: a new version of the file is a new entry.
    try:
        names = _bundle(str(data_dir())).universe  # already cached: do not read the bundle again
    except DataError:
        names = None
    return sources.load(kind, store_path=store_target(location), reference_universe=names)


def _load(src: Source) -> Dataset:
    return _bundle(src.location) if src.kind == "bundle" else _stored(src.kind, src.location, src.version)


def dataset(src: Source | None = None) -> Dataset:
    """The data of `src` (default: the bundle). Raises :class:`ratings.dataset.DataError`
    (:class:`ratings.store.StoreError` for the store)."""
    return _load(src or source())


@st.cache_data(show_spinner=False, max_entries=128)
def _table(src: Source, tickers: tuple[str, ...] | None) -> pd.DataFrame:
    return _load(src).table(list(tickers) if tickers is not None else None)


def table(tickers: tuple[str, ...] | None = None, src: Source | None = None) -> pd.DataFrame:
    """The consensus table (``CONSENSUS_TABLE``) for `tickers` in that order, or for every ticker."""
    return _table(src or source(), tuple(tickers) if tickers is not None else None)


@st.cache_data(show_spinner=False, max_entries=64)
def _prices(src: Source, ticker: str) -> pd.DataFrame:
    return _load(src).prices_for(ticker)


def prices(ticker: str, src: Source | None = None) -> pd.DataFrame:
    """Daily closes of one ticker (``PRICES``)."""
    return _prices(src or source(), ticker)


@st.cache_data(show_spinner=False, max_entries=64)
def _history(src: Source, ticker: str) -> pd.DataFrame:
    return _load(src).history_for(ticker)


def history(ticker: str, src: Source | None = None) -> pd.DataFrame:
    """Dated consensus snapshots of one ticker (``CONSENSUS_HISTORY``), oldest first."""
    return _history(src or source(), ticker)


@st.cache_data(show_spinner=False, max_entries=32)
def _changes(src: Source, tickers: tuple[str, ...], since: str | None) -> pd.DataFrame:
    data = _load(src)
    return changes_module.changes(data.history, data.upgrades, list(tickers), since)


def changes(tickers: tuple[str, ...], since: str | None = None, src: Source | None = None) -> pd.DataFrame:
    """What moved for `tickers` (``ratings.changes.CHANGES``) since the previous snapshot or `since`."""
    return _changes(src or source(), tuple(tickers), since)


def live_config() -> yahoo.LiveConfig:
    """How the dashboard's refresh talks to Yahoo: the conservative defaults, unless a test overrides them."""
    from .. import yahoo

    return live_config_override or yahoo.LiveConfig()


def clear_store_caches() -> None:
    """Forget every dataset and frame read from the store (the bundle's dataset stays)."""
    _stored.clear()
    for cached in (_table, _prices, _history, _history_metrics, _changes):
        cached.clear()


@st.cache_data(show_spinner=False, max_entries=64)
def _history_metrics(src: Source, ticker: str) -> pd.DataFrame:
    data = _load(src)
    return core.history_metrics(data.history_for(ticker), data.prices_for(ticker))


def history_metrics(ticker: str, src: Source | None = None) -> pd.DataFrame:
    """One ticker's snapshots with their label, upside and day (:func:`ratings.core.history_metrics`)."""
    return _history_metrics(src or source(), ticker)


@dataclass(frozen=True)
class Drawn:
    """A chart as the page needs it: the exported figure, its screen version, its text alternative and legend."""

    figure: go.Figure
    screen: go.Figure
    alt: str
    legend: str


#: The builders a page may have drawn through :func:`drawn`, by name.
BUILDERS: Mapping[str, Callable[..., go.Figure]] = {
    name: getattr(charts, name)
    for name in ("upside_chart", "top_bottom_chart", "upside_scatter", "price_target_chart",
                 "rating_breakdown_chart", "trend_chart", "history_chart")
}  # fmt: skip


# Figures are built once per content of their frames and options, and shared by every session: building
# and copying a Plotly figure costs more than the rest of a page's run, and no code changes a figure.
@st.cache_resource(show_spinner=False, max_entries=96)
def _drawn(name: str, args: tuple[Any, ...], options: dict[str, Any]) -> Drawn:
    figure = BUILDERS[name](*args, **options)
    return Drawn(figure, charts.for_screen(figure), charts.alt_text(figure), charts.subtitle_text(figure))


def drawn(builder: Callable[..., go.Figure], *args: Any, **options: Any) -> Drawn:
    """`builder(*args, **options)` (a chart of :mod:`ratings.charts`) and its screen version, cached by content."""
    return _drawn(builder.__name__, args, options)


def refresh(
    tickers: list[str], *, on_progress: yahoo.ProgressCallback | None = None, force: bool = True
) -> RefreshOutcome:
    """Fetch `tickers` from Yahoo into the store (:func:`ratings.refresh.refresh`), then drop the
    cached store data it superseded. Never cached itself: a failure is reported, not remembered.

    Raises :class:`ratings.store.StoreError` when the store cannot be opened (nothing is fetched).
    """
    from ..refresh import refresh as refresh_store

    outcome = refresh_store(
        tickers, store_path=default_store_path(), config=live_config(), force=force, on_progress=on_progress
    )
    if outcome.written is not None:
        clear_store_caches()
    return outcome
