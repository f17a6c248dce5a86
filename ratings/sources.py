"""Every data source behind one :func:`load` (vizro-style): a table of loaders, one per kind.

``bundle`` is the bundled snapshot (:mod:`ratings.bundle`), static and the default. ``store`` and
``live`` read the store (:mod:`ratings.store`: a SQLite file or a PostgreSQL database); a live view is
the store after a refresh (:mod:`ratings.refresh`), so both read the same store. Their names and
sectors are completed from the bundle's universe, which also knows S&P 500 membership.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .bundle import load_bundle
from .dataset import KINDS, DataError, Dataset
from .paths import StoreTarget
from .schema import NO_COVERAGE_REASON, UNIVERSE, FetchLogEntry, conform
from .store import Store
from .tickers import WATCHLIST

#: The local store's source id in frames, and its provenance in :func:`read_store`.
STORE_SOURCE_ID = "yfinance"
STORE_TERMS = (
    "Values from Yahoo Finance, fetched through yfinance on this computer and kept in its local store; "
    "Yahoo's terms of use apply (personal use)."
)
#: How many of the newest fetches are read to find each ticker's latest "no analyst coverage" answer.
FETCH_LOG_DEPTH = 200


def load(
    kind: str = "bundle",
    *,
    store_path: StoreTarget | None = None,
    data_directory: Path | None = None,
    reference_universe: pd.DataFrame | None = None,
) -> Dataset:
    """The :class:`Dataset` of `kind` (one of :data:`ratings.dataset.KINDS`).

    `store_path` is the store: a file or a PostgreSQL URL (default: :func:`ratings.paths.default_store_path`),
    `data_directory` the bundle's folder (default: :func:`ratings.paths.data_dir`). Pass
    `reference_universe` when the bundle is already loaded, so that it is not read again.
    Raises :class:`~ratings.dataset.DataError` (:class:`~ratings.store.StoreError` for the store).
    """
    loader = LOADERS.get(kind)
    if loader is None:
        raise ValueError(f"unknown data source {kind!r}; expected one of {', '.join(KINDS)}")
    return loader(store_path, data_directory, reference_universe)


def _bundle(store_path: StoreTarget | None, data_directory: Path | None, reference: pd.DataFrame | None) -> Dataset:
    return load_bundle(data_directory)


Loader = Callable[[StoreTarget | None, Path | None, pd.DataFrame | None], Dataset]


def _store_as(kind: str) -> Loader:
    def loader(store_path: StoreTarget | None, data_directory: Path | None, reference: pd.DataFrame | None) -> Dataset:
        stored = read_store(store_path)
        if reference is None:
            try:
                reference = load_bundle(data_directory).universe
            except DataError:
                reference = UNIVERSE.empty()
        return replace(stored, universe=merge_universe(stored.universe, reference), kind=kind)

    return loader


#: One loader per kind: (store_path, data_directory, reference_universe) -> Dataset.
LOADERS: dict[str, Loader] = {
    "bundle": _bundle,
    "store": _store_as("store"),
    "live": _store_as("live"),
}


def read_store(path: str | os.PathLike[str] | None = None) -> Dataset:
    """The store at `path` (a file or a PostgreSQL URL; by default the default one) as a :class:`Dataset` of kind
    ``store``.

    consensus = :meth:`Store.latest`, history = :meth:`Store.history`, prices, trend, upgrades, the
    analysis tab (estimates, EPS trend, revisions, surprises: every stored fetch), and the stored
    names as ``UNIVERSE`` rows (no sector; ``in_sp500`` False because the store does
    not know index membership: :func:`load` merges the bundle's universe for it). All read from one
    state of the store. Raises :class:`~ratings.store.StoreError` if there is no usable store.
    """
    with Store.open(path, create=False) as store, store.consistent_read():
        history, consensus = store.history_and_latest()
        prices = store.prices()
        trend = store.trend()
        upgrades = store.upgrades()
        analysis = {
            "estimates": store.estimates(),
            "eps_trend": store.eps_trend(),
            "eps_revisions": store.eps_revisions(),
            "surprises": store.surprises(),
        }
        names = store.names()
        fetches = store.fetch_log(limit=FETCH_LOG_DEPTH)
        newest = store.last_observed_at()
        source_ids = sorted(
            {STORE_SOURCE_ID} | set(consensus["source_id"].dropna()) | set(prices["source_id"].dropna())
        )
        as_of = {sid: store.last_observed_at(sid) for sid in source_ids}

    universe = conform(
        pd.DataFrame(
            {"ticker": names["ticker"], "name": names["name"], "in_watchlist": names["ticker"].isin(WATCHLIST)}
        ),
        UNIVERSE,
    )
    sources = {
        sid: {
            "title": "Yahoo Finance via yfinance (local store)" if sid == STORE_SOURCE_ID else f"{sid} (local store)",
            "provider": "Yahoo Finance",
            "repository": None,
            "commit": None,
            "as_of": (as_of[sid] or "")[:10] or None,
            "terms": STORE_TERMS,
            "path": store.location,
        }
        for sid in source_ids
    }
    return Dataset(
        consensus=consensus,
        history=history,
        prices=prices,
        universe=universe,
        sources=sources,
        kind="store",
        location=store.location,
        as_of=newest,
        trend=trend,
        upgrades=upgrades,
        last_fetch=fetches[0] if fetches else None,
        no_coverage=latest_no_coverage(fetches),
        **analysis,
    )


def latest_no_coverage(fetches: list[FetchLogEntry]) -> dict[str, str]:
    """Ticker -> when (UTC) its latest answer, in `fetches` (newest first), was "no analyst coverage".

    A failure says nothing of coverage, so an older answer still counts behind it.
    """
    found: dict[str, str] = {}
    answered: set[str] = set()
    for entry in fetches:
        for ticker in entry.tickers:
            if ticker in answered:
                continue
            reason = entry.reasons.get(ticker, "")
            if reason.startswith(NO_COVERAGE_REASON):
                found[ticker] = entry.finished_at
            if not reason or reason.startswith(NO_COVERAGE_REASON):
                answered.add(ticker)
    return found


def merge_universe(primary: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """`primary`'s tickers and names, completed (sector, membership, missing names) from `reference`."""
    ref = reference.set_index("ticker")
    out = primary.set_index("ticker")
    for column in ("name", "sector", "industry", "sector_scheme"):
        out[column] = out[column].fillna(ref[column].reindex(out.index))
    for column in ("in_sp500", "in_watchlist"):
        out[column] = out[column] | ref[column].reindex(out.index).fillna(False).astype(bool)
    extra = ref[~ref.index.isin(out.index)]
    return conform(pd.concat([out, extra]).rename_axis("ticker").reset_index(), UNIVERSE)
