"""The store: history, deduplication, atomic writes, two processes, damaged files, migrations.

The interface's tests run on both backends (the ``store`` and ``target`` fixtures are parametrized over
SQLite and a real PostgreSQL server this module starts, ``tests/postgres.py``); the checks of a SQLite
file's bytes stay SQLite's. PostgreSQL's own refusals and migrations: ``test_store_postgres.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from postgres import look, tables

from ratings.dataset import DataError
from ratings.formatting import dataset_label, dataset_warnings
from ratings.schema import (
    CONSENSUS,
    CONSENSUS_HISTORY,
    COUNT_COLUMNS,
    NAMES,
    PRICES,
    SNAPSHOTS,
    TARGET_COLUMNS,
    TREND,
    UPGRADES,
    SchemaError,
    conform,
    utc_text,
    validate,
)
from ratings.sources import read_store
from ratings.store import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    FetchLogEntry,
    Store,
    StoreError,
    display,
    migrations,
    sqlite,
)

DAY1 = "2026-07-01T14:00:00Z"
DAY2 = "2026-07-02T09:30:00Z"
DAY2_LATER = "2026-07-02T18:45:00Z"
PERIODS = ("0m", "-1m", "-2m", "-3m")
INJECTION = "x'); DROP TABLE snapshots;--"

# --- fixtures built in code -------------------------------------------------------------------


def snapshot_rows(tickers: list[str], observed_at: str, *, base: float = 100.0, **columns: Any) -> pd.DataFrame:
    """One yfinance-like snapshot per ticker; targets and counts derived from `base` and the ticker's index."""
    n = len(tickers)
    frame = pd.DataFrame(
        {
            "ticker": tickers,
            "source": "Yahoo Finance",
            "as_of": utc_text(observed_at)[:10],
            "currency": "USD",
            "price": [base + i for i in range(n)],
            "price_as_of": utc_text(observed_at)[:10],
            "target_mean": [base * 1.1 + i for i in range(n)],
            "target_median": [base * 1.05 + i for i in range(n)],
            "target_low": [base * 0.8 + i for i in range(n)],
            "target_high": [base * 1.5 + i for i in range(n)],
            "n_analysts": [10 + i for i in range(n)],
            "strong_buy": [1 + i for i in range(n)],
            "buy": [2 + i for i in range(n)],
            "hold": [3] * n,
            "sell": [1] * n,
            "strong_sell": [0] * n,
            "rating_mean": [2.4] * n,
            "source_label": "Buy",
            "source_id": "yfinance",
            "observed_at": observed_at,
        }
    )
    for name, value in columns.items():
        frame[name] = value
    return frame


def trend_rows(tickers: list[str], observed_at: str, *, buy: int = 5) -> pd.DataFrame:
    month = pd.Timestamp(observed_at).tz_localize(None).to_period("M")
    return pd.DataFrame(
        [
            {
                "ticker": t,
                "period": period,
                "month": str(month - k),
                "strong_buy": 2,
                "buy": buy + k,
                "hold": 4,
                "sell": 1,
                "strong_sell": 0,
                "observed_at": observed_at,
            }
            for t in tickers
            for k, period in enumerate(PERIODS)
        ]
    )


