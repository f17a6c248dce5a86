"""The bundled snapshot in ``data/``: read it and check it against its manifest.

It is read only from the project's ``data/`` folder (or ``$RATINGS_DATA_DIR``), every file checked
against the sha256 in ``manifest.json``, and never from anywhere else. Every file is required: the
recorded trend and upgrades and the adjusted closes are as much a part of the snapshot as the consensus.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from .dataset import DataError, Dataset
from .paths import data_dir
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

#: The bundle's files and the schema each must follow.
BUNDLE_FILES: dict[str, Schema] = {
    "consensus.parquet": CONSENSUS,
    "consensus_history.parquet": CONSENSUS_HISTORY,
    "trend.parquet": TREND,
    "upgrades.parquet": UPGRADES,
    "prices.parquet": PRICES,
    "adjusted_prices.parquet": PRICES,
    "universe.parquet": UNIVERSE,
}


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
    for name, schema in BUNDLE_FILES.items():
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
            frames[name] = conform(pd.read_parquet(path), schema)
            validate(frames[name], schema)
        except (OSError, ValueError, SchemaError) as exc:
            raise DataError(f"Bundled file {path} is not valid {schema.name} data: {exc}") from None

    as_of = manifest.get("consensus_as_of")
    return Dataset(
        consensus=frames["consensus.parquet"],
        history=frames["consensus_history.parquet"],
        prices=frames["prices.parquet"],
        universe=frames["universe.parquet"],
        trend=frames["trend.parquet"],
        upgrades=frames["upgrades.parquet"],
        adjusted_closes=frames["adjusted_prices.parquet"],
        sources=manifest.get("sources", {}),
        kind="bundle",
        location=str(directory),
        as_of=str(as_of) if as_of else None,
    )
