"""The local store: a SQLite file that keeps every fetch, so the dashboard has a history.

yfinance only ever returns today's consensus, so each fetch is appended as a dated snapshot and
the history is built here. The file lives at :func:`ratings.paths.default_store_path`
(``$RATINGS_STORE`` or the user's data directory) unless a path is given (``--store PATH``).

Tables
    ``snapshots``  every fetch of a consensus (``SNAPSHOTS``), UNIQUE(ticker, source_id, observed_at):
                   writing the same batch twice stores it once.
    ``trend``      Yahoo's recommendation trend per fetch (``TREND``), UNIQUE(ticker, observed_at, period).
    ``upgrades``   each analyst action once (``UPGRADES``), UNIQUE(ticker, graded_at, firm, action);
                   ``first_seen_at`` is the fetch that first returned it and is never overwritten.
    ``prices``     daily closes (``PRICES``), PRIMARY KEY(ticker, date); the newest fetch wins.
    ``names``      ticker, name, currency, updated_at; the newest fetch wins, but a fetch that
                   returned no name does not erase a known one.
    ``fetch_log``  one row per fetch: start, end, tickers, ok / no-coverage / failed counts and the
                   per-ticker reasons (JSON), for "last refresh failed 10 min ago: rate limited".

Timestamps (``observed_at``, ``graded_at``, ``first_seen_at``, fetch times) are stored as
fixed-width UTC text to the second, ``2026-07-02T14:03:11Z`` (the live loader's spelling), so that
text order is time order and one instant has one spelling; whatever ISO spelling a caller passes
is converted. Prices' dates are ``YYYY-MM-DD``. Unknown values are NULL (never 0)
and come back as NaN / <NA>.

Schema versions (``PRAGMA user_version``; ``PRAGMA application_id`` = :data:`APPLICATION_ID`
marks the file as ours). :data:`MIGRATIONS` is the ordered list of scripts; version N is the
schema after the first N. Opening an older file runs the missing scripts in one transaction.
    v1  snapshots, upgrades (firm's grades only), names.
    v2  trend, prices, fetch_log; the price-target columns of upgrades (price_target_action,
        prior_price_target, current_price_target); an index of snapshots by time.
A file of a newer version than this code knows is refused and left untouched.

Safety
    Nothing is ever written to a file that is not ours: an existing non-empty file must start with
    SQLite's 16-byte header and be as long as that header says (SQLite itself opens a truncated
    file without complaint), is opened with ``mode=rw`` (never created by accident), must carry our
    application_id (or be an empty database), and must pass ``PRAGMA quick_check`` before
    anything is written to it. Every failure is a :class:`StoreError` naming the file.

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
import stat
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pandas as pd

from .data import DataError, Dataset
from .formatting import reasons_text
from .paths import default_store_path
from .schema import (
    CONSENSUS,
    CONSENSUS_HISTORY,
    NO_COVERAGE_REASON,
    PRICES,
    SNAPSHOTS,
    TEXT,
    TREND,
    UNIVERSE,
    UPGRADES,
    Column,
    Schema,
    SchemaError,
    conform,
    validate,
)
from .tickers import WATCHLIST

#: ``PRAGMA application_id`` of an analyst-ratings store: b"ARtg" as a big-endian 32-bit integer.
APPLICATION_ID = int.from_bytes(b"ARtg", "big")
#: How long a statement waits for another process's lock before giving up.
BUSY_TIMEOUT_S = 10.0
SQLITE_HEADER = b"SQLite format 3\x00"

#: The local store's source id in frames, and its provenance in :func:`load_store`.
STORE_SOURCE_ID = "yfinance"

NAMES = Schema(
    "names",
    (
        Column("ticker", TEXT, "Yahoo-style symbol"),
        Column("name", TEXT, "company name as Yahoo gives it"),
        Column("currency", TEXT, "currency of the ticker's quotes ('GBp' means pence)"),
        Column("updated_at", TEXT, "ISO timestamp (UTC) of the fetch that last set the row", required=False),
    ),
    key=("ticker",),
)

# Frozen history: never edit a released script, append a new one.
_V1 = """
CREATE TABLE snapshots (
    ticker        TEXT NOT NULL CHECK (ticker <> ''),
    source_id     TEXT NOT NULL CHECK (source_id <> ''),
    observed_at   TEXT NOT NULL,
    source        TEXT,
    as_of         TEXT,
    currency      TEXT,
    price         REAL,
    price_as_of   TEXT,
    target_mean   REAL,
    target_median REAL,
    target_low    REAL,
    target_high   REAL,
    n_analysts    INTEGER CHECK (n_analysts >= 0),
    strong_buy    INTEGER CHECK (strong_buy >= 0),
    buy           INTEGER CHECK (buy >= 0),
    hold          INTEGER CHECK (hold >= 0),
    sell          INTEGER CHECK (sell >= 0),
    strong_sell   INTEGER CHECK (strong_sell >= 0),
    rating_mean   REAL,
    source_label  TEXT,
    note          TEXT,
    UNIQUE (ticker, source_id, observed_at)
);
CREATE TABLE upgrades (
    ticker        TEXT NOT NULL CHECK (ticker <> ''),
    graded_at     TEXT NOT NULL,
    firm          TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_grade    TEXT,
    to_grade      TEXT,
    source        TEXT,
    first_seen_at TEXT NOT NULL,
    UNIQUE (ticker, graded_at, firm, action)
);
CREATE TABLE names (
    ticker     TEXT PRIMARY KEY CHECK (ticker <> ''),
    name       TEXT,
    currency   TEXT,
    updated_at TEXT NOT NULL
);
"""

_V2 = """
ALTER TABLE upgrades ADD COLUMN price_target_action TEXT;
ALTER TABLE upgrades ADD COLUMN prior_price_target REAL;
ALTER TABLE upgrades ADD COLUMN current_price_target REAL;
CREATE TABLE trend (
    ticker      TEXT NOT NULL CHECK (ticker <> ''),
    observed_at TEXT NOT NULL,
    period      TEXT NOT NULL,
    month       TEXT,
    strong_buy  INTEGER CHECK (strong_buy >= 0),
    buy         INTEGER CHECK (buy >= 0),
    hold        INTEGER CHECK (hold >= 0),
    sell        INTEGER CHECK (sell >= 0),
    strong_sell INTEGER CHECK (strong_sell >= 0),
    UNIQUE (ticker, observed_at, period)
);
CREATE TABLE prices (
    ticker     TEXT NOT NULL CHECK (ticker <> ''),
    date       TEXT NOT NULL,
    close      REAL,
    currency   TEXT,
    source_id  TEXT,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (ticker, date)
) WITHOUT ROWID;
CREATE TABLE fetch_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    tickers     TEXT NOT NULL,
    ok          INTEGER NOT NULL CHECK (ok >= 0),
    no_coverage INTEGER NOT NULL CHECK (no_coverage >= 0),
    failed      INTEGER NOT NULL CHECK (failed >= 0),
    reasons     TEXT NOT NULL
);
CREATE INDEX snapshots_by_time ON snapshots (observed_at);
"""

#: Ordered schema scripts: a file at version N has had the first N applied.
MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # fixed width: text order is time order


class StoreError(DataError):
    """The store cannot be opened, read or written; the message names the file and the reason."""


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


@dataclass(frozen=True)
class FetchLogEntry:
    """One fetch: when, which tickers, how many fetched / without analyst coverage / failed, and why.

    ``reasons`` maps a ticker to the reason it was not fetched (or had no coverage).
    """

    started_at: str
    finished_at: str
    tickers: tuple[str, ...]
    ok: int
    no_coverage: int
    failed: int
    reasons: Mapping[str, str] = field(default_factory=dict)
    id: int | None = None


def utc_now() -> str:
    """The current time as the store writes it: ``2026-07-02T14:03:11Z``."""
    return datetime.now(UTC).strftime(_TIME_FORMAT)


def utc_text(value: object) -> str:
    """`value` (ISO text, datetime, Timestamp; naive means UTC) as the store's UTC timestamp text."""
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    if pd.isna(stamp):
        raise ValueError(f"not a timestamp: {value!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime(_TIME_FORMAT)


def _utc_column(values: pd.Series, fmt: str, what: str) -> pd.Series:
    try:
        parsed = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"{what}: not an ISO timestamp: {exc}") from None
    return parsed.dt.strftime(fmt).astype("string")