def upgrade_rows(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """(ticker, graded_at, firm, action) rows with grades and price targets."""
    return pd.DataFrame(
        [
            {
                "ticker": ticker,
                "graded_at": graded_at,
                "firm": firm,
                "action": action,
                "from_grade": "Hold",
                "to_grade": "Buy",
                "price_target_action": "Raises",
                "prior_price_target": 12.0,
                "current_price_target": 15.0,
                "source": "Yahoo Finance",
            }
            for ticker, graded_at, firm, action in rows
        ]
    )


def price_rows(ticker: str, days: list[str], closes: list[float], currency: str = "USD") -> pd.DataFrame:
    return pd.DataFrame(
        {"ticker": ticker, "date": pd.to_datetime(days), "close": closes, "currency": currency, "source_id": "yfinance"}
    )


def name_rows(**names: str | None) -> pd.DataFrame:
    return pd.DataFrame({"ticker": list(names), "name": list(names.values()), "currency": "USD"})


def batch(tickers: list[str], observed_at: str, *, base: float = 100.0) -> dict[str, Any]:
    day = utc_text(observed_at)[:10]
    return {
        "snapshots": snapshot_rows(tickers, observed_at, base=base),
        "trend": trend_rows(tickers, observed_at),
        "upgrades": upgrade_rows(*[(t, "2026-06-30T12:00:00Z", "Firm A", "up") for t in tickers]),
        "prices": pd.concat([price_rows(t, [day], [base + i]) for i, t in enumerate(tickers)]),
        "names": pd.DataFrame({"ticker": tickers, "name": [f"{t} Inc." for t in tickers], "currency": "USD"}),
    }


def read_all(store: Store) -> dict[str, pd.DataFrame]:
    with store.consistent_read():
        return {
            "snapshots": store.snapshots(),
            "trend": store.trend(),
            "upgrades": store.upgrades(),
            "prices": store.prices(),
            "names": store.names(),
            "fetch_log": pd.DataFrame([vars(e) for e in store.fetch_log(limit=None)]),
        }


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection that cannot create the file, for looking behind the Store."""
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ratings.sqlite"


@pytest.fixture
def store(target: str | Path) -> Iterator[Store]:
    """A new store, once per backend."""
    with Store.open(target) as opened:
        yield opened


# --- a new store ------------------------------------------------------------------------------


def test_new_store_is_created_with_its_folders_and_marked_as_ours(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "store.sqlite"
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    with raw(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"snapshots", "trend", "upgrades", "prices", "names", "fetch_log"} <= tables


def test_default_path_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "from-env" / "s.sqlite"
    monkeypatch.setenv("RATINGS_STORE", str(target))
    with Store() as store:
        assert store.path == target
    assert target.is_file()


def test_a_missing_store_is_not_created_without_create(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "s.sqlite"
    with pytest.raises(StoreError, match="no store at"):
        Store.open(target, create=False)
    assert not target.parent.exists()


@pytest.mark.parametrize("reader", ["snapshots", "latest", "history", "trend", "upgrades", "prices", "names"])
def test_an_empty_store_reads_as_empty_frames_of_the_schema(store: Store, reader: str) -> None:
    schema = {
        "snapshots": SNAPSHOTS,
        "latest": CONSENSUS,
        "history": CONSENSUS_HISTORY,
        "trend": TREND,
        "upgrades": UPGRADES,
        "prices": PRICES,
        "names": NAMES,
    }[reader]
    frame = getattr(store, reader)()
    assert frame.empty
    assert list(frame.columns[: len(schema.names)]) == schema.names
    validate(frame, schema)
    assert store.tickers() == [] and store.fetch_log() == [] and store.last_observed_at() is None


# --- history ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tickers", [["F"], ["F", "TSLA", "NVDA"]])
@pytest.mark.parametrize("newest_first", [False, True], ids=["in-order", "newest-written-first"])
def test_two_days_make_two_snapshots_history_per_day_and_latest_the_newest(
    store: Store, tickers: list[str], newest_first: bool
) -> None:
    fetches = [(DAY1, 100.0), (DAY2, 200.0), (DAY2_LATER, 300.0)]
    for observed_at, base in reversed(fetches) if newest_first else fetches:
        store.write_batch(snapshots=snapshot_rows(tickers, observed_at, base=base))

    snapshots = store.snapshots()
    assert len(snapshots) == len(fetches) * len(tickers)
    validate(snapshots, SNAPSHOTS)

    history = store.history()
    validate(history, CONSENSUS_HISTORY)
    assert len(history) == 2 * len(tickers)  # two days
    for ticker in tickers:
        rows = history[history["ticker"] == ticker]
        assert list(rows["observed_at"]) == [utc_text(DAY1), utc_text(DAY2_LATER)]  # the last of each day

    latest = store.latest().set_index("ticker")
    validate(latest.reset_index(), CONSENSUS)
    expected = snapshot_rows(tickers, DAY2_LATER, base=300.0).set_index("ticker")
    assert latest["target_mean"].to_dict() == expected["target_mean"].to_dict()
    assert store.last_observed_at() == utc_text(DAY2_LATER)


def test_history_keeps_one_row_per_as_of_when_the_source_date_does_not_move(store: Store) -> None:
    store.write_batch(snapshots=snapshot_rows(["F"], DAY1, as_of="2026"))
    store.write_batch(snapshots=snapshot_rows(["F"], DAY2, as_of="2026", base=150.0))
    history = store.history()
    validate(history, CONSENSUS_HISTORY)
    assert list(history["observed_at"]) == [utc_text(DAY2)]
    assert len(store.snapshots()) == 2  # nothing is lost: the snapshots keep both


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2026-07-01T14:00:00Z", "2026-07-01T14:00:00+00:00"),
        ("2026-07-01T14:00:00Z", "2026-07-01T16:00:00+02:00"),
        ("2026-07-01T14:00:00Z", "2026-07-01 14:00:00"),  # naive means UTC
        ("2026-07-01T14:00:00Z", "2026-07-01T14:00:00.4Z"),  # stored to the second
    ],
)
def test_the_same_instant_in_another_spelling_is_the_same_snapshot(store: Store, first: str, second: str) -> None:
    store.write_batch(snapshots=snapshot_rows(["F"], first))
    summary = store.write_batch(snapshots=snapshot_rows(["F"], second))
    assert (summary.snapshots.inserted, summary.snapshots.already_present) == (0, 1)
    assert list(store.snapshots()["observed_at"]) == [utc_text(first)]


def test_stored_times_sort_as_text_in_time_order(store: Store) -> None:
    instants = ["2026-07-01T09:00:05Z", "2026-07-01T09:00:00Z", "2026-07-01T10:59:59+01:00", "2026-06-30T23:00:00Z"]
    for instant in instants:
        store.write_batch(snapshots=snapshot_rows(["F"], instant))
    stored = list(store.snapshots()["observed_at"])
    assert stored == sorted(stored)
    assert [pd.Timestamp(s) for s in stored] == sorted(pd.Timestamp(i) for i in instants)


# --- idempotence and deduplication ----------------------------------------------------------------


@pytest.mark.parametrize("tickers", [["F"], ["F", "TSLA", "1810.HK"]])
def test_writing_the_same_batch_twice_is_idempotent(store: Store, tickers: list[str]) -> None:
    frames = batch(tickers, DAY1)
    first = store.write_batch(**frames)
    after_first = read_all(store)
    second = store.write_batch(**frames)
    for table, frame in frames.items():
        assert getattr(first, table).inserted == len(frame), table
        assert getattr(first, table).already_present == 0, table
        assert getattr(second, table).inserted == 0, table
        assert getattr(second, table).already_present == len(frame), table
    after_second = read_all(store)
    for table, frame in after_first.items():
        assert_frame_equal(after_second[table], frame, obj=table)


def test_upgrades_are_stored_once_and_keep_when_they_were_first_seen(store: Store) -> None:
    action_a = ("F", "2026-06-20T12:00:00Z", "Firm A", "up")
    action_b = ("F", "2026-06-25T08:00:00Z", INJECTION, "down")
    action_c = ("F", "2026-07-01T21:00:00Z", "Firm C", "init")
    store.write_batch(upgrades=upgrade_rows(action_a, action_b), fetched_at=DAY1)
    # The next fetch returns b again (its time spelled differently) and the new c.
    b_again = (action_b[0], "2026-06-25 10:00:00+02:00", action_b[2], action_b[3])
    summary = store.write_batch(upgrades=upgrade_rows(b_again, action_c), fetched_at=DAY2)
    assert (summary.upgrades.inserted, summary.upgrades.already_present) == (1, 1)

    stored = store.upgrades()
    validate(stored, UPGRADES)
    assert list(zip(stored["firm"], stored["action"], strict=True)) == [
        (action_a[2], action_a[3]),
        (action_b[2], action_b[3]),
        (action_c[2], action_c[3]),
    ]
    assert list(stored["first_seen_at"]) == [utc_text(DAY1), utc_text(DAY1), utc_text(DAY2)]
    assert list(stored["graded_at"]) == [utc_text(a[1]) for a in (action_a, action_b, action_c)]


def test_an_action_stored_without_targets_gets_them_from_a_later_fetch_and_keeps_what_it_had(store: Store) -> None:
    action = ("F", "2026-06-20T12:00:00Z", "Firm A", "main")
    other = ("F", "2026-06-21T12:00:00Z", "Firm B", "main")
    before = upgrade_rows(action, other)
    before.loc[0, ["price_target_action", "prior_price_target", "current_price_target"]] = [None, None, None]
    store.write_batch(upgrades=before, fetched_at=DAY1)
    later = upgrade_rows(action, other)  # Yahoo now sends the first one's targets...
    later.loc[1, ["prior_price_target", "current_price_target"]] = [99.0, 98.0]  # ...and other numbers for the second
    summary = store.write_batch(upgrades=later, fetched_at=DAY2)
    assert (summary.upgrades.inserted, summary.upgrades.already_present, summary.upgrades.replaced) == (0, 2, 1)
    stored = store.upgrades().set_index("firm")
    assert stored.loc["Firm A", ["price_target_action", "prior_price_target", "current_price_target"]].tolist() == [
        "Raises",
        12.0,
        15.0,
    ]  # filled in
    assert stored.loc["Firm B", ["prior_price_target", "current_price_target"]].tolist() == [12.0, 15.0]  # kept
    assert stored.loc["Firm A", "first_seen_at"] == utc_text(DAY1)


@pytest.mark.parametrize("newest_first", [False, True], ids=["in-order", "older-fetch-written-last"])
def test_prices_the_newest_fetch_wins(store: Store, newest_first: bool) -> None:
    old = (price_rows("F", ["2026-07-01", "2026-07-02"], [13.0, 13.2]), DAY1)
    new = (price_rows("F", ["2026-07-02", "2026-07-03"], [13.4, 13.5]), DAY2)
    writes = [new, old] if newest_first else [old, new]
    summaries = [store.write_batch(prices=frame, fetched_at=when) for frame, when in writes]
    prices = store.prices()
    validate(prices, PRICES)
    closes = dict(zip(prices["date"].dt.strftime("%Y-%m-%d"), prices["close"], strict=True))
    assert closes == {"2026-07-01": 13.0, "2026-07-02": 13.4, "2026-07-03": 13.5}
    assert summaries[1].prices.inserted == 1 and summaries[1].prices.already_present == 1
    assert summaries[1].prices.replaced == (0 if newest_first else 1)


def test_a_fetch_without_a_name_does_not_erase_the_known_one(store: Store) -> None:
    store.write_batch(names=name_rows(F="Ford Motor Company"), fetched_at=DAY1)
    store.write_batch(names=name_rows(F=None), fetched_at=DAY2)
    store.write_batch(names=name_rows(TSLA="Tesla, Inc."), fetched_at=DAY2)
    names = store.names().set_index("ticker")
    assert names.loc["F", "name"] == "Ford Motor Company"
    assert names.loc["F", "updated_at"] == utc_text(DAY2)
    assert names.loc["TSLA", "name"] == "Tesla, Inc."


def test_tickers_lists_every_ticker_the_store_knows(store: Store) -> None:
    store.write_batch(
        snapshots=snapshot_rows(["F"], DAY1),
        trend=trend_rows(["TSLA"], DAY1),
        upgrades=upgrade_rows(("NVDA", DAY1, "Firm", "up")),
        prices=price_rows("1810.HK", ["2026-07-01"], [50.0], "HKD"),
        names=name_rows(LOT="Lotus Technology"),
    )
    assert store.tickers() == sorted(["F", "TSLA", "NVDA", "1810.HK", "LOT"])


# --- the fetch log ------------------------------------------------------------------------------


def test_the_fetch_log_keeps_each_fetch_newest_first(store: Store) -> None:
    entries = [
        FetchLogEntry(DAY1, DAY1, ("F", "SPY"), ok=1, no_coverage=1, failed=0, reasons={"SPY": "no analyst data"}),
        FetchLogEntry(DAY2, DAY2, ("F", "TSLA"), ok=0, no_coverage=0, failed=2, reasons={"F": "rate limited"}),
    ]
    store.write_batch(snapshots=snapshot_rows(["F"], DAY1), log_entry=entries[0])
    log_id = store.log_fetch(entries[1])  # a fetch that stored nothing is still logged
    log = store.fetch_log()
    assert [e.id for e in log] == [log_id, log_id - 1]
    for stored, given in zip(log, reversed(entries), strict=True):
        assert stored.tickers == given.tickers and stored.reasons == given.reasons
        assert (stored.ok, stored.no_coverage, stored.failed) == (given.ok, given.no_coverage, given.failed)
        assert stored.finished_at == utc_text(given.finished_at)
    assert store.fetch_log(limit=1) == log[:1]


@pytest.mark.parametrize(
    "entry",
    [
        FetchLogEntry(DAY1, DAY1, ("F",), ok=-1, no_coverage=0, failed=0),
        FetchLogEntry("yesterday", DAY1, ("F",), ok=1, no_coverage=0, failed=0),
    ],
)
def test_a_malformed_log_entry_is_refused_before_writing(store: Store, entry: FetchLogEntry) -> None:
    with pytest.raises(SchemaError):
        store.write_batch(snapshots=snapshot_rows(["F"], DAY1), log_entry=entry)
    assert store.snapshots().empty and store.fetch_log() == []


# --- atomicity ------------------------------------------------------------------------------------


class FailingConnection:
    """Forwards to a store's backend but fails the insert into one table, mid-transaction."""

    def __init__(self, conn: Any, table: str, error: Exception) -> None:
        self._conn, self._table, self._error = conn, table, error

    def _check(self, sql: str) -> None:
        if sql.startswith(f"INSERT INTO {self._table} "):
            raise self._error

    def execute(self, sql: str, *args: Any) -> int:
        self._check(sql)
        return int(self._conn.execute(sql, *args))

    def executemany(self, sql: str, *args: Any) -> int:
        self._check(sql)
        return int(self._conn.executemany(sql, *args))

    def insert_id(self, sql: str, *args: Any) -> int:
        self._check(sql)
        return int(self._conn.insert_id(sql, *args))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def driver_error(backend: str, kind: str) -> Exception:
    """The error each database's driver raises for a broken constraint or a failed disk."""
    if kind == "runtime":
        return RuntimeError("the process is being stopped")
    if backend == "sqlite":
        failures = {"check": sqlite3.IntegrityError("CHECK constraint failed"), "io": sqlite3.OperationalError("disk")}
        return failures[kind]
    import psycopg

    return {"check": psycopg.errors.CheckViolation("check"), "io": psycopg.OperationalError("disk")}[kind]


@pytest.mark.parametrize("table", ["trend", "upgrades", "prices", "names", "fetch_log"])
@pytest.mark.parametrize(("kind", "raised"), [("check", StoreError), ("io", StoreError), ("runtime", RuntimeError)])
def test_a_failure_mid_batch_writes_nothing_of_it(store: Store, table: str, kind: str, raised: type[Exception]) -> None:
    store.write_batch(**batch(["F"], DAY1), log_entry=FetchLogEntry(DAY1, DAY1, ("F",), 1, 0, 0))
    before = read_all(store)
    real = store._conn
    store._conn = FailingConnection(real, table, driver_error(store.backend, kind))  # type: ignore[assignment]
    try:
        with pytest.raises(raised):
            store.write_batch(
                **batch(["F", "TSLA"], DAY2, base=500.0), log_entry=FetchLogEntry(DAY2, DAY2, ("F", "TSLA"), 2, 0, 0)
            )
        assert not real.in_transaction
    finally:
        store._conn = real
    after = read_all(store)
    for name, frame in before.items():
        assert_frame_equal(after[name], frame, obj=name)
    # The store still works, and the same batch goes in whole once nothing fails.
    assert store.write_batch(**batch(["F", "TSLA"], DAY2, base=500.0)).snapshots.inserted == 2


def good_snapshot() -> pd.DataFrame:
    return snapshot_rows(["F"], DAY2)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ({"trend": trend_rows(["F"], DAY2).assign(buy=-1)}, "negative count"),
        ({"prices": price_rows("F", ["2026-07-02"], [math.inf])}, "inf"),
        ({"upgrades": upgrade_rows(("F", DAY2, "Firm", "up")).assign(firm=None)}, "'firm' is empty"),
        ({"upgrades": upgrade_rows(("F", DAY2, "Firm", "up")).assign(ticker="  ")}, "'ticker' is empty"),
        ({"trend": pd.concat([trend_rows(["F"], DAY2)] * 2)}, "duplicate key"),
        ({"trend": trend_rows(["F"], DAY2).assign(observed_at="last tuesday")}, "not an ISO timestamp"),
        ({"names": name_rows(F="Ford").assign(ticker=None)}, "'ticker' is empty"),
    ],
)
def test_a_frame_with_a_bad_value_writes_nothing(store: Store, frames: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        store.write_batch(snapshots=good_snapshot(), **frames)
    state = read_all(store)
    assert all(frame.empty for frame in state.values())


def test_writing_inside_a_consistent_read_is_refused(store: Store) -> None:
    with store.consistent_read(), pytest.raises(StoreError, match="consistent_read"):
        store.write_batch(snapshots=good_snapshot())
    assert store.snapshots().empty


# --- unknowns, odd text, many tickers -------------------------------------------------------------

FLOAT_SNAPSHOT_COLUMNS = ["price", *TARGET_COLUMNS, "rating_mean"]
COUNT_SNAPSHOT_COLUMNS = ["n_analysts", *COUNT_COLUMNS]


@pytest.mark.parametrize("column", FLOAT_SNAPSHOT_COLUMNS + COUNT_SNAPSHOT_COLUMNS)
def test_unknowns_are_stored_as_null_and_read_back_unknown_never_zero(
    store: Store,
    target: str | Path,
    column: str,
) -> None:
    frame = snapshot_rows(["UNKNOWN", "ZERO", "VALUE"], DAY1)
    frame[column] = frame[column].astype("float64")
    frame.loc[0, column] = math.nan
    frame.loc[1, column] = 0
    store.write_batch(snapshots=frame)
    nulls = dict(look(target, f"SELECT ticker, {column} IS NULL FROM snapshots"))  # noqa: S608 - test's own names
    assert {ticker: bool(null) for ticker, null in nulls.items()} == {"UNKNOWN": True, "ZERO": False, "VALUE": False}
    for stored in (store.snapshots(), store.latest(), store.history()):
        values = stored.set_index("ticker")[column]
        assert pd.isna(values["UNKNOWN"])
        assert values["ZERO"] == 0
        assert values["VALUE"] == frame.set_index("ticker").loc["VALUE", column]
        assert str(values.dtype) == ("Int64" if column in COUNT_SNAPSHOT_COLUMNS else "float64")


@pytest.mark.parametrize(
    ("frames", "reader", "column"),
    [
        ({"trend": trend_rows(["F"], DAY1).assign(strong_sell=None)}, "trend", "strong_sell"),
        ({"upgrades": upgrade_rows(("F", DAY1, "Firm", "up")).assign(prior_price_target=math.nan)}, "upgrades",
         "prior_price_target"),
        ({"upgrades": upgrade_rows(("F", DAY1, "Firm", "up")).assign(from_grade=None)}, "upgrades", "from_grade"),
        ({"prices": price_rows("F", ["2026-07-01"], [math.nan])}, "prices", "close"),
        ({"names": name_rows(F=None)}, "names", "name"),
        ({"snapshots": snapshot_rows(["F"], DAY1, currency=None)}, "snapshots", "currency"),
    ],
)  # fmt: skip
def test_unknowns_round_trip_in_every_table(store: Store, frames: dict[str, Any], reader: str, column: str) -> None:
    store.write_batch(**frames)
    stored = getattr(store, reader)()
    assert len(stored) == len(frames[reader]) and stored[column].isna().all()


@pytest.mark.parametrize(
    "text",
    [INJECTION, "O'Brien & Co", 'say "hi"', "Robert'); DELETE FROM names; --", "%s ? :name", "Société Générale", ""],
)
def test_text_goes_in_as_data_never_as_sql(store: Store, target: str | Path, text: str) -> None:
    ticker = text or "EMPTYNOTE"  # a key cannot be empty; everything else can be
    store.write_batch(
        snapshots=snapshot_rows([ticker], DAY1, note=text, source_label=text),
        upgrades=upgrade_rows((ticker, DAY1, text or "Firm", "up")).assign(to_grade=text),
        names=name_rows(**{ticker: text}),
    )
    snapshot = store.snapshots([ticker])
    assert list(snapshot["ticker"]) == [ticker]
    assert snapshot.loc[0, "note"] == text and snapshot.loc[0, "source_label"] == text
    upgrade = store.upgrades([ticker])
    assert upgrade.loc[0, "to_grade"] == text and upgrade.loc[0, "firm"] == (text or "Firm")
    assert store.names().set_index("ticker").loc[ticker, "name"] == text
    assert look(target, "SELECT count(*) FROM names") == [(1,)]
    assert {"snapshots", "names", "upgrades"} <= tables(target)


@pytest.mark.parametrize(("stored", "asked", "extra"), [(600, 600, 0), (600, 550, 0), (600, 600, 40_000)])
def test_filtering_by_many_tickers(store: Store, stored: int, asked: int, extra: int) -> None:
    tickers = [f"T{i:04d}" for i in range(stored)]
    store.write_batch(
        snapshots=snapshot_rows(tickers, DAY1),
        trend=trend_rows(tickers, DAY1),
        prices=pd.concat([price_rows(t, ["2026-07-01"], [10.0]) for t in tickers]),
    )
    wanted = tickers[:asked] + [f"NOPE{i}" for i in range(extra)]  # far more than SQLite's variable limit
    for reader, per_ticker in (("snapshots", 1), ("latest", 1), ("history", 1), ("trend", 4), ("prices", 1)):
        frame = getattr(store, reader)(wanted)
        assert len(frame) == asked * per_ticker, reader
        assert set(frame["ticker"]) == set(tickers[:asked]), reader
    assert store.snapshots([]).empty


# --- consistency under concurrency -----------------------------------------------------------------


def test_a_consistent_read_does_not_see_a_write_that_lands_during_it(target: str | Path) -> None:
    with Store(target) as writer, Store(target) as reader:
        writer.write_batch(snapshots=snapshot_rows(["F"], DAY1))
        with reader.consistent_read():
            before = reader.snapshots()
            writer.write_batch(snapshots=snapshot_rows(["F"], DAY2))  # WAL, MVCC: the writer is not blocked
            assert_frame_equal(reader.snapshots(), before)
        assert len(reader.snapshots()) == len(before) + 1


def test_a_write_lock_held_too_long_is_a_clear_error_not_a_hang(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_S", 0.2)
    with Store(path) as store:
        holder = raw(path)
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
        try:
            with pytest.raises(StoreError, match="locked by another process"):
                store.write_batch(snapshots=good_snapshot())
            assert store.snapshots().empty  # readers are not blocked by a writer (WAL)
        finally:
            holder.rollback()
            holder.close()
        assert store.write_batch(snapshots=good_snapshot()).snapshots.inserted == 1


def test_one_store_shared_by_threads(store: Store) -> None:
    errors: list[BaseException] = []
    tickers = ["F", "TSLA"]

    def write() -> None:
        for i in range(40):
            observed = utc_text(pd.Timestamp(DAY1) + pd.Timedelta(minutes=i))
            store.write_batch(snapshots=snapshot_rows(tickers, observed), trend=trend_rows(tickers, observed))

    def read() -> None:
        for _ in range(40):
            with store.consistent_read():
                snaps, trend = store.snapshots(), store.trend()
            assert set(zip(snaps["ticker"], snaps["observed_at"], strict=True)) == set(
                zip(trend["ticker"], trend["observed_at"], strict=True)
            )

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # collected and re-raised in the test's thread
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(f)) for f in (write, read, read, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(store.snapshots()) == 40 * len(tickers)


WRITER = """
import sys, time
import pandas as pd
from ratings.store import Store
path, batches = sys.argv[1], int(sys.argv[2])
tickers = ["AAA", "BBB", "CCC"]
periods = ["0m", "-1m", "-2m", "-3m"]
with Store(path) as store:
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(batches):
        observed = (pd.Timestamp("2026-07-01T00:00:00Z") + pd.Timedelta(minutes=i)).isoformat()
        snaps = pd.DataFrame({"ticker": tickers, "source": "Yahoo Finance", "source_id": "yfinance",
                              "as_of": observed[:10], "observed_at": observed, "target_mean": float(i)})
        trend = pd.DataFrame([{"ticker": t, "period": p, "observed_at": observed, "buy": i}
                              for t in tickers for p in periods])
        store.write_batch(snaps, trend)
        time.sleep(0.002)
"""

READER = """
import json, sys
from pathlib import Path
from ratings.store import Store
path, done = sys.argv[1], Path(sys.argv[2])
sizes = []
with Store(path, create=False) as store:
    print("ready", flush=True)
    while True:
        finished = done.exists()
        with store.consistent_read():
            snaps, trend, latest = store.snapshots(), store.trend(), store.latest()
        fetches = set(zip(snaps["ticker"], snaps["observed_at"]))
        per_fetch = trend.groupby(["ticker", "observed_at"]).size()
        assert set(per_fetch.index) == fetches, "a snapshot without its trend, or the reverse"
        assert (per_fetch == 4).all(), "a partial trend"
        assert len(snaps) % 3 == 0, "a partial batch"
        if len(snaps):
            assert (latest["target_mean"] == snaps["target_mean"].max()).all(), "latest is not the newest"
        assert not sizes or len(snaps) >= sizes[-1], "rows disappeared"
        sizes.append(len(snaps))
        if finished:
            break
print(json.dumps({"reads": len(sizes), "sizes": sorted(set(sizes))}))
"""


def test_a_writer_process_and_a_reader_process_at_once(target: str | Path, tmp_path: Path) -> None:
    batches = 80
    Store(target).close()  # the reader opens an existing store only
    done = tmp_path / "writer-done"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target), str(done)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(batches)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and writer.stdout is not None and writer.stdin is not None
        assert reader.stdout.readline().strip() == "ready", reader.stderr.read() if reader.stderr else ""
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read() if writer.stderr else ""
        writer.stdin.write("go\n")
        writer.stdin.flush()
        _, writer_err = writer.communicate(timeout=120)
        assert writer.returncode == 0, writer_err
        done.touch()
        reader_out, reader_err = reader.communicate(timeout=120)
        assert reader.returncode == 0, reader_err
    finally:
        for process in (reader, writer):
            if process.poll() is None:
                process.kill()
    report = json.loads(reader_out.strip().splitlines()[-1])
    assert report["sizes"][-1] == batches * 3  # the last read saw every batch
    assert len(report["sizes"]) > 2, report  # and earlier reads saw the writer mid-way
    assert "locked" not in reader_err + writer_err


# --- damaged files and files that are not ours --------------------------------------------------


def real_store_bytes(tmp_path: Path) -> bytes:
    source = tmp_path / "source.sqlite"
    with Store(source) as store:
        tickers = [f"T{i:03d}" for i in range(200)]
        store.write_batch(**batch(tickers, DAY1))
    return source.read_bytes()  # closed: the WAL is checkpointed into the file


def make_random(tmp_path: Path, target: Path) -> None:
    target.write_bytes(random.Random(1).randbytes(8192))  # noqa: S311 - test data


def make_text(tmp_path: Path, target: Path) -> None:
    target.write_text("ticker,price\nF,13.40\n")


def make_users_db(tmp_path: Path, target: Path) -> None:
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        conn.execute("INSERT INTO users (email) VALUES (?)", ("someone@example.com",))
    conn.close()


def make_other_app_db(tmp_path: Path, target: Path) -> None:
    with sqlite3.connect(target) as conn:
        conn.execute("PRAGMA application_id = 1234")
        conn.execute("CREATE TABLE t (x)")
    conn.close()


def make_truncated(fraction: float) -> Callable[[Path, Path], None]:
    def make(tmp_path: Path, target: Path) -> None:
        data = real_store_bytes(tmp_path)
        target.write_bytes(data[: int(len(data) * fraction)])

    return make


def make_cut(cut: int) -> Callable[[Path, Path], None]:
    def make(tmp_path: Path, target: Path) -> None:
        data = real_store_bytes(tmp_path)
        target.write_bytes(data[:cut])  # a negative cut drops the end

    return make


def make_scribbled(page: int) -> Callable[[Path, Path], None]:
    """Random bytes over one 4096-byte page (page 1 keeps its 100-byte file header)."""

    def make(tmp_path: Path, target: Path) -> None:
        data = bytearray(real_store_bytes(tmp_path))
        start, end = (page - 1) * 4096 + (100 if page == 1 else 0), page * 4096
        data[start:end] = random.Random(page).randbytes(end - start)  # noqa: S311 - test data
        target.write_bytes(bytes(data))

    return make


def make_newer(tmp_path: Path, target: Path) -> None:
    target.write_bytes(real_store_bytes(tmp_path))
    with raw(target) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1:d}")
    conn.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (make_random, r"not a SQLite database: .*bad\.sqlite"),
        (make_text, r"not a SQLite database: .*bad\.sqlite"),
        (make_users_db, r"not an analyst-ratings store: .*bad\.sqlite"),
        (make_other_app_db, r"not an analyst-ratings store: .*bad\.sqlite"),
        (make_cut(50), r"bad\.sqlite is damaged"),
        (make_cut(100), r"bad\.sqlite is damaged"),
        (make_cut(4096), r"bad\.sqlite is damaged"),
        (make_truncated(0.5), r"bad\.sqlite is damaged"),
        (make_cut(-4096), r"bad\.sqlite is damaged"),
        (make_cut(-1), r"bad\.sqlite is damaged"),
        (make_scribbled(2), r"bad\.sqlite is damaged"),
        (make_scribbled(1), r"bad\.sqlite is damaged"),
        (make_newer, r"written by a newer version of analyst-ratings.*upgrade"),
    ],
    ids=[
        "random-bytes", "text-file", "someone-elses-db", "other-application-id", "cut-inside-header",
        "cut-after-header", "first-page-only", "half", "last-page-missing", "last-byte-missing",
        "garbage-over-a-table", "garbage-over-page-1", "newer-schema",
    ],
)  # fmt: skip
@pytest.mark.parametrize("create", [True, False])
def test_a_file_that_is_not_a_usable_store_is_refused_and_left_byte_for_byte(
    tmp_path: Path, make: Callable[[Path, Path], None], message: str, create: bool
) -> None:
    folder = tmp_path / "target"
    folder.mkdir()
    target = folder / "bad.sqlite"
    make(tmp_path, target)
    before, listing = digest(target), sorted(folder.iterdir())
    with pytest.raises(StoreError, match=message) as caught:
        Store.open(target, create=create)
    assert isinstance(caught.value, DataError)  # callers that handle data errors handle this too
    assert digest(target) == before
    assert sorted(folder.iterdir()) == listing  # no journal, no WAL, nothing new beside it
    with pytest.raises(StoreError):
        read_store(target)
    assert digest(target) == before


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a file"):
        Store(tmp_path)


