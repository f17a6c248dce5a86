"""The store: a SQLite file or a PostgreSQL database that keeps every fetch, so the dashboard has a history.

yfinance only ever returns today's consensus, so each fetch is appended as a dated snapshot and
the history is built here. The store is :func:`ratings.paths.default_store_path` (``$RATINGS_STORE`` or
a file in the user's data directory) unless one is given (``--store PATH`` or ``--store postgresql://...``).
Both backends have the same tables, schema versions and guarantees behind one :class:`Store`: open
(checked), migrate, write one batch per transaction, read. Turning what it holds into the dashboard's
:class:`~ratings.dataset.Dataset` is :mod:`ratings.sources`' job.

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
    ``estimates``, ``eps_trend``, ``eps_revisions``
                   Yahoo's analysis tab per fetch (``ESTIMATES``, ``EPS_TREND``, ``EPS_REVISIONS``),
                   UNIQUE(ticker, observed_at, period): a dated snapshot per ticker, period and fetch.
    ``surprises``  the earnings history per fetch (``SURPRISES``), UNIQUE(ticker, observed_at, quarter).

Timestamps (``observed_at``, ``graded_at``, ``first_seen_at``, fetch times) are stored in
:data:`ratings.schema.TIMESTAMP_FORMAT` (``2026-07-02T14:03:11Z``), so that text order is time
order and one instant has one spelling; whatever ISO spelling a caller passes is converted.
Prices' dates are ``YYYY-MM-DD``. Unknown values are NULL (never 0) and come back as NaN / <NA>.
The schema's versions and their migration: :mod:`ratings.store.migrations`.

Safety
    Nothing is ever written to a file that is not ours: an existing non-empty file must start with
    SQLite's 16-byte header and be as long as that header says (:mod:`ratings.store.files`), is
    opened with ``mode=rw`` (never created by accident), must carry our application_id (or be an
    empty database), and must pass ``PRAGMA quick_check`` before anything is written to it. A
    PostgreSQL database must hold our ``ratings_store`` table (or no table at all) and be of a version
    this code knows (:mod:`ratings.store.postgres`). Every failure is a :class:`StoreError` naming the
    store (a URL without its password).

Modules: ``store`` (the :class:`Store`), ``sqlite`` and ``postgres`` (the two backends), ``sql`` (the
statements, and the :class:`~.sql.Dialect` that differs), ``batch`` (what a write is checked against
first), ``migrations`` (+ ``versions/*.sql`` and ``versions/postgresql/*.sql``, frozen), ``files``
(SQLite's checks before it opens a file), ``target`` (a store asked about without opening it), ``errors``.
"""

from __future__ import annotations

from ..schema import FetchLogEntry
from .batch import TableCount, WriteSummary
from .errors import StoreError
from .migrations import APPLICATION_ID, MIGRATIONS, POSTGRES_MIGRATIONS, SCHEMA_VERSION
from .sqlite import BUSY_TIMEOUT_S
from .store import Store
from .target import StoreURL, display, locate, version_stamp

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "POSTGRES_MIGRATIONS",
    "SCHEMA_VERSION",
    "FetchLogEntry",
    "Store",
    "StoreError",
    "StoreURL",
    "TableCount",
    "WriteSummary",
    "display",
    "locate",
    "version_stamp",
]
