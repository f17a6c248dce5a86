"""The store's SQL, one text for SQLite and PostgreSQL. Only constant fragments are ever joined into SQL
text; every value is a parameter.

Statements are spelt with SQLite's ``?`` placeholders; :mod:`ratings.store.postgres` turns them into
psycopg's ``%s``. The little that differs between the two is a :class:`Dialect`: how a list of tickers
is one parameter, which column keeps the order rows were inserted in, and how "no limit" is said.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..schema import (
    CONSENSUS,
    EPS_REVISIONS,
    EPS_TREND,
    ESTIMATES,
    PRICES,
    SNAPSHOTS,
    SURPRISES,
    TREND,
    UPGRADES,
    Schema,
)

SNAPSHOT_COLUMNS = tuple(SNAPSHOTS.names)
TREND_COLUMNS = tuple(TREND.names)
UPGRADE_COLUMNS = tuple(UPGRADES.names)
PRICE_COLUMNS = tuple(PRICES.names)

INSERT_SNAPSHOTS = (
    f"INSERT INTO snapshots ({', '.join(SNAPSHOT_COLUMNS)}) VALUES ({', '.join('?' * len(SNAPSHOT_COLUMNS))})"  # noqa: S608
    " ON CONFLICT (ticker, source_id, observed_at) DO NOTHING"
)
INSERT_TREND = (
    f"INSERT INTO trend ({', '.join(TREND_COLUMNS)}) VALUES ({', '.join('?' * len(TREND_COLUMNS))})"  # noqa: S608
    " ON CONFLICT (ticker, observed_at, period) DO NOTHING"
)
INSERT_UPGRADES = (
    f"INSERT INTO upgrades ({', '.join(UPGRADE_COLUMNS)}, first_seen_at)"  # noqa: S608
    f" VALUES ({', '.join('?' * (len(UPGRADE_COLUMNS) + 1))})"
    " ON CONFLICT (ticker, graded_at, firm, action) DO NOTHING"
)
# An action stored before Yahoo gave its targets (older answers lack them) gets them from a later fetch;
# what was known stays. (The casts give PostgreSQL each parameter's type, which a bare `? IS NOT NULL` lacks.)
FILL_UPGRADE_TARGETS = (
    "UPDATE upgrades SET price_target_action = coalesce(price_target_action, ?),"
    " prior_price_target = coalesce(prior_price_target, ?), current_price_target = coalesce(current_price_target, ?)"
    " WHERE ticker = ? AND graded_at = ? AND firm = ? AND action = ?"
    " AND (price_target_action IS NULL OR prior_price_target IS NULL OR current_price_target IS NULL)"
    " AND (CAST(? AS TEXT) IS NOT NULL OR CAST(? AS REAL) IS NOT NULL OR CAST(? AS REAL) IS NOT NULL)"
)
#: The analysis tab's tables, each keeping its frame's schema: one row per ticker, fetch and period (or quarter).
ANALYSIS_TABLES: dict[str, Schema] = {
    "estimates": ESTIMATES,
    "eps_trend": EPS_TREND,
    "eps_revisions": EPS_REVISIONS,
    "surprises": SURPRISES,
}
# Table and column names come from the schemas above (constants), never from data.
INSERT_ANALYSIS = {
    table: f"INSERT INTO {table} ({', '.join(schema.names)}) VALUES ({', '.join('?' * len(schema.names))})"  # noqa: S608
    f" ON CONFLICT ({', '.join(schema.key)}) DO NOTHING"
    for table, schema in ANALYSIS_TABLES.items()
}
# A fetch's periods in the order Yahoo sent them (0q, +1q, 0y, +1y: the order they were inserted, the
# dialect's {inserted}); quarters by day.
SELECT_ANALYSIS = {
    table: f"SELECT {', '.join(schema.names)} FROM {table}{{where}}"  # noqa: S608
    f" ORDER BY ticker, observed_at, {'quarter' if table == 'surprises' else '{inserted}'}"
    for table, schema in ANALYSIS_TABLES.items()
}
INSERT_PRICES = (
    "INSERT INTO prices (ticker, date, close, currency, source_id, fetched_at) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (ticker, date) DO NOTHING"
)
# Newest fetch wins; rows this very batch inserted carry the same fetched_at and are left alone.
REPLACE_PRICES = (
    "UPDATE prices SET close = ?, currency = ?, source_id = ?, fetched_at = ?"
    " WHERE ticker = ? AND date = ? AND fetched_at < ?"
)
INSERT_NAMES = (
    "INSERT INTO names (ticker, name, currency, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (ticker) DO NOTHING"
)
REPLACE_NAMES = (
    "UPDATE names SET name = coalesce(?, name), currency = coalesce(?, currency), updated_at = ?"
    " WHERE ticker = ? AND updated_at < ?"
)
INSERT_LOG = (
    "INSERT INTO fetch_log (started_at, finished_at, tickers, ok, no_coverage, failed, reasons)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Dialect:
    """What the two databases spell differently; everything else in this module is the same text for both."""

    name: str
    #: A filter on a list of tickers held by ONE parameter: no limit on the number of variables.
    ticker_filter: str
    #: How the list goes into that parameter.
    ticker_list: Callable[[list[str]], Any]
    #: The column that orders rows as they were inserted.
    inserted: str
    #: The ``LIMIT`` parameter that means no limit.
    no_limit: int | None

    def where_tickers(self, tickers: Iterable[str] | None) -> tuple[str, tuple[Any, ...]]:
        """`` WHERE`` clause and parameters for `tickers` (all tickers for None)."""
        if tickers is None:
            return "", ()
        return f" WHERE {self.ticker_filter}", (self.ticker_list([str(t) for t in tickers]),)


SQLITE = Dialect("sqlite", "ticker IN (SELECT value FROM json_each(?))", json.dumps, "rowid", -1)
# psycopg sends a list as an array; PostgreSQL's analysis tables keep an identity column `seq` (v3).
POSTGRES = Dialect("postgresql", "ticker = ANY(?)", list, "seq", None)


SELECT_SNAPSHOTS = (
    f"SELECT {', '.join(SNAPSHOT_COLUMNS)} FROM snapshots{{where}} ORDER BY ticker, source_id, observed_at"  # noqa: S608
)
# The latest fetch of each ticker and source.
SELECT_LATEST = (
    f"SELECT {', '.join(CONSENSUS.names)} FROM ("  # noqa: S608
    "SELECT *, row_number() OVER (PARTITION BY ticker, source_id ORDER BY observed_at DESC) AS newest"
    " FROM snapshots{where}) AS ranked WHERE newest = 1 ORDER BY ticker, source_id"
)
SELECT_TREND = f"SELECT {', '.join(TREND_COLUMNS)} FROM trend{{where}} ORDER BY ticker, observed_at, month, period"  # noqa: S608
SELECT_UPGRADES = (
    f"SELECT {', '.join(UPGRADE_COLUMNS)}, first_seen_at FROM upgrades{{where}}"  # noqa: S608
    " ORDER BY ticker, graded_at, firm, action"
)
SELECT_PRICES = f"SELECT {', '.join(PRICE_COLUMNS)} FROM prices{{where}} ORDER BY ticker, date"  # noqa: S608
SELECT_NAMES = "SELECT ticker, name, currency, updated_at FROM names ORDER BY ticker"
SELECT_TICKERS = (
    "SELECT ticker FROM snapshots UNION SELECT ticker FROM trend UNION SELECT ticker FROM upgrades"
    " UNION SELECT ticker FROM prices UNION SELECT ticker FROM names UNION SELECT ticker FROM estimates"
    " UNION SELECT ticker FROM surprises ORDER BY ticker"
)
SELECT_LOG = (
    "SELECT id, started_at, finished_at, tickers, ok, no_coverage, failed, reasons FROM fetch_log"
    " WHERE finished_at >= ? ORDER BY finished_at DESC, id DESC LIMIT ?"
)
SELECT_LAST_OBSERVED = "SELECT max(observed_at) FROM snapshots"
SELECT_LAST_OBSERVED_OF = "SELECT max(observed_at) FROM snapshots WHERE source_id = ?"
# The tickers with a snapshot observed at or after a time (by the index of snapshots by time).
SELECT_OBSERVED_SINCE = "SELECT DISTINCT ticker FROM snapshots WHERE observed_at >= ? ORDER BY ticker"
# A stamp that changes with every fetch stored: the newest log entry and the newest snapshot.
SELECT_VERSION = "SELECT (SELECT max(id) FROM fetch_log), (SELECT max(observed_at) FROM snapshots)"