@pytest.mark.parametrize("create", [True, False])
def test_an_empty_file_becomes_a_store_only_when_creating(tmp_path: Path, create: bool) -> None:
    target = tmp_path / "empty.sqlite"
    target.touch()
    if create:
        with Store(target) as store:
            assert store.schema_version == SCHEMA_VERSION
    else:
        with pytest.raises(StoreError, match="no store"):
            Store(target, create=False)
        assert target.stat().st_size == 0


# --- migrations ----------------------------------------------------------------------------------


def build_old_store(path: Path, version: int) -> pd.DataFrame:
    """A store as the code of schema `version` left it, with rows in the tables v1 has; returns its snapshots."""
    with sqlite3.connect(path) as conn:
        for script in MIGRATIONS[:version]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {version:d}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
        snaps = snapshot_rows(["F", "TSLA"], DAY1).assign(observed_at=utc_text(DAY1))
        snaps.loc[1, "price"] = math.nan  # an unknown must survive the migration as unknown
        snaps = conform(snaps, SNAPSHOTS)
        columns = SNAPSHOTS.names
        rows = [
            tuple(None if pd.isna(v) else (int(v) if isinstance(v, int) else v) for v in row)
            for row in snaps[columns].astype(object).itertuples(index=False)
        ]
        conn.executemany(
            f"INSERT INTO snapshots ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608
            rows,
        )
        conn.execute(
            "INSERT INTO upgrades (ticker, graded_at, firm, action, from_grade, to_grade, source, first_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ("F", utc_text("2026-06-30T12:00:00Z"), "Firm A", "up", "Hold", "Buy", "Yahoo Finance",
             utc_text(DAY1)),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO names (ticker, name, currency, updated_at) VALUES (?, ?, ?, ?)",
            ("F", "Ford Motor Company", "USD", utc_text(DAY1)),
        )
    conn.close()
    return snaps


