"""The SQLite store: open (checked, migrated), write one batch per transaction, read frames.

Concurrency
    WAL journal, ``busy_timeout`` of :data:`BUSY_TIMEOUT_S`, short write transactions
    (``BEGIN IMMEDIATE`` around the inserts only; the network fetch happens before): a dashboard
    reads while ``ratings fetch`` writes from another process. Within a process a :class:`Store`
    holds ONE connection (``check_same_thread=False``) guarded by a re-entrant lock: Streamlit
    runs each rerun in a thread of its own, so a cached Store is used from many threads; one
    locked connection is simple, leaks nothing when threads end, and the reads are short (a
    connection per thread would outlive its thread; one per call would repeat the open-time checks).
    :meth:`Store.consistent_read` reads several frames from one snapshot of the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pandas as pd

from ..paths import default_store_path
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
from . import migrations, sql
from .batch import TableCount, WriteSummary, prepare_batch, rows
from .errors import StoreError, busy_error, is_busy
from .files import check_file

#: How long a statement waits for another process's lock before giving up.
BUSY_TIMEOUT_S = 10.0


class Store:
    """An analyst-ratings SQLite store. Use as a context manager, or call :meth:`close`.

    ``Store(path)`` / ``Store.open(path)``: `path` defaults to
    :func:`ratings.paths.default_store_path`. With ``create=False`` a missing file is an error
    instead of a new store. Raises :class:`StoreError` for a file that is not a usable store.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        if path is None:
            path = default_store_path()
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        existed = check_file(self.path, create=create)
        if not existed:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of the store {self.path}: {exc.strerror or exc}") from None
        # mode=rw never creates a file: an existing store is opened as it is or not at all.
        uri = self.path.absolute().as_uri() + ("?mode=rw" if existed else "?mode=rwc")
        try:
            self._conn = sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")
            migrations.prepare(self._conn, self.path, create=create, busy_timeout_s=BUSY_TIMEOUT_S)
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if is_busy(exc):
                raise busy_error(self.path, exc, BUSY_TIMEOUT_S) from None
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            self._conn.close()
            raise StoreError(f"the store {self.path} is damaged or not a database: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Self:
        return cls(path, create=create)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def schema_version(self) -> int:
        with self._lock, self._errors("read"):
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise busy_error(self.path, exc, BUSY_TIMEOUT_S) from exc
            raise StoreError(f"cannot {doing} the store {self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"cannot {doing} the store {self.path}: {exc}") from exc

    @contextmanager
    def consistent_read(self) -> Iterator[Self]:
        """Every read inside the block sees the same state of the file, whatever other processes write.

        Holds this Store's lock for the block: keep it short.
        """
        with self._lock:
            if self._conn.in_transaction:  # nested: the outer block already fixed the snapshot
                yield self
                return
            with self._errors("read"):
                self._conn.execute("BEGIN DEFERRED")
            try:
                yield self
            finally:
                self._conn.rollback()  # a read-only transaction: nothing to keep

    def _query(self, statement: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self._lock, self._errors("read"):
            cursor = self._conn.execute(statement, tuple(params))
            records = cursor.fetchall()
            columns = [d[0] for d in cursor.description]
        return pd.DataFrame.from_records(records, columns=columns)

    def _read(
        self, statement: str, tickers: Iterable[str] | None, schema: Schema, *, keep_extra: bool = False
    ) -> pd.DataFrame:
        where, params = sql.where_tickers(tickers)
        frame = conform(self._query(statement.format(where=where), params), schema, keep_extra=keep_extra)
        validate(frame, schema)
        return frame

    def _read_analysis(self, table: str, tickers: Iterable[str] | None) -> pd.DataFrame:
        return self._read(sql.SELECT_ANALYSIS[table], tickers, sql.ANALYSIS_TABLES[table])

    def _scalar(self, statement: str, params: Sequence[Any] = ()) -> Any:
        with self._lock, self._errors("read"):
            row = self._conn.execute(statement, tuple(params)).fetchone()
        return row[0] if row else None

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
        with self._lock, self._errors("write to"):
            if self._conn.in_transaction:
                raise StoreError(f"cannot write to the store {self.path} inside a consistent_read() block")
            self._conn.execute("BEGIN IMMEDIATE")
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
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.rollback()
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
        inserted = self._conn.executemany(statement, values).rowcount
        return TableCount(inserted=inserted, already_present=len(values) - inserted)

    def _insert_or_update(
        self, insert: str, update: str, values: list[tuple[Any, ...]], updates: Iterable[tuple[Any, ...]]
    ) -> TableCount:
        """Insert `values`; where some were present already, run `update` with `updates` (its count: replaced)."""
        count = self._insert(insert, values)
        if not count.already_present:
            return count
        changed = self._conn.executemany(update, list(updates)).rowcount
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
        cursor = self._conn.execute(
            sql.INSERT_LOG, (entry.started_at, entry.finished_at, json.dumps(list(entry.tickers)), *counts, reasons)
        )
        return int(cursor.lastrowid or 0)

    def log_fetch(self, entry: FetchLogEntry) -> int:
        """Record a fetch that stored nothing (every ticker failed); returns the log row's id."""
        summary = self.write_batch(log_entry=entry)
        assert summary.log_id is not None  # noqa: S101 - write_batch always logs a given entry
        return summary.log_id

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
        where, params = sql.where_tickers(tickers)
        frame = conform(self._query(sql.SELECT_HISTORY.format(where=where), params), CONSENSUS_HISTORY)
        frame = frame.drop_duplicates(["ticker", "source_id", "as_of"], keep="last").reset_index(drop=True)
        validate(frame, CONSENSUS_HISTORY)
        return frame

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

    def fetch_log(self, limit: int | None = 20) -> list[FetchLogEntry]:
        """The latest fetches, newest first (all of them with ``limit=None``)."""
        with self._lock, self._errors("read"):
            found = self._conn.execute(sql.SELECT_LOG, (-1 if limit is None else int(limit),)).fetchall()
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
