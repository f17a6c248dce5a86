"""The PostgreSQL store's own checks, against a real server this module starts (``tests/postgres.py``): a new
database becomes a store; an empty, foreign, other application's or newer-version database is refused and
left as it was; an unreachable server is a clear error without the password; PostgreSQL's own migrations
(frozen, pinned by hash) bring an older store forward in one transaction, once however many processes open
it; a lock held too long is an error, not a hang; the dashboard's cheap version stamp.

The interface itself (writes, reads, atomicity, concurrency) runs on both backends in ``test_store.py``.
"""

from __future__ import annotations

import hashlib
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import psycopg
import pytest
from fake_yahoo import FakeYahoo
from helpers import VirtualClock
from pandas.testing import assert_frame_equal
from postgres import PostgresServer, look, tables

from ratings import paths
from ratings.refresh import refresh
from ratings.schema import SNAPSHOTS, conform, utc_text
from ratings.sources import read_store
from ratings.store import (
    APPLICATION_ID,
    POSTGRES_MIGRATIONS,
    SCHEMA_VERSION,
    Store,
    StoreError,
    display,
    locate,
    version_stamp,
)
from ratings.store import postgres as backend
from ratings.yahoo import LiveConfig

DAY1 = "2026-07-01T14:00:00Z"
DAY2 = "2026-07-02T09:30:00Z"
# sha256 of each released PostgreSQL script: as SQLite's (test_store.py), a released script never changes.
RELEASED_POSTGRES_MIGRATIONS = (
    "39990a04c024f29273c23300afd79a08d588e60537debc19f1d24f8f06c5f456",
    "1c093a90a56280236d9ed2bc0a8b0598ddde4c8cad57b225f16b8c216a4731d5",
    "04588480e61a72e8d49079ec629cf92d06e75ac56dec0f5d91f57283d30fb82a",
)


@pytest.fixture
def url(pg_server: PostgresServer) -> str:
    """A new, empty database."""
    return pg_server.database()


def snapshots(tickers: list[str], observed_at: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticker": tickers,
            "source": "Yahoo Finance",
            "source_id": "yfinance",
            "observed_at": observed_at,
            "as_of": observed_at[:10],
            "price": [100.0 + i for i in range(len(tickers))],
            "target_mean": [110.0 + i for i in range(len(tickers))],
            "n_analysts": 12,
        }
    )


def fingerprint(where: str) -> dict[str, Any]:
    """Every table of the database and every row in it: what "left as it was" compares."""
    return {
        name: sorted(map(repr, look(where, f'SELECT * FROM "{name}"')))  # noqa: S608 - names read from the catalog
        for name in sorted(tables(where))
    }


# --- a new store --------------------------------------------------------------------------------------


def test_a_new_database_becomes_a_store_marked_as_ours(url: str) -> None:
    with Store(url) as store:
        assert store.backend == "postgresql" and store.schema_version == SCHEMA_VERSION
        assert store.location == display(url) and store.path == store.location
    assert look(url, "SELECT application_id, schema_version FROM ratings_store") == [(APPLICATION_ID, SCHEMA_VERSION)]
    assert {"snapshots", "trend", "upgrades", "prices", "names", "fetch_log", "estimates", "surprises"} <= tables(url)


def test_the_store_url_comes_from_the_environment(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.STORE_ENV, url)
    assert paths.default_store_path() == url  # text: a Path would fold the URL's //
    with Store() as store:
        store.write_batch(snapshots=snapshots(["F"], DAY1))
    assert look(url, "SELECT ticker FROM snapshots") == [("F",)]


def test_an_empty_database_is_not_made_a_store_without_create(url: str) -> None:
    with pytest.raises(StoreError, match=r"no store at .*an empty database"):
        Store(url, create=False)
    with pytest.raises(StoreError, match="no store"):
        read_store(url)
    assert tables(url) == set()


# --- databases that are not a usable store ------------------------------------------------------------


def foreign(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text)")
    conn.execute("INSERT INTO users (email) VALUES ('someone@example.com')")


def other_application(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE ratings_store (application_id integer NOT NULL, schema_version integer NOT NULL)")
    conn.execute("INSERT INTO ratings_store VALUES (1234, 1)")


def someone_elses_meta_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE ratings_store (rating text, stars integer)")
    conn.execute("INSERT INTO ratings_store VALUES ('great', 5), ('poor', 1)")


def newer(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "CREATE TABLE ratings_store (application_id integer NOT NULL, schema_version integer NOT NULL);"
        + "".join(POSTGRES_MIGRATIONS)
    )
    conn.execute("INSERT INTO ratings_store VALUES (%s, %s)", (APPLICATION_ID, SCHEMA_VERSION + 1))
    conn.execute("INSERT INTO names (ticker, name, updated_at) VALUES ('F', 'Ford', %s)", (DAY1,))


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (foreign, "not an analyst-ratings store"),
        (other_application, "not an analyst-ratings store"),
        (someone_elses_meta_table, "not an analyst-ratings store"),
        (newer, "written by a newer version of analyst-ratings.*upgrade"),
    ],
    ids=["someone-elses-tables", "other-application-id", "someone-elses-ratings_store", "newer-schema"],
)
@pytest.mark.parametrize("create", [True, False])
def test_a_database_that_is_not_a_usable_store_is_refused_and_left_as_it_was(
    url: str, spoil: Any, message: str, create: bool
) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        spoil(conn)
    before = fingerprint(url)
    with pytest.raises(StoreError, match=message):
        Store(url, create=create)
    with pytest.raises(StoreError, match=message):
        read_store(url)
    assert fingerprint(url) == before


