"""The command line's data: ``--source`` and ``--store`` resolved, the dataset loaded through
:func:`ratings.sources.load` (fetched into the store first for ``live``), the tickers asked for checked,
and a ticker's stored history."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .. import sources
from ..core import history_metrics
from ..dataset import KINDS, Dataset
from ..formatting import dataset_warnings
from ..paths import StoreTarget, default_store_path
from ..store import locate
from .errors import EXIT_NOTHING_SHOWN, EXIT_USAGE, CommandError
from .fetching import fetch_into_store, fetchable_tickers, parsed_tickers
from .output import _printable, _say

SOURCES: tuple[str, ...] = KINDS  # the --source choices


def store_path_of(args: argparse.Namespace) -> StoreTarget:
    """``--store PATH|URL``, else :func:`ratings.paths.default_store_path` (``$RATINGS_STORE``)."""
    given: StoreTarget | None = getattr(args, "store", None)
    if isinstance(given, Path):
        return given.expanduser()
    return given if given is not None else default_store_path()


def chosen_source(args: argparse.Namespace) -> str:
    """``--source``; without it, ``store`` when ``--store PATH`` names one, else ``bundle``: a store
    given on the command line is the one to read (``ratings history AAPL --store S``)."""
    source: str | None = getattr(args, "source", None)
    if source is not None:
        return source
    return "store" if getattr(args, "store", None) is not None else "bundle"


def load_dataset(args: argparse.Namespace) -> Dataset:
    """The dataset chosen by ``--source``; its load warnings go to stderr.

    ``live`` first fetches ``args.tickers`` into the store (progress and summary on stderr), then
    reads the store like ``store``; a fetch that fails keeps whatever the store already had.
    Raises DataError (StoreError for a store file that is not usable) or CommandError.
    """
    source = chosen_source(args)
    if source not in SOURCES:  # argparse restricts the choices; this guards a caller that builds args by hand
        raise CommandError(f"unknown data source {source!r} (choose from {', '.join(SOURCES)})", EXIT_USAGE)
    path = store_path_of(args)
    if source == "live":
        symbols = fetchable_tickers(args.tickers, quiet=True)  # resolve_tickers names the bad ones
        if symbols:
            outcome = fetch_into_store(symbols, args, path, summary=_say)
            if not outcome.anything_fetched:
                _say("warning: nothing could be fetched; showing what the store already holds")
    if source != "bundle" and not locate(path).exists():
        raise CommandError(
            f"no store at {_printable(str(locate(path)), 200)}: run `ratings fetch TICKER...` first", EXIT_NOTHING_SHOWN
        )
    dataset = sources.load(source, store_path=path)
    for warning in dataset_warnings(dataset):
        _say(f"warning: {warning}")
    return dataset


def resolve_tickers(raw: Sequence[str], dataset: Dataset) -> list[str]:
    """The usable tickers of `raw`, in order; one stderr line naming each rejected one and why."""
    return parsed_tickers(raw, dataset.known_tickers)


def history_frame(dataset: Dataset, ticker: str) -> pd.DataFrame:
    """The stored history of `ticker`: one row per snapshot day and source, oldest first, with metrics.

    A snapshot that quoted no price is priced as on the Ticker page's history chart: from a close on
    or before its day, at most a week older (``price_source`` 'close'); else its upside is unknown.
    """
    rows = history_metrics(dataset.history[dataset.history["ticker"] == ticker], dataset.prices).drop(columns="day")
    rows["_when"] = rows["observed_at"].fillna(rows["as_of"])
    return rows.sort_values(["_when", "source"], kind="stable").drop(columns="_when").reset_index(drop=True)
