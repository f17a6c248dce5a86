"""A batch on its way into the store: conformed to its schema, keys checked, times in one spelling.

All of it happens before a transaction starts: a frame that breaks its schema, has an empty key
or duplicate keys raises :class:`ratings.schema.SchemaError` and nothing at all is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..schema import (
    NAMES,
    PRICES,
    SNAPSHOTS,
    TIMESTAMP_FORMAT,
    TREND,
    UPGRADES,
    FetchLogEntry,
    Schema,
    SchemaError,
    conform,
    utc_now,
    utc_text,
    validate,
)
from .sql import ANALYSIS_TABLES


@dataclass(frozen=True)
class TableCount:
    """Rows of one table in a batch: ``inserted`` new, ``already_present`` (same key stored before).

    For prices and names, ``replaced`` counts the present rows this (newer) fetch overwrote; for
    upgrades, the present rows whose missing price targets this fetch filled in.
    """

    inserted: int = 0
    already_present: int = 0
    replaced: int = 0


@dataclass(frozen=True)
class WriteSummary:
    """What :meth:`Store.write_batch` did, per table; ``log_id`` is the fetch log row, if one was given."""

    snapshots: TableCount = field(default_factory=TableCount)
    trend: TableCount = field(default_factory=TableCount)
    upgrades: TableCount = field(default_factory=TableCount)
    prices: TableCount = field(default_factory=TableCount)
    names: TableCount = field(default_factory=TableCount)
    log_id: int | None = None
    fetched_at: str = ""
    estimates: TableCount = field(default_factory=TableCount)
    eps_trend: TableCount = field(default_factory=TableCount)
    eps_revisions: TableCount = field(default_factory=TableCount)
    surprises: TableCount = field(default_factory=TableCount)


@dataclass(frozen=True)
class Batch:
    """One fetch, ready to write: typed frames, canonical times, and `fetched_at` to date it."""

    snapshots: pd.DataFrame
    trend: pd.DataFrame
    upgrades: pd.DataFrame
    prices: pd.DataFrame
    names: pd.DataFrame
    log: FetchLogEntry | None
    fetched_at: str
    analysis: dict[str, pd.DataFrame]  # by table of sql.ANALYSIS_TABLES


def prepare_batch(
    snapshots: pd.DataFrame | None,
    trend: pd.DataFrame | None,
    upgrades: pd.DataFrame | None,
    prices: pd.DataFrame | None,
    names: pd.DataFrame | None,
    log_entry: FetchLogEntry | None,
    fetched_at: object,
    analysis: Mapping[str, pd.DataFrame | None] | None = None,
) -> Batch:
    """Check and normalise one fetch (see :meth:`Store.write_batch` for what each argument is)."""
    snaps = _prepare(snapshots, SNAPSHOTS, not_null=("ticker", "source_id", "observed_at"), times=("observed_at",))
    trends = _prepare(trend, TREND, not_null=("ticker", "observed_at", "period"), times=("observed_at",))
    grades = _prepare(upgrades, UPGRADES, not_null=("ticker", "graded_at", "firm", "action"), times=("graded_at",))
    given = analysis or {}
    tab = {
        table: _prepare(given.get(table), schema, not_null=schema.key, times=("observed_at",))
        for table, schema in ANALYSIS_TABLES.items()
    }
    log = _prepare_log(log_entry) if log_entry is not None else None
    return Batch(
        snapshots=snaps,
        trend=trends,
        upgrades=grades,
        prices=_prepare_prices(prices),
        names=_prepare(names, NAMES, not_null=("ticker",)),
        log=log,
        fetched_at=_fetched_at(fetched_at, [snaps, trends, *tab.values()], log),
        analysis=tab,
    )


def rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows of `columns` as tuples of Python values; every missing value becomes None (NULL)."""
    lists = []
    for name in columns:
        series = frame[name]
        if str(series.dtype).startswith("datetime64"):
            series = series.dt.strftime("%Y-%m-%d")
        lists.append(series.astype(object).where(series.notna(), None).tolist())
    return list(zip(*lists, strict=True)) if lists else []


def _prepare(
    frame: pd.DataFrame | None, schema: Schema, *, not_null: Sequence[str], times: Sequence[str] = ()
) -> pd.DataFrame:
    if frame is None:
        return schema.empty()
    out = conform(frame, schema).reset_index(drop=True)
    for name in not_null:
        blank = out[name].isna() | (out[name].astype("string").str.strip() == "").fillna(False)
        if blank.any():
            raise SchemaError(f"{schema.name}: column {name!r} is empty in {int(blank.sum())} row(s)")
    for name in times:
        try:
            parsed = pd.to_datetime(out[name], utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise SchemaError(f"{schema.name}.{name}: not an ISO timestamp: {exc}") from None
        out[name] = parsed.dt.strftime(TIMESTAMP_FORMAT).astype("string")
    validate(out, schema)
    return out


def _prepare_prices(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:
        return PRICES.empty()
    frame = frame.copy()
    if "date" in frame.columns:
        dates = pd.to_datetime(frame["date"])
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)  # the exchange's own calendar day
        frame["date"] = dates.dt.normalize()
    return _prepare(frame, PRICES, not_null=("ticker", "date"))


def _prepare_log(entry: FetchLogEntry) -> FetchLogEntry:
    counts = (entry.ok, entry.no_coverage, entry.failed)
    if any(not isinstance(n, int) or n < 0 for n in counts):
        raise SchemaError(f"fetch log: counts must be non-negative integers, got {counts}")
    try:
        started, finished = utc_text(entry.started_at), utc_text(entry.finished_at)
    except ValueError as exc:
        raise SchemaError(f"fetch log: {exc}") from None
    return FetchLogEntry(
        started_at=started,
        finished_at=finished,
        tickers=tuple(str(t) for t in entry.tickers),
        ok=entry.ok,
        no_coverage=entry.no_coverage,
        failed=entry.failed,
        reasons={str(k): str(v) for k, v in entry.reasons.items()},
        id=entry.id,
    )


def _fetched_at(given: object, observed_frames: Sequence[pd.DataFrame], log: FetchLogEntry | None) -> str:
    """`given`, else the newest observed_at of the frames (snapshots, trend, estimates...), else the log
    entry's end, else now."""
    if given is not None:
        try:
            return utc_text(given)
        except ValueError as exc:
            raise SchemaError(f"fetched_at: {exc}") from None
    observed = pd.concat([frame["observed_at"] for frame in observed_frames]).dropna()
    if not observed.empty:
        return str(observed.max())
    return log.finished_at if log is not None else utc_now()
