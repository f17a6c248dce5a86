"""The :class:`Store`: open a SQLite file or a PostgreSQL database (checked, migrated), write one batch per
transaction, read frames; the same interface and guarantees on both backends.

The backend is chosen by the target: a ``postgresql://`` URL is :mod:`.postgres`, anything else a SQLite
file (:mod:`.sqlite`). A backend holds ONE connection, guarded here by a re-entrant lock: Streamlit runs
each rerun in a thread of its own, so a cached Store is used from many threads; one locked connection is
simple, leaks nothing when threads end, and the reads are short (a connection per thread would outlive
its thread; one per call would repeat the open-time checks). :meth:`Store.consistent_read` reads several
frames from one snapshot of the store.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import pandas as pd

from ..paths import StoreTarget, default_store_path, store_target
from ..schema import (
    CONSENSUS,
    CONSENSUS_HISTORY,
    NAMES,
    PRICES,
    SNAPSHOTS,
    TREND,
    UPGRADES,
    FetchLogEntry,
    Schema,
    conform,
    validate,
)
from . import sql
from .batch import TableCount, WriteSummary, prepare_batch, rows
from .errors import StoreError


class Backend(Protocol):
    """What a database gives the Store (:class:`.sqlite.SqliteBackend`, :class:`.postgres.PostgresBackend`)."""

    dialect: sql.Dialect
    location: str

    @property
    def in_transaction(self) -> bool: ...
    def close(self) -> None: ...
    def schema_version(self) -> int: ...
    def errors(self, doing: str) -> AbstractContextManager[None]: ...
    def begin_write(self) -> None: ...
    def begin_read(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def query(self, statement: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]: ...
    def execute(self, statement: str, params: Sequence[Any] = ()) -> int: ...
    def executemany(self, statement: str, values: list[tuple[Any, ...]]) -> int: ...
    def insert_id(self, statement: str, params: Sequence[Any]) -> int: ...
    def fetch_lock(self) -> AbstractContextManager[bool]: ...


def open_backend(target: StoreTarget, *, create: bool) -> Backend:
    if isinstance(target, str):
        from .postgres import PostgresBackend  # psycopg is imported only for a PostgreSQL store

        return PostgresBackend(target, create=create)
    from .sqlite import SqliteBackend

    return SqliteBackend(target, create=create)


class Store:
    """An analyst-ratings store. Use as a context manager, or call :meth:`close`.

    ``Store(target)`` / ``Store.open(target)``: `target` is a SQLite file's path or a PostgreSQL URL,
    by default :func:`ratings.paths.default_store_path`. With ``create=False`` a missing file (an empty
    database) is an error instead of a new store. Raises :class:`StoreError` for one that is not usable.
    """

    def __init__(self, target: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        found = default_store_path() if target is None else store_target(target)
        self._lock = threading.RLock()
        self._conn: Backend = open_backend(found, create=create)
        #: How the store is named to people: the file's path, or the URL without its password.
        self.location: str = self._conn.location
        #: The SQLite file; for PostgreSQL, the location (there is no file).
        self.path: Path | str = found if isinstance(found, Path) else self.location

    @classmethod
    def open(cls, target: str | os.PathLike[str] | None = None, *, create: bool = True) -> Self:
        return cls(target, create=create)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._conn.dialect.name

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def schema_version(self) -> int:
        with self._lock, self._conn.errors("read"):
            return self._conn.schema_version()

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def consistent_read(self) -> Iterator[Self]:
        """Every read inside the block sees the same state of the store, whatever other processes write.

        Holds this Store's lock for the block: keep it short.
        """
        with self._lock:
            if self._conn.in_transaction:  # nested: the outer block already fixed the snapshot
                yield self
                return
            with self._conn.errors("read"):
                self._conn.begin_read()
            try:
                yield self
            finally:
                self._rollback()  # a read-only transaction: nothing to keep

    def _rollback(self) -> None:
        # A connection already lost has nothing to roll back: the first error is the one to report.
        with suppress(Exception):
            self._conn.rollback()

    def _query(self, statement: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self._lock, self._conn.errors("read"):
            columns, records = self._conn.query(statement, params)
        return pd.DataFrame.from_records(records, columns=columns)

    def _read(
        self, statement: str, tickers: Iterable[str] | None, schema: Schema, *, keep_extra: bool = False
    ) -> pd.DataFrame:
        where, params = self._conn.dialect.where_tickers(tickers)
        text = statement.format(where=where, inserted=self._conn.dialect.inserted)
        frame = conform(self._query(text, params), schema, keep_extra=keep_extra)
        validate(frame, schema)
        return frame

    def _read_analysis(self, table: str, tickers: Iterable[str] | None) -> pd.DataFrame:
        return self._read(sql.SELECT_ANALYSIS[table], tickers, sql.ANALYSIS_TABLES[table])

    def _scalar(self, statement: str, params: Sequence[Any] = ()) -> Any:
        with self._lock, self._conn.errors("read"):
            _, records = self._conn.query(statement, params)
        return records[0][0] if records else None

    # -- writing ------------------------------------------------------------------------------

    def write_batch(
        self,
        snapshots: pd.DataFrame | None = None,
        trend: pd.DataFrame | None = None,
        upgrades: pd.DataFrame | None = None,
        prices: pd.DataFrame | None = None,
        names: pd.DataFrame | None = None,
        log_entry: FetchLogEntry | None = None,
        *,
        fetched_at: object = None,
        estimates: pd.DataFrame | None = None,
        eps_trend: pd.DataFrame | None = None,
        eps_revisions: pd.DataFrame | None = None,
        surprises: pd.DataFrame | None = None,
    ) -> WriteSummary:
        """Store one fetch, all of it or nothing, in one short transaction.

        Frames follow SNAPSHOTS, TREND, UPGRADES, PRICES, NAMES, ESTIMATES, EPS_TREND, EPS_REVISIONS
        and SURPRISES (missing columns are unknown; ``None`` means nothing of that kind); the analysis
        tab's frames are appended as dated snapshots, like the trend. `fetched_at` dates the prices'
        and names' rows (the newest fetch wins) and the upgrades' ``first_seen_at``; by default it is
        the latest ``observed_at`` of the snapshots, trend or estimates, else the log entry's end, else now.

        A frame that breaks its schema, has an empty key or duplicate keys raises
        :class:`ratings.schema.SchemaError` before anything is written; a failure while writing
        rolls everything back and raises :class:`StoreError` (or the original exception).
        """
        analysis = {
            "estimates": estimates,
            "eps_trend": eps_trend,
            "eps_revisions": eps_revisions,
            "surprises": surprises,
        }
        batch = prepare_batch(snapshots, trend, upgrades, prices, names, log_entry, fetched_at, analysis)
        stamp = batch.fetched_at
        with self._lock, self._conn.errors("write to"):
            if self._conn.in_transaction:
                raise StoreError(f"cannot write to the store {self.location} inside a consistent_read() block")
            self._conn.begin_write()
            try:
                summary = WriteSummary(
                    snapshots=self._insert(sql.INSERT_SNAPSHOTS, rows(batch.snapshots, sql.SNAPSHOT_COLUMNS)),
                    trend=self._insert(sql.INSERT_TREND, rows(batch.trend, sql.TREND_COLUMNS)),
                    upgrades=self._write_upgrades(batch.upgrades, stamp),
                    prices=self._write_prices(batch.prices, stamp),
                    names=self._write_names(batch.names, stamp),
                    log_id=self._write_log(batch.log) if batch.log is not None else None,
                    fetched_at=stamp,
                    **self._write_analysis(batch.analysis),
                )
                self._conn.commit()
            except BaseException:
                self._rollback()
                raise
        return summary

    def _write_analysis(self, frames: dict[str, pd.DataFrame]) -> dict[str, TableCount]:
        """Append the analysis tab's snapshots; a row already stored (same ticker, fetch and period) is kept."""
        return {
            table: self._insert(sql.INSERT_ANALYSIS[table], rows(frames[table], schema.names))
            for table, schema in sql.ANALYSIS_TABLES.items()
        }

    def _insert(self, statement: str, values: list[tuple[Any, ...]]) -> TableCount:
        if not values:
            return TableCount()
        inserted = self._conn.executemany(statement, values)
        return TableCount(inserted=inserted, already_present=len(values) - inserted)

    def _insert_or_update(
        self, insert: str, update: str, values: list[tuple[Any, ...]], updates: Iterable[tuple[Any, ...]]
    ) -> TableCount:
        """Insert `values`; where some were present already, run `update` with `updates` (its count: replaced)."""
        count = self._insert(insert, values)
        if not count.already_present:
            return count
        changed = self._conn.executemany(update, list(updates))
        return TableCount(count.inserted, count.already_present, changed)

    def _write_upgrades(self, grades: pd.DataFrame, stamp: str) -> TableCount:
        found = rows(grades, sql.UPGRADE_COLUMNS)
        keys = ("ticker", "graded_at", "firm", "action")
        targets = ("price_target_action", "prior_price_target", "current_price_target")
        at = {name: i for i, name in enumerate(sql.UPGRADE_COLUMNS)}
        fills = (tuple(r[at[c]] for c in (*targets, *keys, *targets)) for r in found)
        return self._insert_or_update(
            sql.INSERT_UPGRADES, sql.FILL_UPGRADE_TARGETS, [(*r, stamp) for r in found], fills
        )

    def _write_prices(self, closes: pd.DataFrame, stamp: str) -> TableCount:
        found = rows(closes, ("ticker", "date", "close", "currency", "source_id"))
        newer = ((close, cur, src, stamp, tic, day, stamp) for tic, day, close, cur, src in found)
        return self._insert_or_update(sql.INSERT_PRICES, sql.REPLACE_PRICES, [(*r, stamp) for r in found], newer)

    def _write_names(self, named: pd.DataFrame, stamp: str) -> TableCount:
        found = rows(named, ("ticker", "name", "currency"))
        newer = ((name, cur, stamp, tic, stamp) for tic, name, cur in found)
        return self._insert_or_update(sql.INSERT_NAMES, sql.REPLACE_NAMES, [(*r, stamp) for r in found], newer)

    def _write_log(self, entry: FetchLogEntry) -> int:
        reasons = json.dumps(dict(entry.reasons), sort_keys=True)
        counts = (entry.ok, entry.no_coverage, entry.failed)
        values = (entry.started_at, entry.finished_at, json.dumps(list(entry.tickers)), *counts, reasons)
        return self._conn.insert_id(sql.INSERT_LOG, values)

    def log_fetch(self, entry: FetchLogEntry) -> int:
        """Record a fetch that stored nothing (every ticker failed); returns the log row's id."""
        summary = self.write_batch(log_entry=entry)
        assert summary.log_id is not None  # noqa: S101 - write_batch always logs a given entry
        return summary.log_id

    @contextmanager
    def fetch_lock(self) -> Iterator[bool]:
        """The store's fetch lock for the block (a scheduled fetch holds it): yields False at once, holding
        nothing, when another process has it. It is the kernel's (SQLite: ``flock`` on ``<file>.fetch-lock``)
        or the server's (PostgreSQL: an advisory lock), so a killed process never leaves it held."""
        held = self._conn.fetch_lock()
        with self._lock, self._conn.errors("lock"):  # this Store's lock only while taking and releasing it
            taken = held.__enter__()
        try:
            yield taken
        finally:
            with self._lock, self._conn.errors("unlock"):
                held.__exit__(None, None, None)

    # -- reading ------------------------------------------------------------------------------

    def snapshots(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored fetch (``SNAPSHOTS``), by ticker, source and time."""
        return self._read(sql.SELECT_SNAPSHOTS, tickers, SNAPSHOTS)

    def latest(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """The latest fetch of each ticker and source (``CONSENSUS``)."""
        return self._read(sql.SELECT_LATEST, tickers, CONSENSUS)

    def history(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Dated snapshots (``CONSENSUS_HISTORY``): the last fetch of each ticker, source and UTC day.

        The schema keys history by ``as_of`` too: where a source's own date did not move over
        several days, the last of those days stands for it.
        """
        return daily(self.snapshots(tickers))

    def history_and_latest(self, tickers: Iterable[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:meth:`history` and :meth:`latest` from ONE read of the snapshots (the newest fetch of a ticker and
        source is the last of its day): what the dashboard loads, at a third of the cost of the two queries."""
        history = daily(self.snapshots(tickers))
        newest = history.drop_duplicates(["ticker", "source_id"], keep="last").reset_index(drop=True)
        latest = conform(newest, CONSENSUS)
        validate(latest, CONSENSUS)
        return history, latest

    def trend(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored recommendation trend (``TREND``), by ticker, fetch and month."""
        return self._read(sql.SELECT_TREND, tickers, TREND)

    def estimates(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored fetch of the EPS and revenue estimates (``ESTIMATES``), by ticker, fetch and period."""
        return self._read_analysis("estimates", tickers)

    def eps_trend(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored EPS trend (``EPS_TREND``): the estimate now and 7, 30, 60, 90 days before each fetch."""
        return self._read_analysis("eps_trend", tickers)

    def eps_revisions(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored count of EPS revisions (``EPS_REVISIONS``), by ticker, fetch and period."""
        return self._read_analysis("eps_revisions", tickers)

    def surprises(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored earnings surprise (``SURPRISES``), by ticker, fetch and quarter."""
        return self._read_analysis("surprises", tickers)

    def upgrades(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every analyst action seen (``UPGRADES`` plus ``first_seen_at``), by ticker and time."""
        frame = self._read(sql.SELECT_UPGRADES, tickers, UPGRADES, keep_extra=True)
        frame["first_seen_at"] = frame["first_seen_at"].astype("string")
        return frame

    def prices(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Daily closes (``PRICES``), by ticker and date."""
        return self._read(sql.SELECT_PRICES, tickers, PRICES)

    def names(self) -> pd.DataFrame:
        """Ticker, name, currency and when they were last updated (``NAMES``)."""
        return self._read(sql.SELECT_NAMES, None, NAMES)

    def tickers(self) -> list[str]:
        """Every ticker the store knows anything about, sorted."""
        return [str(t) for t in self._query(sql.SELECT_TICKERS)["ticker"]]

    def observed_since(self, since: str) -> set[str]:
        """The tickers with a snapshot observed at or after `since` (a stored timestamp, e.g. today's midnight)."""
        return {str(t) for t in self._query(sql.SELECT_OBSERVED_SINCE, (since,))["ticker"]}

    def fetch_log(self, limit: int | None = 20, *, since: str = "") -> list[FetchLogEntry]:
        """The latest fetches, newest first (all of them with ``limit=None``; those finished at or after `since`)."""
        with self._lock, self._conn.errors("read"):
            limit_value = self._conn.dialect.no_limit if limit is None else int(limit)
            _, found = self._conn.query(sql.SELECT_LOG, (since, limit_value))
        return [
            FetchLogEntry(
                started_at=str(started),
                finished_at=str(finished),
                tickers=tuple(json.loads(tickers)),
                ok=int(ok),
                no_coverage=int(no_coverage),
                failed=int(failed),
                reasons=json.loads(reasons),
                id=int(row_id),
            )
            for row_id, started, finished, tickers, ok, no_coverage, failed, reasons in found
        ]

    def last_observed_at(self, source_id: str | None = None) -> str | None:
        """When the newest stored snapshot (of `source_id`, or any) was fetched; None if there is none."""
        if source_id is None:
            return self._scalar(sql.SELECT_LAST_OBSERVED)
        return self._scalar(sql.SELECT_LAST_OBSERVED_OF, (source_id,))


def daily(snapshots: pd.DataFrame) -> pd.DataFrame:
    """`snapshots` (``SNAPSHOTS``, by ticker, source and time) as ``CONSENSUS_HISTORY``: the last fetch of each
    ticker, source and UTC day, then the last of each source's own date (``as_of``). In pandas, vectorised: a
    window over the days in SQL sorts the whole table, many times slower on a large store."""
    day = snapshots["observed_at"].str.slice(0, 10)
    keys = pd.DataFrame({"ticker": snapshots["ticker"], "source_id": snapshots["source_id"], "day": day})
    frame = snapshots[~keys.duplicated(keep="last").to_numpy()]
    frame = frame.drop_duplicates(["ticker", "source_id", "as_of"], keep="last").reset_index(drop=True)
    frame = conform(frame, CONSENSUS_HISTORY)
    validate(frame, CONSENSUS_HISTORY)
    return frame
