"""The state of the data in words: a dataset's name, label and load warnings, and why a refresh left data stale."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..dataset import Dataset
from .values import age_text, as_utc, utc_minute


def staleness_lines(
    failures: Mapping[str, str],
    *,
    attempted: int,
    refreshed_at: Any,
    data_from: Mapping[str, Any],
    now: Any,
) -> list[str]:
    """The staleness banner after a refresh that failed for some or all tickers; [] if none is stale.

    `failures` maps a ticker to why the refresh failed for it; `data_from` maps a ticker to when
    the data shown for it was fetched (missing: no data at all). A failed ticker whose data is
    newer than the refresh's start (fetched again since) is no longer stale and is left out. The first
    line says how old the data shown is; then the reasons, grouped; then the tickers grouped by the
    age of their data (unless no ticker has any, which the first line says already).
    """
    attempt = as_utc(refreshed_at)
    stale: dict[str, pd.Timestamp | None] = {}
    for ticker in failures:
        fetched = as_utc(data_from.get(ticker))
        # Same second counts as before: the timestamps have whole seconds, and the refresh wrote nothing.
        if fetched is None or attempt is None or fetched <= attempt:
            stale[ticker] = fetched
    if not stale:
        return []
    dates = [d for d in stale.values() if d is not None]
    everything = len(stale) >= attempted
    scope = f"all {attempted} tickers" if everything else f"{len(stale)} of {attempted} tickers"
    when = utc_minute(refreshed_at)
    if dates:
        oldest = min(dates)
        head = f"Data from {utc_minute(oldest)}, {age_text(oldest, now)}: the refresh of {when} failed for {scope}"
        head += ", so the last good data is shown." if len(dates) == len(stale) else "."
    else:
        head = f"No data: the refresh of {when} failed for {scope} and there is no earlier data."
    reasons = reasons_text({ticker: str(failures[ticker]) or "unknown reason" for ticker in stale})
    lines = [head, f"Refresh failed: {reasons}."]
    if len(stale) > 1 and dates:  # one ticker's age is the first line already, and so is "no data"
        ages = by_text(
            {t: f"data from {utc_minute(f)}, {age_text(f, now)}" if f else "no earlier data" for t, f in stale.items()}
        )
        lines += [f"{', '.join(ts)}: {age}" for age, ts in ages.items()]
    return lines


def by_text(said: Mapping[str, str]) -> dict[str, list[str]]:
    """{'A': 'x', 'B': 'y', 'C': 'x'} -> {'x': ['A', 'C'], 'y': ['B']}: tickers grouped by what is said
    of them, in first-seen order, so that a message names each reason once."""
    grouped: dict[str, list[str]] = {}
    for ticker, text in said.items():
        grouped.setdefault(text, []).append(ticker)
    return grouped


def reasons_text(reasons: Mapping[str, str]) -> str:
    """{'A': 'x', 'B': 'y', 'C': 'x'} -> 'x (A, C); y (B)'."""
    return "; ".join(f"{reason} ({', '.join(tickers)})" for reason, tickers in by_text(reasons).items())


def kind_name(kind: str) -> str:
    """'the bundled snapshot' or 'the local store' (live data is read from the store), for sentences."""
    return "the bundled snapshot" if kind == "bundle" else "the local store"


def dataset_label(data: Dataset) -> str:
    """'Bundled snapshot (consensus as of 2026-07-02)' or 'Local store (PATH, last snapshot 2026-07-02 09:30 UTC)'."""
    if data.kind == "bundle":
        return f"Bundled snapshot (consensus as of {data.as_of or 'unknown'})"
    newest = f"last snapshot {utc_minute(data.as_of)}" if data.as_of else "no snapshot yet"
    return f"Local store ({data.location}, {newest})"


def dataset_warnings(data: Dataset) -> list[str]:
    """What a person should know about the loaded data: an empty store, a last fetch that failed."""
    if data.kind == "bundle":
        return []
    lines: list[str] = []
    if data.consensus.empty:
        lines.append(f"The local store {data.location} holds no consensus yet: run `ratings fetch TICKER...`.")
    entry = data.last_fetch
    if entry is not None and entry.failed:
        reasons = reasons_text(entry.reasons)  # the failures' reasons, and "no analyst coverage" ones
        found_none = f", and found no analyst coverage for {entry.no_coverage}" if entry.no_coverage else ""
        lines.append(
            f"The last fetch ({utc_minute(entry.finished_at)}) failed for {entry.failed} of "
            f"{len(entry.tickers)} tickers{found_none}" + (f": {reasons}" if reasons else "") + "."
        )
    return lines


__all__ = ["by_text", "dataset_label", "dataset_warnings", "kind_name", "reasons_text", "staleness_lines"]
