"""What a live fetch takes and gives: its settings, one result per ticker, the batch, and the frames' shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .. import paths, schema

Status = Literal["ok", "no_coverage", "failed"]
ProgressCallback = Callable[[int, int, "LiveResult"], None]
Columns = dict[str, list[Any]]  # one ticker's rows of one frame, column by column (JSON-ready)
Frames = dict[str, Columns]  # by frame name: snapshots, trend, upgrades, prices, names, estimates, ...

#: The frames of a batch, by name, and the schema each follows.
FRAME_SCHEMAS: dict[str, schema.Schema] = {
    "snapshots": schema.SNAPSHOTS,
    "trend": schema.TREND,
    "upgrades": schema.UPGRADES,
    "prices": schema.PRICES,
    "names": schema.NAMES,
    "estimates": schema.ESTIMATES,
    "eps_trend": schema.EPS_TREND,
    "eps_revisions": schema.EPS_REVISIONS,
    "surprises": schema.SURPRISES,
}

HISTORY_PERIODS = ("1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max")


@dataclass(frozen=True)
class LiveConfig:
    """How a batch talks to Yahoo. The defaults are conservative: Yahoo rate-limits hard.

    ``requests_per_second`` of ``0`` or ``None`` turns the rate limit off; ``cache_ttl_s`` of ``0``
    turns the result cache off; ``cache_dir`` of ``None`` means :func:`ratings.paths.cache_dir`.
    """

    max_workers: int = 4
    requests_per_second: float | None = 2.0
    max_attempts: int = 4
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 30.0
    budget_s: float = 120.0
    history_period: str = "1y"
    cache_dir: Path | None = None
    cache_ttl_s: float = 15 * 60.0

    def __post_init__(self) -> None:
        problems = []
        if self.max_workers < 1:
            problems.append("max_workers must be at least 1")
        if self.requests_per_second is not None and not self.requests_per_second >= 0:
            problems.append("requests_per_second must be >= 0 (or None for no limit)")
        if self.max_attempts < 1:
            problems.append("max_attempts must be at least 1")
        if not (self.backoff_base_s >= 0 and self.backoff_cap_s >= 0):
            problems.append("backoff delays must be >= 0")
        if not self.budget_s > 0:
            problems.append("budget_s must be > 0")
        if self.history_period not in HISTORY_PERIODS:
            problems.append(f"history_period must be one of {', '.join(HISTORY_PERIODS)}")
        if not self.cache_ttl_s >= 0:
            problems.append("cache_ttl_s must be >= 0")
        if problems:
            raise ValueError("; ".join(problems))

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else paths.cache_dir()


@dataclass(frozen=True)
class LiveResult:
    """What became of one ticker. ``reason`` says why it is not "ok" (empty when it is)."""

    ticker: str
    status: Status
    reason: str = ""
    attempts: int = 0
    elapsed_s: float = 0.0
    warnings: tuple[str, ...] = ()
    from_cache: bool = False
    observed_at: str | None = None  # when Yahoo's answer was fetched (for a cache hit: originally)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        """One line for people: ``AAPL: ok``, ``SPY: no analyst coverage (...)``."""
        text = f"{self.ticker}: {self.reason or self.status}"
        return text + (" (from cache)" if self.from_cache else "")


@dataclass(frozen=True, eq=False)
class LiveBatch:
    """Results of one :func:`ratings.yahoo.fetch`, in the order the tickers were asked for, and their frames
    (one per name of :data:`FRAME_SCHEMAS`, of that schema)."""

    results: tuple[LiveResult, ...]
    snapshots: pd.DataFrame
    trend: pd.DataFrame
    upgrades: pd.DataFrame
    prices: pd.DataFrame
    names: pd.DataFrame
    elapsed_s: float = 0.0
    estimates: pd.DataFrame = field(default_factory=schema.ESTIMATES.empty)
    eps_trend: pd.DataFrame = field(default_factory=schema.EPS_TREND.empty)
    eps_revisions: pd.DataFrame = field(default_factory=schema.EPS_REVISIONS.empty)
    surprises: pd.DataFrame = field(default_factory=schema.SURPRISES.empty)

    def result(self, ticker: str) -> LiveResult:
        for result in self.results:
            if result.ticker == ticker:
                return result
        raise KeyError(ticker)

    @property
    def fetched(self) -> tuple[LiveResult, ...]:
        return tuple(r for r in self.results if r.status == "ok")

    @property
    def no_coverage(self) -> tuple[LiveResult, ...]:
        return tuple(r for r in self.results if r.status == "no_coverage")

    @property
    def failed(self) -> tuple[LiveResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")

    def summary(self) -> str:
        return (
            f"{len(self.fetched)} fetched, {len(self.no_coverage)} without analyst coverage, {len(self.failed)} failed"
        )


def utc(moment: datetime) -> datetime:
    """`moment` (a reading of the batch's wall clock) in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
