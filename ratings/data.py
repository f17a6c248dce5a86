"""Data sources behind one interface: every loader returns a :class:`Dataset`.

The bundled snapshot in ``data/`` is the static source and the default. It is read only from the
project's ``data/`` folder (or ``$RATINGS_DATA_DIR``), checked against the hashes in its manifest,
and never from anywhere else.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from .core import consensus_table
from .schema import (
    CONSENSUS,
    CONSENSUS_HISTORY,
    PRICES,
    TREND,
    UNIVERSE,
    UPGRADES,
    Schema,
    SchemaError,
    conform,
    validate,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_ENV = "RATINGS_DATA_DIR"

_BUNDLE_FILES: dict[str, Schema] = {
    "consensus.parquet": CONSENSUS,
    "consensus_history.parquet": CONSENSUS_HISTORY,
    "prices.parquet": PRICES,
    "universe.parquet": UNIVERSE,
}


class DataError(RuntimeError):
    """Data could not be loaded; the message says what and where, for a person to read."""


@dataclass(frozen=True)
class Dataset:
    """Consensus, history, prices and names from one source, with their provenance.

    ``sources`` maps each ``source_id`` found in the frames to its provenance (title, provider,
    repository, commit, as_of, terms). ``warnings`` holds per-ticker or per-file problems that did
    not stop the load. ``trend`` and ``upgrades`` (Yahoo's recommendation trend and analysts'
    actions) come only from the local store; the bundle has none. ``kind`` is the source it was
    loaded from: one of :data:`KINDS`. ``no_coverage`` maps a ticker whose latest fetch Yahoo
    answered with "no analyst coverage" to when (UTC): its consensus, if any, is older than that.
    """

    consensus: pd.DataFrame
    history: pd.DataFrame
    prices: pd.DataFrame
    universe: pd.DataFrame
    sources: Mapping[str, Mapping[str, Any]]
    label: str
    warnings: tuple[str, ...] = field(default=())
    trend: pd.DataFrame = field(default_factory=TREND.empty)
    upgrades: pd.DataFrame = field(default_factory=UPGRADES.empty)
    kind: str = "bundle"
    no_coverage: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def known_tickers(self) -> frozenset[str]:
        return (
            frozenset(self.consensus["ticker"]) | frozenset(self.prices["ticker"]) | frozenset(self.universe["ticker"])
        )

    def table(self, tickers: list[str] | None = None) -> pd.DataFrame:
        """The consensus-and-upside table (``CONSENSUS_TABLE``) for `tickers`, or for all."""
        return consensus_table(self.consensus, self.prices, self.universe, tickers)

    def prices_for(self, ticker: str) -> pd.DataFrame:
        return self.prices[self.prices["ticker"] == ticker].reset_index(drop=True)

    def history_for(self, ticker: str) -> pd.DataFrame:
        return self.history[self.history["ticker"] == ticker].sort_values("as_of").reset_index(drop=True)

    def trend_for(self, ticker: str) -> pd.DataFrame:
        return self.trend[self.trend["ticker"] == ticker].reset_index(drop=True)

    def upgrades_for(self, ticker: str) -> pd.DataFrame:
        rows = self.upgrades[self.upgrades["ticker"] == ticker]
        return rows.sort_values("graded_at", ascending=False).reset_index(drop=True)

    def sp500(self) -> list[str]:
        return sorted(self.universe.loc[self.universe["in_sp500"], "ticker"])


#: Where a Dataset can come from: the bundled snapshot, the local store, or Yahoo now (via the store).
KINDS: tuple[str, ...] = ("bundle", "store", "live")


def kind_name(kind: str) -> str:
    """'the bundled snapshot' or 'the local store' (live data is read from the store), for sentences."""
    return "the bundled snapshot" if kind == "bundle" else "the local store"


def load(
    kind: str = "bundle",
    *,
    store_path: Path | None = None,
    data_directory: Path | None = None,
    reference_universe: pd.DataFrame | None = None,
) -> Dataset:
    """One entry point for every source (vizro-style): ``bundle``, ``store`` or ``live``.

    ``store`` and ``live`` read the local store (a live view is the store after a refresh, see
    :mod:`ratings.refresh`); their names and sectors are completed from the bundle's universe,
    which also knows S&P 500 membership (pass `reference_universe` when the bundle is already
    loaded, so it is not read again).
    """
    if kind == "bundle":
        return load_bundle(data_directory)
    if kind not in KINDS:
        raise ValueError(f"unknown data source {kind!r}; expected one of {', '.join(KINDS)}")
    from .store import load_store  # the store imports this module

    stored = load_store(store_path)
    reference = reference_universe
    if reference is None:
        try:
            reference = load_bundle(data_directory).universe
        except DataError:
            reference = UNIVERSE.empty()
    return replace(stored, universe=merge_universe(stored.universe, reference), kind=kind)


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


def data_dir() -> Path:
    """The bundle folder: ``$RATINGS_DATA_DIR`` if set, else the project's ``data/``."""
    return Path(os.environ.get(DATA_DIR_ENV) or PROJECT_ROOT / "data")


def load_bundle(directory: Path | None = None, *, verify: bool = True) -> Dataset:
    """Load the bundled snapshot. Raises :class:`DataError` naming the file that is missing or broken."""
    directory = directory or data_dir()
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise DataError(
            f"No bundled data: {manifest_path} is missing. Rebuild it with scripts/build_bundle.py."
        ) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"The bundle manifest {manifest_path} is unreadable: {exc}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not isinstance(manifest.get("sources", {}), dict):
        raise DataError(f"The bundle manifest {manifest_path} is not a manifest (no 'files' table).")

    frames: dict[str, pd.DataFrame] = {}
    for name, schema in _BUNDLE_FILES.items():
        path = directory / name
        entry = files.get(name)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if verify and not isinstance(expected, str):
            raise DataError(f"The bundle manifest {manifest_path} gives no sha256 for {name}: it cannot be checked.")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DataError(f"Bundled file {path} cannot be read: {exc.strerror or exc}") from None
        if verify and hashlib.sha256(raw).hexdigest() != expected:
            raise DataError(f"Bundled file {path} does not match its manifest hash: it is corrupt or was edited.")
        try:
            frame = pd.read_parquet(path)
            frames[name] = conform(frame, schema)
            validate(frames[name], schema)
        except (OSError, ValueError, SchemaError) as exc:
            raise DataError(f"Bundled file {path} is not valid {schema.name} data: {exc}") from None

    return Dataset(
        consensus=frames["consensus.parquet"],
        history=frames["consensus_history.parquet"],
        prices=frames["prices.parquet"],
        universe=frames["universe.parquet"],
        sources=manifest.get("sources", {}),
        label=f"Bundled snapshot (consensus as of {manifest.get('consensus_as_of', 'unknown')})",
    )