# sha256 of each released migration script. Stores of every one of these versions exist on users'
# disks, so a released script never changes: a schema change is a new migration. (The tests below
# build old stores from these scripts, so without this pin an edited v1 would go unnoticed.)
RELEASED_MIGRATIONS = (
    "032bc2293a4cc345dd499617e396d9e6ed590f2125cd682b077e0e0f1d4e0578",
    "c1dfc698a616fc879a58e0332a95c5f85ad3864200bfbd1e324c49a6bd102967",
    "4cf26a16a4d1da50b194923a3f56a43e82757b76885ae71cd98b77ea48028dfe",
)


def test_released_migrations_never_change() -> None:
    assert len(MIGRATIONS) >= len(RELEASED_MIGRATIONS), "a released migration was removed"
    for version, (script, pinned) in enumerate(zip(MIGRATIONS, RELEASED_MIGRATIONS, strict=False), start=1):
        assert hashlib.sha256(script.encode()).hexdigest() == pinned, f"migration to v{version} was edited"


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_an_older_store_is_migrated_forward_without_losing_rows(path: Path, version: int) -> None:
    snaps = build_old_store(path, version)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert_frame_equal(store.snapshots(), snaps)
        upgrades = store.upgrades()
        assert list(upgrades["firm"]) == ["Firm A"] and upgrades["current_price_target"].isna().all()
        assert store.names().loc[0, "name"] == "Ford Motor Company"
        assert store.trend().empty and store.prices().empty and store.fetch_log() == []
        # New tables work, and an upgrade seen again keeps the first_seen_at of the old version.
        summary = store.write_batch(**batch(["F"], DAY2))
        assert summary.upgrades.already_present == 1 and summary.trend.inserted == len(PERIODS)
        assert list(store.upgrades()["first_seen_at"]) == [utc_text(DAY1)]
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"trend", "prices", "fetch_log"} <= tables