# --------------------------------------------------------------------------------------------
# Preparing a batch: conform to the schema, refuse what the store cannot key, canonical times.


def _prepare(
    frame: pd.DataFrame | None,
    schema: Schema,
    *,
    not_null: Sequence[str],
    times: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    if frame is None:
        return schema.empty()
    out = conform(frame, schema).reset_index(drop=True)
    for name in not_null:
        blank = out[name].isna() | (out[name].astype("string").str.strip() == "").fillna(False)
        if blank.any():
            raise SchemaError(f"{schema.name}: column {name!r} is empty in {int(blank.sum())} row(s)")
    for name, fmt in (times or {}).items():
        out[name] = _utc_column(out[name], fmt, f"{schema.name}.{name}")
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


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows of `columns` as tuples of Python values; every missing value becomes None (NULL)."""
    lists = []
    for name in columns:
        series = frame[name]
        if str(series.dtype).startswith("datetime64"):
            series = series.dt.strftime("%Y-%m-%d")
        lists.append(series.astype(object).where(series.notna(), None).tolist())
    return list(zip(*lists, strict=True)) if lists else []


# --------------------------------------------------------------------------------------------
# SQL. Only constant fragments are ever joined into SQL text; every value is a parameter.

_SNAPSHOT_COLUMNS = tuple(SNAPSHOTS.names)
_TREND_COLUMNS = tuple(TREND.names)
_UPGRADE_COLUMNS = tuple(UPGRADES.names)
_PRICE_COLUMNS = tuple(PRICES.names)

_INSERT_SNAPSHOTS = (
    f"INSERT INTO snapshots ({', '.join(_SNAPSHOT_COLUMNS)}) VALUES ({', '.join('?' * len(_SNAPSHOT_COLUMNS))})"  # noqa: S608
    " ON CONFLICT (ticker, source_id, observed_at) DO NOTHING"
)
_INSERT_TREND = (
    f"INSERT INTO trend ({', '.join(_TREND_COLUMNS)}) VALUES ({', '.join('?' * len(_TREND_COLUMNS))})"  # noqa: S608
    " ON CONFLICT (ticker, observed_at, period) DO NOTHING"
)
_INSERT_UPGRADES = (
    f"INSERT INTO upgrades ({', '.join(_UPGRADE_COLUMNS)}, first_seen_at)"  # noqa: S608
    f" VALUES ({', '.join('?' * (len(_UPGRADE_COLUMNS) + 1))})"
    " ON CONFLICT (ticker, graded_at, firm, action) DO NOTHING"
)
# An action stored before Yahoo gave its targets (older answers lack them) gets them from a later fetch;
# what was known stays.
_FILL_UPGRADE_TARGETS = (
    "UPDATE upgrades SET price_target_action = coalesce(price_target_action, ?),"
    " prior_price_target = coalesce(prior_price_target, ?), current_price_target = coalesce(current_price_target, ?)"
    " WHERE ticker = ? AND graded_at = ? AND firm = ? AND action = ?"
    " AND (price_target_action IS NULL OR prior_price_target IS NULL OR current_price_target IS NULL)"
    " AND coalesce(?, ?, ?) IS NOT NULL"
)
_INSERT_PRICES = (
    "INSERT INTO prices (ticker, date, close, currency, source_id, fetched_at) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (ticker, date) DO NOTHING"
)
# Newest fetch wins; rows this very batch inserted carry the same fetched_at and are left alone.
_REPLACE_PRICES = (
    "UPDATE prices SET close = ?, currency = ?, source_id = ?, fetched_at = ?"
    " WHERE ticker = ? AND date = ? AND fetched_at < ?"
)
_INSERT_NAMES = (
    "INSERT INTO names (ticker, name, currency, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (ticker) DO NOTHING"
)
_REPLACE_NAMES = (
    "UPDATE names SET name = coalesce(?, name), currency = coalesce(?, currency), updated_at = ?"
    " WHERE ticker = ? AND updated_at < ?"
)
_INSERT_LOG = (
    "INSERT INTO fetch_log (started_at, finished_at, tickers, ok, no_coverage, failed, reasons)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)

# One parameter holds the whole ticker list (a JSON array): no limit on the number of variables.
_TICKER_FILTER = "ticker IN (SELECT value FROM json_each(?))"


def _where(tickers: Iterable[str] | None) -> tuple[str, tuple[Any, ...]]:
    if tickers is None:
        return "", ()
    return f" WHERE {_TICKER_FILTER}", (json.dumps([str(t) for t in tickers]),)


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (each of ours ends with ';' at the end of a line)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:80]!r}")


# --------------------------------------------------------------------------------------------


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
        existed = self._check_file(create=create)
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
            self._prepare_file(create=create)
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(self._busy_message(exc)) from None
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

    # -- opening ------------------------------------------------------------------------------

    def _check_file(self, *, create: bool) -> bool:
        """Refuse what is not a SQLite file before SQLite sees it. Returns whether the file exists."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            if not create:
                raise StoreError(f"no store at {self.path}: run `ratings fetch` first") from None
            return False
        except OSError as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(f"not a file: {self.path}")
        if info.st_size:
            try:
                with self.path.open("rb") as fh:
                    head = fh.read(100)
            except OSError as exc:
                raise StoreError(f"cannot read the store {self.path}: {exc.strerror or exc}") from None
            if head[: len(SQLITE_HEADER)] != SQLITE_HEADER:
                raise StoreError(f"not a SQLite database: {self.path}")
            journals = (self.path.with_name(self.path.name + suffix) for suffix in ("-wal", "-journal"))
            problem = _truncation(head, info.st_size, has_journal=any(j.exists() for j in journals))
            if problem:
                raise StoreError(f"the store {self.path} is damaged: {problem}")
        return True

    def _header(self) -> tuple[int, int, int]:
        app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        objects = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        return app_id, version, objects

    def _check_ours(self, app_id: int, version: int, objects: int, *, create: bool) -> None:
        if app_id != APPLICATION_ID:
            if app_id or version or objects:
                raise StoreError(f"not an analyst-ratings store: {self.path}")
            if not create:
                raise StoreError(f"no store at {self.path} (an empty database): run `ratings fetch` first")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer version of analyst-ratings (store schema v{version}; "
                f"this version knows up to v{SCHEMA_VERSION}); upgrade analyst-ratings to use it"
            )

    def _prepare_file(self, *, create: bool) -> None:
        # Everything up to quick_check only reads: a file that fails a check is left byte for byte.
        app_id, version, objects = self._header()
        self._check_ours(app_id, version, objects, create=create)
        problems = [row[0] for row in self._conn.execute("PRAGMA quick_check(5)").fetchall()]
        if problems != ["ok"]:
            raise StoreError(f"the store {self.path} is damaged: {'; '.join(problems)}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a power cut may lose the last fetch
        if version < SCHEMA_VERSION:
            self._migrate(version, create=create)

    def _migrate(self, version: int, *, create: bool) -> None:
        """Bring the file from `version` to :data:`SCHEMA_VERSION` in one transaction (all scripts or none)."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock: look again.
            app_id, version, objects = self._header()
            self._check_ours(app_id, version, objects, create=create)
            for script in MIGRATIONS[version:]:
                for statement in _statements(script):
                    conn.execute(statement)
            # PRAGMAs take no parameters; both values are this module's integer constants.
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.rollback()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(self._busy_message(exc)) from None
            raise StoreError(
                f"cannot migrate the store {self.path} from schema v{version} to v{SCHEMA_VERSION}"
                f" (nothing was changed): {exc}"
            ) from None
        except BaseException:
            conn.rollback()
            raise

    def _busy_message(self, exc: Exception) -> str:
        return f"the store {self.path} stayed locked by another process for over {BUSY_TIMEOUT_S:g} s: {exc}"

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
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(self._busy_message(exc)) from exc
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

    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self._lock, self._errors("read"):
            cursor = self._conn.execute(sql, tuple(params))
            rows = cursor.fetchall()
            columns = [d[0] for d in cursor.description]
        return pd.DataFrame.from_records(rows, columns=columns)

    def _read(self, sql: str, params: Sequence[Any], schema: Schema, *, keep_extra: bool = False) -> pd.DataFrame:
        frame = conform(self._query(sql, params), schema, keep_extra=keep_extra)
        validate(frame, schema)
        return frame

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
    ) -> WriteSummary:
        """Store one fetch, all of it or nothing, in one short transaction.

        Frames follow SNAPSHOTS, TREND, UPGRADES, PRICES and :data:`NAMES` (missing columns are
        unknown; ``None`` means nothing of that kind). `fetched_at` dates the prices' and names'
        rows (the newest fetch wins) and the upgrades' ``first_seen_at``; by default it is the
        latest ``observed_at`` of the snapshots or trend, else the log entry's end, else now.

        A frame that breaks its schema, has an empty key or duplicate keys raises
        :class:`ratings.schema.SchemaError` before anything is written; a failure while writing
        rolls everything back and raises :class:`StoreError` (or the original exception).
        """
        snaps = _prepare(
            snapshots,
            SNAPSHOTS,
            not_null=("ticker", "source_id", "observed_at"),
            times={"observed_at": _TIME_FORMAT},
        )
        trends = _prepare(
            trend, TREND, not_null=("ticker", "observed_at", "period"), times={"observed_at": _TIME_FORMAT}
        )
        grades = _prepare(
            upgrades,
            UPGRADES,
            not_null=("ticker", "graded_at", "firm", "action"),
            times={"graded_at": _TIME_FORMAT},
        )
        closes = _prepare_prices(prices)
        named = _prepare(names, NAMES, not_null=("ticker",))
        log = _prepare_log(log_entry) if log_entry is not None else None
        stamp = _default_fetched_at(fetched_at, snaps, trends, log)

        with self._lock, self._errors("write to"):
            if self._conn.in_transaction:
                raise StoreError(f"cannot write to the store {self.path} inside a consistent_read() block")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                summary = WriteSummary(
                    snapshots=self._insert(_INSERT_SNAPSHOTS, _rows(snaps, _SNAPSHOT_COLUMNS)),
                    trend=self._insert(_INSERT_TREND, _rows(trends, _TREND_COLUMNS)),
                    upgrades=self._write_upgrades(grades, stamp),
                    prices=self._write_prices(closes, stamp),
                    names=self._write_names(named, stamp),
                    log_id=self._write_log(log) if log is not None else None,
                    fetched_at=stamp,
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.rollback()
                raise
        return summary

    def _insert(self, sql: str, rows: list[tuple[Any, ...]]) -> TableCount:
        if not rows:
            return TableCount()
        inserted = self._conn.executemany(sql, rows).rowcount
        return TableCount(inserted=inserted, already_present=len(rows) - inserted)

    def _write_upgrades(self, grades: pd.DataFrame, stamp: str) -> TableCount:
        rows = _rows(grades, _UPGRADE_COLUMNS)
        count = self._insert(_INSERT_UPGRADES, [(*row, stamp) for row in rows])
        if not count.already_present:
            return count
        keys = ("ticker", "graded_at", "firm", "action")
        targets = ("price_target_action", "prior_price_target", "current_price_target")
        position = {name: i for i, name in enumerate(_UPGRADE_COLUMNS)}
        filled = self._conn.executemany(
            _FILL_UPGRADE_TARGETS,
            [(*(r[position[t]] for t in targets), *(r[position[k]] for k in keys), *(r[position[t]] for t in targets))
             for r in rows],
        ).rowcount  # fmt: skip
        return TableCount(count.inserted, count.already_present, filled)

    def _write_prices(self, closes: pd.DataFrame, stamp: str) -> TableCount:
        rows = _rows(closes, ("ticker", "date", "close", "currency", "source_id"))
        count = self._insert(_INSERT_PRICES, [(*row, stamp) for row in rows])
        if not count.already_present:
            return count
        replaced = self._conn.executemany(
            _REPLACE_PRICES, [(close, cur, src, stamp, tic, day, stamp) for tic, day, close, cur, src in rows]
        ).rowcount
        return TableCount(count.inserted, count.already_present, replaced)

    def _write_names(self, named: pd.DataFrame, stamp: str) -> TableCount:
        rows = _rows(named, ("ticker", "name", "currency"))
        count = self._insert(_INSERT_NAMES, [(*row, stamp) for row in rows])
        if not count.already_present:
            return count
        replaced = self._conn.executemany(
            _REPLACE_NAMES, [(name, cur, stamp, tic, stamp) for tic, name, cur in rows]
        ).rowcount
        return TableCount(count.inserted, count.already_present, replaced)

    def _write_log(self, entry: FetchLogEntry) -> int:
        cursor = self._conn.execute(
            _INSERT_LOG,
            (
                entry.started_at,
                entry.finished_at,
                json.dumps(list(entry.tickers)),
                entry.ok,
                entry.no_coverage,
                entry.failed,
                json.dumps(dict(entry.reasons), sort_keys=True),
            ),
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
        where, params = _where(tickers)
        sql = f"SELECT {', '.join(_SNAPSHOT_COLUMNS)} FROM snapshots{where} ORDER BY ticker, source_id, observed_at"  # noqa: S608
        return self._read(sql, params, SNAPSHOTS)

    def latest(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """The latest fetch of each ticker and source (``CONSENSUS``)."""
        where, params = _where(tickers)
        sql = (
            f"SELECT {', '.join(CONSENSUS.names)} FROM ("  # noqa: S608
            "SELECT *, row_number() OVER (PARTITION BY ticker, source_id ORDER BY observed_at DESC) AS newest"
            f" FROM snapshots{where}) WHERE newest = 1 ORDER BY ticker, source_id"
        )
        return self._read(sql, params, CONSENSUS)

    def history(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Dated snapshots (``CONSENSUS_HISTORY``): the last fetch of each ticker, source and UTC day.

        The schema keys history by ``as_of`` too: where a source's own date did not move over
        several days, the last of those days stands for it.
        """
        where, params = _where(tickers)
        sql = (
            f"SELECT {', '.join(CONSENSUS_HISTORY.names)} FROM ("  # noqa: S608
            "SELECT *, row_number() OVER ("
            "PARTITION BY ticker, source_id, substr(observed_at, 1, 10) ORDER BY observed_at DESC) AS newest"
            f" FROM snapshots{where}) WHERE newest = 1 ORDER BY ticker, source_id, observed_at"
        )
        frame = conform(self._query(sql, params), CONSENSUS_HISTORY)
        frame = frame.drop_duplicates(["ticker", "source_id", "as_of"], keep="last").reset_index(drop=True)
        validate(frame, CONSENSUS_HISTORY)
        return frame

    def trend(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored recommendation trend (``TREND``), by ticker, fetch and month."""
        where, params = _where(tickers)
        sql = f"SELECT {', '.join(_TREND_COLUMNS)} FROM trend{where} ORDER BY ticker, observed_at, month, period"  # noqa: S608
        return self._read(sql, params, TREND)

    def upgrades(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Every analyst action seen (``UPGRADES`` plus ``first_seen_at``), by ticker and time."""
        where, params = _where(tickers)
        sql = (
            f"SELECT {', '.join(_UPGRADE_COLUMNS)}, first_seen_at FROM upgrades{where}"  # noqa: S608
            " ORDER BY ticker, graded_at, firm, action"
        )
        frame = self._read(sql, params, UPGRADES, keep_extra=True)
        frame["first_seen_at"] = frame["first_seen_at"].astype("string")
        return frame

    def prices(self, tickers: Iterable[str] | None = None) -> pd.DataFrame:
        """Daily closes (``PRICES``), by ticker and date."""
        where, params = _where(tickers)
        sql = f"SELECT {', '.join(_PRICE_COLUMNS)} FROM prices{where} ORDER BY ticker, date"  # noqa: S608
        return self._read(sql, params, PRICES)

    def names(self) -> pd.DataFrame:
        """Ticker, name, currency and when they were last updated (:data:`NAMES`)."""
        return self._read("SELECT ticker, name, currency, updated_at FROM names ORDER BY ticker", (), NAMES)

    def tickers(self) -> list[str]:
        """Every ticker the store knows anything about, sorted."""
        frame = self._query(
            "SELECT ticker FROM snapshots UNION SELECT ticker FROM trend UNION SELECT ticker FROM upgrades"
            " UNION SELECT ticker FROM prices UNION SELECT ticker FROM names ORDER BY ticker"
        )
        return [str(t) for t in frame["ticker"]]

    def fetch_log(self, limit: int | None = 20) -> list[FetchLogEntry]:
        """The latest fetches, newest first (all of them with ``limit=None``)."""
        with self._lock, self._errors("read"):
            rows = self._conn.execute(
                "SELECT id, started_at, finished_at, tickers, ok, no_coverage, failed, reasons FROM fetch_log"
                " ORDER BY finished_at DESC, id DESC LIMIT ?",
                (-1 if limit is None else int(limit),),
            ).fetchall()
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
            for row_id, started, finished, tickers, ok, no_coverage, failed, reasons in rows
        ]

    def last_observed_at(self, source_id: str | None = None) -> str | None:
        """When the newest stored snapshot (of `source_id`, or any) was fetched; None if there is none."""
        with self._lock, self._errors("read"):
            if source_id is None:
                row = self._conn.execute("SELECT max(observed_at) FROM snapshots").fetchone()
            else:
                row = self._conn.execute(
                    "SELECT max(observed_at) FROM snapshots WHERE source_id = ?", (source_id,)
                ).fetchone()
        return row[0] if row else None


def _truncation(head: bytes, size: int, *, has_journal: bool) -> str | None:
    """Why a file with SQLite's magic is cut short, from its 100-byte header; None if it looks whole.

    SQLite itself opens a file cut inside its last page, or short of pages it never reads on open,
    without complaint. With a WAL or rollback journal beside the file another process may be in
    the middle of writing it (or SQLite will recover it): then SQLite alone judges.
    """
    if len(head) < 100:
        return f"{size} bytes, shorter than SQLite's 100-byte header"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"invalid page size {page_size}"
    if has_journal:
        return None
    if size % page_size:
        return f"{size} bytes is not a whole number of {page_size}-byte pages (truncated?)"
    pages = int.from_bytes(head[28:32], "big")
    # The header's page count is valid only when the change counter matches "version-valid-for".
    if head[24:28] == head[92:96] and pages * page_size > size:
        return f"{size} bytes but its header counts {pages} pages of {page_size} bytes (truncated?)"
    return None


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


def _default_fetched_at(given: object, snaps: pd.DataFrame, trends: pd.DataFrame, log: FetchLogEntry | None) -> str:
    if given is not None:
        try:
            return utc_text(given)
        except ValueError as exc:
            raise SchemaError(f"fetched_at: {exc}") from None
    observed = pd.concat([snaps["observed_at"], trends["observed_at"]]).dropna()
    if not observed.empty:
        return str(observed.max())
    return log.finished_at if log is not None else utc_now()


# --------------------------------------------------------------------------------------------
# The dashboard's Dataset from the store.

STORE_TERMS = (
    "Values from Yahoo Finance, fetched through yfinance on this computer and kept in its local store; "
    "Yahoo's terms of use apply (personal use)."
)


def _day(stamp: str | None) -> str | None:
    return stamp[:10] if stamp else None


def _readable(stamp: str | None) -> str:
    if not stamp:
        return "never"
    return pd.Timestamp(stamp).strftime("%Y-%m-%d %H:%M UTC")


def load_store(path: str | os.PathLike[str] | None = None) -> Dataset:
    """The dashboard's :class:`~ratings.data.Dataset` from the local store at `path` (or the default).

    consensus = :meth:`Store.latest`, history = :meth:`Store.history`, prices, and the stored
    names as ``UNIVERSE`` rows (no sector; ``in_sp500`` False because the store does not know
    index membership: merge the bundle's universe for it). All read from one state of the file.
    Raises :class:`StoreError` (a :class:`~ratings.data.DataError`) if there is no usable store.
    """
    with Store.open(path, create=False) as store, store.consistent_read():
        consensus = store.latest()
        history = store.history()
        prices = store.prices()
        trend = store.trend()
        upgrades = store.upgrades()
        names = store.names()
        store_log = store.fetch_log(limit=200)
        last_fetches = store_log[:1]
        last_observed = store.last_observed_at()
        source_ids = sorted(
            {STORE_SOURCE_ID} | set(consensus["source_id"].dropna()) | set(prices["source_id"].dropna())
        )
        as_of = {sid: store.last_observed_at(sid) for sid in source_ids}

    universe = conform(
        pd.DataFrame(
            {
                "ticker": names["ticker"],
                "name": names["name"],
                "in_watchlist": names["ticker"].isin(WATCHLIST),
            }
        ),
        UNIVERSE,
    )
    sources = {
        sid: {
            "title": "Yahoo Finance via yfinance (local store)" if sid == STORE_SOURCE_ID else f"{sid} (local store)",
            "provider": "Yahoo Finance",
            "repository": None,
            "commit": None,
            "as_of": _day(as_of[sid]),
            "terms": STORE_TERMS,
            "path": str(store.path),
        }
        for sid in source_ids
    }
    warnings: list[str] = []
    if consensus.empty:
        warnings.append(f"The local store {store.path} holds no consensus yet: run `ratings fetch TICKER...`.")
    if last_fetches and last_fetches[0].failed:
        entry = last_fetches[0]
        reasons = reasons_text(entry.reasons)  # the failures' reasons, and "no analyst coverage" ones
        found_none = f", and found no analyst coverage for {entry.no_coverage}" if entry.no_coverage else ""
        warnings.append(
            f"The last fetch ({_readable(entry.finished_at)}) failed for {entry.failed} of "
            f"{len(entry.tickers)} tickers{found_none}" + (f": {reasons}" if reasons else "") + "."
        )
    # Each ticker's latest answer in the log: "no analyst coverage" is an answer the frames cannot show.
    no_coverage: dict[str, str] = {}
    answered: set[str] = set()
    for entry in store_log:
        for ticker in entry.tickers:
            if ticker in answered:
                continue
            reason = entry.reasons.get(ticker, "")
            if reason.startswith(NO_COVERAGE_REASON):
                no_coverage[ticker] = entry.finished_at
            if not reason or reason.startswith(NO_COVERAGE_REASON):  # a failure says nothing of coverage
                answered.add(ticker)
    # The label dates what is shown: the newest snapshot (a later fetch may have failed, said above).
    label = f"last snapshot {_readable(last_observed)}" if last_observed else "no snapshot yet"
    return Dataset(
        consensus=consensus,
        history=history,
        prices=prices,
        universe=universe,
        sources=sources,
        label=f"Local store ({store.path}, {label})",
        warnings=tuple(warnings),
        trend=trend,
        upgrades=upgrades,
        kind="store",
        no_coverage=no_coverage,
    )


__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "NAMES",
    "SCHEMA_VERSION",
    "FetchLogEntry",
    "Store",
    "StoreError",
    "TableCount",
    "WriteSummary",
    "load_store",
    "utc_now",
    "utc_text",
]
