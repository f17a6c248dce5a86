"""What every loader returns: a :class:`Dataset`, one source's frames with their provenance.

A Dataset carries data only (frames of the documented schemas, provenance, dates); how it is
described to a person (its label, its warnings) is :mod:`ratings.formatting`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from .core import consensus_table
from .estimates import TickerEstimates, estimates_table, ticker_estimates
from .schema import EPS_REVISIONS, EPS_TREND, ESTIMATES, PRICES, SURPRISES, TREND, UPGRADES, FetchLogEntry

#: Where a Dataset can come from: the bundled snapshot, the local store, or Yahoo now (via the store).
KINDS: tuple[str, ...] = ("bundle", "store", "live")


class DataError(RuntimeError):
    """Data could not be loaded; the message says what and where, for a person to read."""


@dataclass(frozen=True)
class Dataset:
    """Consensus, history, prices and names from one source, with their provenance.

    ``sources`` maps each ``source_id`` found in the frames to its provenance (title, provider,
    repository, commit, as_of, terms). ``kind`` is the source it was loaded from (one of
    :data:`KINDS`) and ``location`` where that is: the bundle folder or the store file. ``as_of``
    dates what is shown: the bundle's consensus day, or the store's newest snapshot (UTC; None
    for an empty store). ``trend`` and ``upgrades`` are Yahoo's recommendation trend and analysts'
    actions; ``adjusted_closes`` are split- and dividend-adjusted daily closes (``PRICES``, the
    ``close`` adjusted), for scoring analysts' calls over years. ``last_fetch`` is the store's latest
    fetch log entry;
    ``no_coverage`` maps a ticker whose latest fetch Yahoo answered with "no analyst coverage" to
    when (UTC): its consensus, if any, is older than that. ``estimates``, ``eps_trend``,
    ``eps_revisions`` and ``surprises`` are Yahoo's analysis tab, every stored fetch of it (empty for a
    source without estimates): :meth:`estimates_for` gives one ticker's latest, :meth:`estimates_table`
    the table with the derived figures of :mod:`ratings.estimates`.
    """

    consensus: pd.DataFrame
    history: pd.DataFrame
    prices: pd.DataFrame
    universe: pd.DataFrame
    sources: Mapping[str, Mapping[str, Any]]
    kind: str = "bundle"
    location: str = ""
    as_of: str | None = None
    trend: pd.DataFrame = field(default_factory=TREND.empty)
    upgrades: pd.DataFrame = field(default_factory=UPGRADES.empty)
    adjusted_closes: pd.DataFrame = field(default_factory=PRICES.empty)
    last_fetch: FetchLogEntry | None = None
    no_coverage: Mapping[str, str] = field(default_factory=dict)
    estimates: pd.DataFrame = field(default_factory=ESTIMATES.empty)
    eps_trend: pd.DataFrame = field(default_factory=EPS_TREND.empty)
    eps_revisions: pd.DataFrame = field(default_factory=EPS_REVISIONS.empty)
    surprises: pd.DataFrame = field(default_factory=SURPRISES.empty)

    @cached_property
    def known_tickers(self) -> frozenset[str]:
        # unique() first: a set built from every row of a long price history costs more than the command itself
        frames = (self.consensus, self.prices, self.universe)
        return frozenset(str(t) for frame in frames for t in frame["ticker"].dropna().unique())

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

    def estimates_for(self, ticker: str) -> TickerEstimates:
        """`ticker`'s analysis tab: its latest estimates, EPS trend and revisions, and every recorded quarter."""
        return ticker_estimates(ticker, self.estimates, self.eps_trend, self.eps_revisions, self.surprises)

    def estimates_table(self, tickers: list[str] | None = None) -> pd.DataFrame:
        """``ESTIMATES_TABLE`` for `tickers` (or all): one row per ticker and period, with derived figures."""
        return estimates_table(self.estimates, self.eps_trend, self.eps_revisions, self.surprises, tickers)

    def sp500(self) -> list[str]:
        return sorted(self.universe.loc[self.universe["in_sp500"], "ticker"])

    def newest_fetch(self) -> str | None:
        """When the newest stored snapshot was fetched (ISO UTC); None for the bundle or an empty store."""
        if self.kind == "bundle" or self.history.empty:
            return None
        stamps = self.history["observed_at"].dropna()
        return str(stamps.max()) if not stamps.empty else None
