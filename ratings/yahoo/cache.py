"""The result cache: one JSON file per ticker with its result, warnings and columns (read without building frames).

Only successful results ("ok" and "no_coverage") are kept; an entry is served for ``cache_ttl_s``,
aged on the batch's wall clock, and only for the history period it was fetched with. An entry that
cannot be read, or is not of this format, is ignored (and replaced by the next successful fetch).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .models import FRAME_SCHEMAS, Frames, LiveConfig, LiveResult, utc

# 2: the analysis tab's frames (estimates, eps_trend, eps_revisions, surprises) joined the entry.
_CACHE_FORMAT = 2


class ResultCache:
    """One JSON file per ticker in `folder`."""

    def __init__(self, folder: Path, config: LiveConfig, now: Callable[[], datetime]) -> None:
        self.folder = folder
        self.ttl_s = config.cache_ttl_s
        self.history_period = config.history_period
        self.now = now  # the batch's wall clock: an entry is as old as that clock says

    def _timestamp(self) -> float:
        return utc(self.now()).timestamp()

    def path(self, symbol: str) -> Path:
        return self.folder / f"{quote(symbol, safe='')}.json"

    def load(self, symbol: str) -> tuple[LiveResult, Frames] | None:
        started = time.perf_counter()
        try:
            entry = json.loads(self.path(symbol).read_bytes())
            return self._decode(symbol, entry, started)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # absent, unreadable or not ours: fetch again (and overwrite it)

    def _decode(self, symbol: str, entry: dict[str, Any], started: float) -> tuple[LiveResult, Frames] | None:
        if entry.get("format") != _CACHE_FORMAT or entry["ticker"] != symbol:
            return None
        if entry["status"] not in ("ok", "no_coverage") or entry["history_period"] != self.history_period:
            return None
        age = self._timestamp() - float(entry["fetched_at"])
        if not -60 <= age <= self.ttl_s:  # up to a minute "in the future" is clock skew; more is not ours
            return None
        frames: Frames = {}
        for name, schema in FRAME_SCHEMAS.items():
            columns = entry["frames"][name]
            if not isinstance(columns, dict) or not set(columns) <= set(schema.names):
                return None
            if not all(isinstance(v, list) for v in columns.values()) or len({len(v) for v in columns.values()}) > 1:
                return None
            frames[name] = columns
        result = LiveResult(
            symbol,
            entry["status"],
            str(entry["reason"]),
            attempts=0,
            elapsed_s=time.perf_counter() - started,
            warnings=tuple(str(w) for w in entry["warnings"]),
            from_cache=True,
            observed_at=str(entry["observed_at"]),
        )
        return result, frames

    def store(self, symbol: str, result: LiveResult, frames: Frames) -> None:
        if result.status == "failed":
            return  # a failure is never cached: the next load asks Yahoo again
        entry = {
            "format": _CACHE_FORMAT,
            "ticker": symbol,
            "status": result.status,
            "reason": result.reason,
            "warnings": list(result.warnings),
            "observed_at": result.observed_at,
            "fetched_at": self._timestamp(),
            "history_period": self.history_period,
            "frames": {name: frames.get(name, {}) for name in FRAME_SCHEMAS},
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(entry, allow_nan=False, separators=(",", ":"))
            # Write then rename, so a reader never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.path(symbol))
        except (OSError, ValueError):
            return  # a cache that cannot be written only costs a refetch
