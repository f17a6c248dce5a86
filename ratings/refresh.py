"""Fetch from Yahoo and keep it: one refresh = :func:`ratings.yahoo.fetch`, then one store transaction.

Both ``ratings fetch`` and the dashboard's refresh button go through :func:`refresh`, so they
store the same things (the consensus, trend, upgrades, prices and names, and the analysis tab's
estimates, EPS trend, revisions and surprises, all in the one transaction) and log the same reasons.
A failed ticker never erases what the store already has: the store only ever appends snapshots, and
a failure writes none.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from . import yahoo
from .paths import StoreTarget
from .schema import FetchLogEntry, utc_now
from .store import Store, WriteSummary


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh fetched (per ticker, with reasons) and what it wrote to the store."""

    batch: yahoo.LiveBatch
    written: WriteSummary | None
    store_path: Path | str  # the SQLite file, or the PostgreSQL URL without its password
    started_at: str
    finished_at: str

    @property
    def anything_fetched(self) -> bool:
        return bool(self.batch.fetched or self.batch.no_coverage)

    @property
    def failures(self) -> dict[str, str]:
        """Ticker -> reason, for every ticker that could not be fetched."""
        return {r.ticker: r.reason for r in self.batch.failed}


def refresh(
    tickers: Sequence[str],
    *,
    store_path: StoreTarget | None = None,
    config: yahoo.LiveConfig | None = None,
    force: bool = False,
    on_progress: yahoo.ProgressCallback | None = None,
    store: Store | None = None,
) -> RefreshOutcome:
    """Fetch `tickers` live (``force`` skips the result cache) and append what came back to the store.

    The store (`store`, open already, or the one at `store_path`) is opened (and checked: one that is not
    ours raises :class:`ratings.store.StoreError`) before any request is made, so a bad ``--store`` costs
    no network time. The fetch log records every ticker's outcome, failures included.
    """
    with nullcontext(store) if store is not None else Store.open(store_path) as store:
        started = utc_now()
        batch = yahoo.fetch(tickers, config=config, refresh=force, on_progress=on_progress)
        finished = utc_now()
        log = FetchLogEntry(
            started_at=started,
            finished_at=finished,
            tickers=tuple(r.ticker for r in batch.results),
            ok=len(batch.fetched),
            no_coverage=len(batch.no_coverage),
            failed=len(batch.failed),
            reasons={r.ticker: r.reason for r in batch.results if r.reason},
        )
        if batch.fetched or batch.no_coverage:
            written: WriteSummary | None = store.write_batch(
                batch.snapshots,
                batch.trend,
                batch.upgrades,
                batch.prices,
                batch.names,
                log_entry=log,
                estimates=batch.estimates,
                eps_trend=batch.eps_trend,
                eps_revisions=batch.eps_revisions,
                surprises=batch.surprises,
            )
        else:
            store.log_fetch(log)
            written = None
        return RefreshOutcome(batch, written, store.path, started, finished)
