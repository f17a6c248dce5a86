"""One refresh = a live fetch + one store transaction + a fetch log (ratings/refresh.py), offline.

Every request goes to ``tests/fake_yahoo.py`` (recorded Yahoo responses, yfinance's own parsing).
``yahoo.fetch`` is wrapped (the ``wall`` fixture) so nothing really sleeps and the wall clock is
injected: fetches "on 2021-02-01" and "on 2025-02-24" serve the 2021 and 2025 recordings of the same
ticker. Expected values are read from the payload files (``recordings.py``). What a refresh keeps is
tested on both backends (``store_path``: a SQLite file, or a database of the PostgreSQL server this module
starts); the result cache's tests need one store only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fake_yahoo import FakeYahoo
from helpers import VirtualClock
from postgres import BACKENDS, PostgresServer
from recordings import AAPL_2021, DAY_2025, TARGET_KEYS, TREND_KEYS, current_counts, module

from ratings.refresh import refresh
from ratings.schema import COUNT_COLUMNS
from ratings.store import FetchLogEntry, Store, StoreError
from ratings.yahoo import LiveConfig

CONFIG = LiveConfig(requests_per_second=None, max_attempts=3, backoff_base_s=0.5, backoff_cap_s=2.0)


def recorded_trend_rows(symbol: str, year: str = "2025") -> int:
    return sum(
        1 for r in module(symbol, "recommendationTrend", year)["trend"] if any(r[k] for k in TREND_KEYS.values())
    )


def recorded_upgrades(symbol: str, year: str = "2025") -> int:
    rows = module(symbol, "upgradeDowngradeHistory", year)["history"]
    return len(
        {(r["epochGradeDate"], r["firm"], r["action"]) for r in rows if r["firm"].strip() and r["action"].strip()}
    )


@pytest.fixture(params=BACKENDS)
def store_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A new store on each backend: a file in a folder yet to be made, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "store" / "ratings.sqlite"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.database()


@pytest.fixture
def file_store(tmp_path: Path) -> Path:
    return tmp_path / "store" / "ratings.sqlite"


def run(tickers: list[str], store_path: Path | str | str, *, force: bool = False) -> Any:
    return refresh(tickers, store_path=store_path, config=CONFIG, force=force)


# ---------------------------------------------------------------------------------------------
# What one refresh writes


def test_a_refresh_writes_snapshots_trend_upgrades_and_its_log_in_one_transaction(
    fake: FakeYahoo, wall: VirtualClock, store_path: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[dict[str, Any]] = []
    real_write = Store.write_batch

    def spy(self: Store, *args: Any, **kwargs: Any) -> Any:
        writes.append(kwargs)
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Store, "write_batch", spy)
    outcome = run(["AAPL", "GOOG"], store_path)
    assert len(writes) == 1 and writes[0]["log_entry"] is not None  # one write_batch = one transaction
    written = outcome.written
    assert written is not None and outcome.anything_fetched and outcome.failures == {}
    assert written.snapshots.inserted == 2
    assert written.trend.inserted == recorded_trend_rows("AAPL") + recorded_trend_rows("GOOG")
    assert written.upgrades.inserted == recorded_upgrades("AAPL") + recorded_upgrades("GOOG")

    with Store.open(store_path, create=False) as store:
        (entry,) = store.fetch_log()
        assert entry.id == written.log_id
        assert (entry.tickers, entry.ok, entry.no_coverage, entry.failed) == (("AAPL", "GOOG"), 2, 0, 0)
        snapshots = store.snapshots().set_index("ticker")
        for symbol in ("AAPL", "GOOG"):
            financial = module(symbol, "financialData")
            for column, key in TARGET_KEYS.items():
                assert snapshots.loc[symbol, column] == pytest.approx(financial[key])
            assert {c: snapshots.loc[symbol, c] for c in COUNT_COLUMNS} == current_counts(symbol)
            assert snapshots.loc[symbol, "observed_at"] == DAY_2025.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert len(store.trend()) == written.trend.inserted
        assert len(store.upgrades()) == written.upgrades.inserted


def test_a_failure_while_writing_leaves_the_store_as_it_was(
    fake: FakeYahoo, wall: VirtualClock, store_path: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(["GOOG"], store_path)
    with Store.open(store_path) as store:
        before = {name: getattr(store, name)() for name in ("snapshots", "trend", "upgrades", "prices")}
        log_before = store.fetch_log()

    def broken(self: Store, *args: Any) -> Any:  # the last table of the batch fails to write
        if self.backend == "sqlite":
            raise sqlite3.OperationalError("disk I/O error")
        import psycopg

        raise psycopg.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "_write_names", broken)
    wall.now = DAY_2025 + timedelta(days=1)
    with pytest.raises(StoreError, match="disk I/O error"):
        run(["AAPL", "GOOG"], store_path)
    with Store.open(store_path) as store:
        for name, frame in before.items():
            pd.testing.assert_frame_equal(getattr(store, name)(), frame)
        assert store.fetch_log() == log_before


def test_failures_are_logged_with_their_reasons(fake: FakeYahoo, wall: VirtualClock, store_path: Path | str) -> None:
    fake.no_fundamentals("SPY")
    fake.serve_as("RL", "AAPL")
    fake.fail("RL", "status", status=429)
    fake.serve_as("BAD", "AAPL")
    fake.fail("BAD", "malformed")
    outcome = run(["AAPL", "SPY", "RL", "BAD"], store_path)
    results = {r.ticker: r for r in outcome.batch.results}
    assert outcome.failures == {"RL": results["RL"].reason, "BAD": results["BAD"].reason}
    assert results["RL"].reason.startswith("rate limited by Yahoo (HTTP 429)")
    assert results["BAD"].reason.startswith("malformed response from Yahoo")
    with Store.open(store_path, create=False) as store:
        (entry,) = store.fetch_log()
        assert (entry.ok, entry.no_coverage, entry.failed) == (1, 1, 2)
        assert entry.tickers == ("AAPL", "SPY", "RL", "BAD")
        assert dict(entry.reasons) == {t: r.reason for t, r in results.items() if r.reason}
        assert entry.reasons["SPY"].startswith("no analyst coverage")
        assert store.snapshots()["ticker"].tolist() == ["AAPL"]
    assert len(wall.sleeps) == CONFIG.max_attempts - 1  # RL's backoffs, none really waited


@pytest.mark.parametrize(
    ("kind", "status"), [("status", 429), ("status", 503), ("network", 0), ("malformed", 0), ("truncated", 0)]
)
def test_when_everything_fails_no_snapshot_is_written_but_the_attempt_is_logged(
    fake: FakeYahoo, wall: VirtualClock, store_path: Path | str, kind: Any, status: int
) -> None:
    for symbol in ("AAPL", "GOOG"):
        fake.fail(symbol, kind, status=status or 429)
    outcome = run(["AAPL", "GOOG"], store_path)
    assert outcome.written is None and not outcome.anything_fetched
    assert set(outcome.failures) == {"AAPL", "GOOG"}
    with Store.open(store_path, create=False) as store:
        assert store.snapshots().empty and store.trend().empty and store.upgrades().empty
        (entry,) = store.fetch_log()
        assert (entry.ok, entry.no_coverage, entry.failed) == (0, 0, 2)
        assert dict(entry.reasons) == outcome.failures


def test_an_answer_without_coverage_counts_as_fetched(
    fake: FakeYahoo, wall: VirtualClock, store_path: Path | str
) -> None:
    fake.no_fundamentals("SPY")
    outcome = run(["SPY"], store_path)
    assert outcome.anything_fetched and outcome.written is not None and outcome.failures == {}
    with Store.open(store_path, create=False) as store:
        assert store.snapshots().empty
        (entry,) = store.fetch_log()
        assert (entry.ok, entry.no_coverage, entry.failed) == (0, 1, 0)


@pytest.mark.parametrize("kind", ["status", "malformed", "network"])
def test_a_failed_refresh_loses_no_earlier_snapshot(
    fake: FakeYahoo, wall: VirtualClock, store_path: Path | str, kind: Any
) -> None:
    run(["AAPL", "GOOG"], store_path)
    with Store.open(store_path) as store:
        kept = {name: getattr(store, name)() for name in ("snapshots", "trend", "upgrades", "prices", "history")}
    for symbol in ("AAPL", "GOOG"):
        fake.fail(symbol, kind)
    wall.now = DAY_2025 + timedelta(days=1)
    outcome = run(["AAPL", "GOOG"], store_path, force=True)
    assert not outcome.anything_fetched
    with Store.open(store_path) as store:
        for name, frame in kept.items():
            pd.testing.assert_frame_equal(getattr(store, name)(), frame)
        newest, first = store.fetch_log()
        assert (newest.failed, first.ok) == (2, 2)


# ---------------------------------------------------------------------------------------------
# The store is checked before Yahoo is asked anything


def _not_sqlite(path: Path) -> None:
    path.write_text("name,target\nAAPL,250\n")


def _foreign_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.execute("INSERT INTO recipes VALUES ('bread')")
    conn.close()


def _truncated_store(path: Path) -> None:
    with Store.open(path) as store:
        store.write_batch(log_entry=FetchLogEntry("2025-01-01", "2025-01-01", ("A",), 0, 0, 1))
    data = path.read_bytes()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.write_bytes(data[: len(data) // 2 + 10])


def _a_directory(path: Path) -> None:
    path.mkdir()


@pytest.mark.parametrize("spoil", [_not_sqlite, _foreign_sqlite, _truncated_store, _a_directory])
def test_a_bad_store_is_refused_before_any_request(
    fake: FakeYahoo, wall: VirtualClock, tmp_path: Path, spoil: Callable[[Path], None]
) -> None:
    path = tmp_path / "ratings.sqlite"
    spoil(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(StoreError, match=str(path)):
        run(["AAPL"], path)
    assert fake.log == []  # not one HTTP request
    if before is not None:
        assert path.read_bytes() == before


def test_the_store_is_opened_before_the_first_request(
    fake: FakeYahoo, wall: VirtualClock, store_path: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests_seen_at_open: list[int] = []
    real_init = Store.__init__

    def watching(self: Store, *args: Any, **kwargs: Any) -> None:
        requests_seen_at_open.append(len(fake.log))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(Store, "__init__", watching)
    run(["AAPL"], store_path)
    assert requests_seen_at_open == [0]
    assert fake.count("quoteSummary", symbol="AAPL") > 0


# ---------------------------------------------------------------------------------------------
# Two days, with real recordings of each


def test_two_days_are_two_snapshots_in_the_history(fake: FakeYahoo, wall: VirtualClock, store_path: Path | str) -> None:
    wall.now = AAPL_2021
    fake.recorded_in("2021", "AAPL")
    first = run(["AAPL"], store_path)
    wall.now = DAY_2025
    fake.recorded_in("2025", "AAPL")
    second = run(["AAPL"], store_path)  # no force: the 2021 result is four years old, not cached
    assert not second.batch.result("AAPL").from_cache
    assert first.written is not None and second.written is not None
    assert (first.written.snapshots.inserted, second.written.snapshots.inserted) == (1, 1)
    with Store.open(store_path, create=False) as store:
        rows = store.history(["AAPL"])
        upgrades = store.upgrades(["AAPL"])
    assert rows["as_of"].tolist() == ["2021-02-01", "2025-02-24"]
    for (_, row), year in zip(rows.iterrows(), ("2021", "2025"), strict=True):
        financial = module("AAPL", "financialData", year)
        assert row["target_mean"] == pytest.approx(financial["targetMeanPrice"])
        assert row["price"] == pytest.approx(financial["currentPrice"])
        assert row["n_analysts"] == financial["numberOfAnalystOpinions"]
    # The upgrades of both recordings, each stored once.
    both = {
        (r["epochGradeDate"], r["firm"], r["action"])
        for year in ("2021", "2025")
        for r in module("AAPL", "upgradeDowngradeHistory", year)["history"]
        if r["firm"].strip() and r["action"].strip()
    }
    assert len(upgrades) == len(both)


@pytest.mark.parametrize(
    ("later", "cached"),
    [
        (timedelta(minutes=1), True),
        (timedelta(seconds=CONFIG.cache_ttl_s - 1), True),
        (timedelta(seconds=CONFIG.cache_ttl_s + 1), False),
        (timedelta(days=1), False),
        (-timedelta(hours=2), False),  # the clock went back: an entry "from the future" is not trusted
    ],
)
def test_the_result_cache_ages_on_the_injected_wall_clock(
    fake: FakeYahoo, wall: VirtualClock, file_store: Path, later: timedelta, cached: bool
) -> None:
    run(["AAPL"], file_store)
    fake.reset_log()
    wall.now = DAY_2025 + later
    result = run(["AAPL"], file_store).batch.result("AAPL")
    assert result.from_cache is cached
    assert (fake.count("quoteSummary", symbol="AAPL") == 0) is cached
    # A cache hit keeps the time Yahoo answered; a fresh answer is dated by the wall clock.
    expected = DAY_2025 if cached else DAY_2025 + later
    assert result.observed_at == expected.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_naive_wall_clock_is_taken_as_utc(fake: FakeYahoo, file_store: Path, wall: VirtualClock) -> None:
    wall.now = AAPL_2021.replace(tzinfo=None)
    fake.recorded_in("2021", "AAPL")
    result = run(["AAPL"], file_store).batch.result("AAPL")
    assert result.observed_at == AAPL_2021.strftime("%Y-%m-%dT%H:%M:%SZ")