def test_a_failed_migration_leaves_the_old_store_as_it_was(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snaps = build_old_store(path, 1)
    broken = (*MIGRATIONS[:-1], MIGRATIONS[-1] + "CREATE TABLE trend (again TEXT);\n")  # fails after the rest ran
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    with pytest.raises(StoreError, match="already exists"):
        Store(path)
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == len(snaps)
    assert tables == {"snapshots", "upgrades", "names"}
    monkeypatch.undo()
    with Store(path) as store:  # the real migration still runs afterwards
        assert_frame_equal(store.snapshots(), snaps)


def test_several_processes_opening_an_old_store_at_once_migrate_it_once(path: Path) -> None:
    snaps = build_old_store(path, 1)
    with ThreadPoolExecutor(max_workers=4) as pool:  # one connection each: real SQLite locking
        stores = list(pool.map(lambda _: Store(path), range(4)))
    try:
        for store in stores:
            assert store.schema_version == SCHEMA_VERSION
            assert_frame_equal(store.snapshots(), snaps)
    finally:
        for store in stores:
            store.close()


# --- the dashboard's Dataset ----------------------------------------------------------------------


def test_load_store_builds_the_dashboard_dataset(target: str | Path) -> None:
    with Store(target) as store:
        store.write_batch(**batch(["F", "TSLA"], DAY1, base=10.0))
        store.write_batch(
            **batch(["F", "TSLA"], DAY2, base=20.0),
            log_entry=FetchLogEntry(DAY2, DAY2, ("F", "TSLA", "XYZ"), 2, 0, 1, {"XYZ": "HTTP 429 rate limited"}),
        )
    dataset = read_store(target)
    newest = snapshot_rows(["F", "TSLA"], DAY2, base=20.0).set_index("ticker")
    with Store(target, create=False) as store:
        assert_frame_equal(dataset.consensus, store.latest())
    assert len(dataset.history) == 4
    table = dataset.table(["F", "TSLA"]).set_index("ticker")
    expected_upside = newest["target_mean"] / newest["price"] - 1
    assert table["upside_mean"].to_dict() == pytest.approx(expected_upside.to_dict())
    assert table.loc["F", "name"] == "F Inc."
    assert set(dataset.universe["ticker"]) == {"F", "TSLA"}
    assert dataset.universe.set_index("ticker")["in_watchlist"].to_dict() == {"F": True, "TSLA": True}
    source = dataset.sources["yfinance"]
    assert source["as_of"] == utc_text(DAY2)[:10] and source["path"] == display(target)
    assert source["repository"] is None and source["commit"] is None and source["terms"]
    label = dataset_label(dataset)
    assert display(target) in label and "last snapshot 2026-07-02 09:30 UTC" in label
    assert any("HTTP 429 rate limited (XYZ)" in w for w in dataset_warnings(dataset))


def test_the_last_fetch_note_counts_failures_and_no_coverage_apart(target: str | Path) -> None:
    with Store(target) as store:
        reasons = {"A": "network error", "B": "network error", "SPY": "no analyst coverage (Yahoo: none)"}
        store.write_batch(log_entry=FetchLogEntry(DAY2, DAY2, ("A", "B", "SPY"), 0, 1, 2, reasons))
    (note,) = [w for w in dataset_warnings(read_store(target)) if w.startswith("The last fetch")]
    assert "failed for 2 of 3 tickers, and found no analyst coverage for 1: " in note
    assert "network error (A, B); no analyst coverage (Yahoo: none) (SPY)" in note


def test_load_store_knows_whose_latest_answer_was_no_coverage(target: str | Path) -> None:
    none = "no analyst coverage (Yahoo: No fundamentals data found)"
    with Store(target) as store:
        store.write_batch(
            log_entry=FetchLogEntry(DAY1, DAY1, ("AAPL", "SPY", "QQQ"), 1, 2, 0, {"SPY": none, "QQQ": none})
        )
        # Later: SPY answered after all; QQQ failed, which says nothing about its coverage.
        store.write_batch(log_entry=FetchLogEntry(DAY2, DAY2, ("SPY", "QQQ"), 1, 0, 1, {"QQQ": "network error"}))
    assert dict(read_store(target).no_coverage) == {"QQQ": utc_text(DAY1)}


def test_load_store_of_an_empty_store_says_so(store: Store, target: str | Path) -> None:
    dataset = read_store(target)
    assert dataset.consensus.empty and "no snapshot yet" in dataset_label(dataset)
    assert any("holds no consensus" in w for w in dataset_warnings(dataset))


def test_load_store_never_creates_a_store(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no store"):
        read_store(tmp_path / "absent.sqlite")
    assert list(tmp_path.iterdir()) == []