def test_a_foreign_database_is_refused_before_any_request(fake: FakeYahoo, wall: VirtualClock, url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        foreign(conn)
    before = fingerprint(url)
    with pytest.raises(StoreError, match="not an analyst-ratings store"):
        refresh(["AAPL"], store_path=url, config=LiveConfig(requests_per_second=None))
    assert fake.log == [] and fingerprint(url) == before


def test_a_server_that_cannot_be_reached_is_a_clear_error_without_the_password() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = f"postgresql://ratings:s3cret@127.0.0.1:{port}/x"
    with pytest.raises(StoreError, match=r"cannot connect to the store postgresql://ratings@127\.0\.0\.1") as caught:
        Store(unreachable)
    assert "s3cret" not in str(caught.value)
    assert display(unreachable) == unreachable.replace(":s3cret", "")
    assert locate(unreachable).exists()  # can't tell: opening it says why
    assert version_stamp(unreachable)[0] == "unreachable"


# --- migrations ---------------------------------------------------------------------------------------


def test_released_postgres_migrations_never_change() -> None:
    assert len(POSTGRES_MIGRATIONS) == SCHEMA_VERSION  # version for version SQLite's
    for version, (script, pinned) in enumerate(zip(POSTGRES_MIGRATIONS, RELEASED_POSTGRES_MIGRATIONS, strict=False), 1):
        assert hashlib.sha256(script.encode()).hexdigest() == pinned, f"PostgreSQL's migration to v{version} was edited"


def build_old_store(url: str, version: int) -> pd.DataFrame:
    """A store as schema `version` left it, with rows in v1's tables; returns its snapshots."""
    snaps = conform(snapshots(["F", "TSLA"], utc_text(DAY1)), SNAPSHOTS)
    snaps.loc[1, "price"] = float("nan")  # an unknown must survive the migration as unknown
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE ratings_store (application_id integer NOT NULL, schema_version integer NOT NULL)")
        conn.execute("INSERT INTO ratings_store VALUES (%s, %s)", (APPLICATION_ID, version))
        for script in POSTGRES_MIGRATIONS[:version]:
            conn.execute(script)
        columns = SNAPSHOTS.names
        values = [tuple(None if pd.isna(v) else v for v in row) for row in snaps[columns].astype(object).itertuples()]
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO snapshots ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
                [row[1:] for row in values],
            )
        conn.execute(
            "INSERT INTO upgrades (ticker, graded_at, firm, action, from_grade, to_grade, source, first_seen_at)"
            " VALUES ('F', %s, 'Firm A', 'up', 'Hold', 'Buy', 'Yahoo Finance', %s)",
            (utc_text("2026-06-30T12:00:00Z"), utc_text(DAY1)),
        )
    return snaps


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_an_older_store_is_migrated_forward_without_losing_rows(url: str, version: int) -> None:
    snaps = build_old_store(url, version)
    with Store(url) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert_frame_equal(store.snapshots(), snaps)
        assert list(store.upgrades()["firm"]) == ["Firm A"]
        summary = store.write_batch(snapshots=snapshots(["F"], DAY2), fetched_at=DAY2)
        assert summary.snapshots.inserted == 1 and store.estimates().empty and store.fetch_log() == []
    assert look(url, "SELECT schema_version FROM ratings_store") == [(SCHEMA_VERSION,)]


def test_a_failed_migration_leaves_the_old_store_as_it_was(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    build_old_store(url, 1)
    before = fingerprint(url)
    broken = (*POSTGRES_MIGRATIONS[:-1], POSTGRES_MIGRATIONS[-1] + "CREATE TABLE trend (again text);\n")
    monkeypatch.setattr(backend.migrations, "POSTGRES_MIGRATIONS", broken)
    with pytest.raises(StoreError, match=r"cannot migrate .* from schema v1 .*nothing was changed.*already exists"):
        Store(url)
    assert fingerprint(url) == before  # DDL is transactional: not even the scripts that ran are left
    monkeypatch.undo()
    with Store(url) as store:
        assert store.schema_version == SCHEMA_VERSION and len(store.snapshots()) == 2


def test_several_processes_opening_a_new_store_at_once_create_it_once(url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:  # a connection each: the server's advisory lock decides
        stores = list(pool.map(lambda _: Store(url), range(4)))
    try:
        assert {store.schema_version for store in stores} == {SCHEMA_VERSION}
    finally:
        for store in stores:
            store.close()
    assert look(url, "SELECT count(*) FROM ratings_store") == [(1,)]


# --- locks, versions ----------------------------------------------------------------------------------


def test_a_write_lock_held_too_long_is_a_clear_error_not_a_hang(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend, "LOCK_TIMEOUT_S", 0.2)
    with Store(url) as store, psycopg.connect(url) as holder:
        holder.execute("LOCK TABLE snapshots IN EXCLUSIVE MODE")  # another process in the middle of a long write
        with pytest.raises(StoreError, match="locked by another process"):
            store.write_batch(snapshots=snapshots(["F"], DAY1))
        assert store.snapshots().empty  # readers are not blocked by a writer
        holder.rollback()
        assert store.write_batch(snapshots=snapshots(["F"], DAY1)).snapshots.inserted == 1


def test_the_version_stamp_moves_with_each_fetch_and_says_when_there_is_no_store(url: str) -> None:
    assert version_stamp(url) == backend.NO_STORE and not locate(url).exists()
    with Store(url) as store:
        empty = version_stamp(url)
        assert locate(url).exists() and empty == (None, None)
        store.write_batch(snapshots=snapshots(["F"], DAY1))
        first = version_stamp(url)
        store.write_batch(snapshots=snapshots(["F"], DAY2))
        assert len({empty, first, version_stamp(url)}) == 3
        assert version_stamp(url) == version_stamp(url)  # nothing written: the same stamp
