"""The store's analysis tab (schema v3): estimates, EPS trend, revisions and surprises kept as dated snapshots,
written in the refresh's one transaction, migrated onto older stores without losing their rows, read back
onto the Dataset. The store's tests run on both backends (``target``: SQLite and a PostgreSQL server this
module starts); the migration of an old SQLite file stays SQLite's."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fake_yahoo import FakeYahoo
from helpers import VirtualClock
from pandas.testing import assert_frame_equal

from ratings import refresh, sources
from ratings.schema import EPS_REVISIONS, EPS_TREND, ESTIMATES, SNAPSHOTS, SURPRISES, SchemaError, conform, utc_text
from ratings.store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Store, StoreError, sql
from ratings.yahoo import LiveConfig

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")  # inside yfinance 1.7

DAY1 = "2026-07-01T14:00:00Z"
DAY2 = "2026-07-02T09:30:00Z"


def estimate_rows(ticker: str, observed_at: str, *, eps: float = 1.5, currency: str = "USD") -> pd.DataFrame:
    """Hand-made ESTIMATES rows: this and next quarter, one with an unknown revenue."""
    return conform(
        pd.DataFrame(
            {
                "ticker": ticker,
                "period": ["0q", "+1q"],
                "end_date": ["2026-09-30", "2026-12-31"],
                "eps_mean": [eps, eps + 0.1],
                "eps_low": [eps - 0.2, eps - 0.1],
                "eps_high": [eps + 0.2, eps + 0.3],
                "eps_analysts": [20, 18],
                "eps_year_ago": [1.2, math.nan],
                "eps_growth": [eps / 1.2 - 1, math.nan],
                "revenue_mean": [9.1e10, math.nan],
                "revenue_analysts": [19, pd.NA],
                "currency": currency,
                "observed_at": observed_at,
            }
        ),
        ESTIMATES,
    )


def trend_rows(ticker: str, observed_at: str) -> pd.DataFrame:
    values = {"eps_current": [1.5, 1.6], "eps_7d_ago": [1.5, 1.6], "eps_30d_ago": [1.4, 1.7], "eps_90d_ago": [1.3, 1.8]}
    return conform(
        pd.DataFrame(
            {"ticker": ticker, "period": ["0q", "+1q"], **values, "currency": "USD", "observed_at": observed_at}
        ),
        EPS_TREND,
    )


def revision_rows(ticker: str, observed_at: str) -> pd.DataFrame:
    counts = {"up_7d": [0, 1], "down_7d": [2, 0], "up_30d": [3, 4], "down_30d": [5, 0]}
    return conform(
        pd.DataFrame(
            {"ticker": ticker, "period": ["0q", "+1q"], **counts, "currency": "USD", "observed_at": observed_at}
        ),
        EPS_REVISIONS,
    )


def surprise_rows(ticker: str, observed_at: str) -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "ticker": ticker,
                "quarter": ["2026-03-31", "2026-06-30"],
                "period": ["-2q", "-1q"],
                "eps_estimate": [1.0, 1.1],
                "eps_actual": [1.1, math.nan],
                "eps_difference": [0.1, math.nan],
                "surprise": [0.1, math.nan],
                "currency": "USD",
                "observed_at": observed_at,
            }
        ),
        SURPRISES,
    )


def analysis(ticker: str, observed_at: str, **kwargs: Any) -> dict[str, pd.DataFrame]:
    return {
        "estimates": estimate_rows(ticker, observed_at, **kwargs),
        "eps_trend": trend_rows(ticker, observed_at),
        "eps_revisions": revision_rows(ticker, observed_at),
        "surprises": surprise_rows(ticker, observed_at),
    }


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ratings.sqlite"


@pytest.fixture
def store(target: str | Path) -> Iterator[Store]:
    with Store(target) as opened:
        yield opened


def read_all(store: Store) -> dict[str, pd.DataFrame]:
    return {
        "estimates": store.estimates(),
        "eps_trend": store.eps_trend(),
        "eps_revisions": store.eps_revisions(),
        "surprises": store.surprises(),
    }


# --- writing and reading -------------------------------------------------------------------------


def test_written_estimates_read_back_the_same_unknowns_included(store: Store) -> None:
    frames = analysis("AAPL", DAY1)
    summary = store.write_batch(**frames)
    assert (summary.estimates.inserted, summary.eps_trend.inserted) == (2, 2)
    assert (summary.eps_revisions.inserted, summary.surprises.inserted) == (2, 2)
    for name, frame in read_all(store).items():
        assert_frame_equal(frame, frames[name], check_names=False)
    back = store.estimates()
    assert pd.isna(back.loc[1, "revenue_mean"]) and pd.isna(back.loc[1, "revenue_analysts"])  # NULL, not 0
    assert store.tickers() == ["AAPL"]


def test_each_fetch_is_a_dated_snapshot_and_a_repeat_is_stored_once(store: Store) -> None:
    store.write_batch(**analysis("AAPL", DAY1, eps=1.5))
    again = store.write_batch(**analysis("AAPL", DAY1, eps=9.9))  # the same fetch twice: kept as first written
    assert again.estimates.already_present == 2 and again.estimates.inserted == 0
    store.write_batch(**analysis("AAPL", DAY2, eps=1.7))
    stored = store.estimates(["AAPL"])
    assert stored[["observed_at", "period"]].to_numpy().tolist() == [
        [DAY1, "0q"], [DAY1, "+1q"], [DAY2, "0q"], [DAY2, "+1q"],  # by fetch, periods in Yahoo's order
    ]  # fmt: skip
    assert stored["eps_mean"].tolist() == pytest.approx([1.5, 1.6, 1.7, 1.8])
    assert store.surprises(["MSFT"]).empty


def test_timestamps_take_the_one_spelling(store: Store) -> None:
    store.write_batch(**analysis("AAPL", "2026-07-01T16:00:00+02:00"))
    assert set(store.estimates()["observed_at"]) == {utc_text(DAY1)}


@pytest.mark.parametrize("frame", ["estimates", "eps_trend", "eps_revisions", "surprises"])
def test_a_broken_estimates_frame_writes_nothing_at_all(store: Store, frame: str) -> None:
    frames = analysis("AAPL", DAY1)
    frames[frame] = pd.concat([frames[frame], frames[frame].iloc[[0]]])  # a duplicate key
    snapshots = conform(pd.DataFrame({"ticker": ["AAPL"], "source_id": ["yfinance"], "observed_at": [DAY1]}), SNAPSHOTS)
    with pytest.raises(SchemaError, match="duplicate key"):
        store.write_batch(snapshots, **frames)
    assert store.snapshots().empty and all(f.empty for f in read_all(store).values())


def test_a_period_without_a_key_is_refused(store: Store) -> None:
    frames = analysis("AAPL", DAY1)
    frames["estimates"].loc[0, "period"] = pd.NA
    with pytest.raises(SchemaError, match="'period' is empty"):
        store.write_batch(**frames)


def test_values_are_parameters_never_sql(store: Store) -> None:
    evil = "x'); DROP TABLE estimates;--"
    store.write_batch(**analysis(evil, DAY1, currency=evil))
    assert store.estimates([evil])["currency"].tolist() == [evil, evil]


# --- the migration from v2 --------------------------------------------------------------------------


def build_v2_store(path: Path) -> None:
    """A store as the code of schema v2 left it, with a row in each of its tables."""
    with sqlite3.connect(path) as conn:
        for script in MIGRATIONS[:2]:
            conn.executescript(script)
        conn.execute("PRAGMA user_version = 2")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
        conn.execute(
            "INSERT INTO snapshots (ticker, source_id, observed_at, currency, price, target_mean, n_analysts)"
            " VALUES ('AAPL', 'yfinance', ?, 'USD', 245.55, 252.23, 40)",
            (DAY1,),
        )
        conn.execute("INSERT INTO trend (ticker, observed_at, period, buy) VALUES ('AAPL', ?, '0m', 21)", (DAY1,))
        conn.execute(
            "INSERT INTO prices (ticker, date, close, currency, source_id, fetched_at)"
            " VALUES ('AAPL', '2026-07-01', 245.55, 'USD', 'yfinance', ?)",
            (DAY1,),
        )
        conn.execute(
            "INSERT INTO fetch_log (started_at, finished_at, tickers, ok, no_coverage, failed, reasons)"
            " VALUES (?, ?, '[\"AAPL\"]', 1, 0, 0, '{}')",
            (DAY1, DAY1),
        )
    conn.close()


def test_a_v2_store_migrates_to_v3_keeping_every_row(path: Path) -> None:
    build_v2_store(path)
    assert SCHEMA_VERSION == 3
    with Store(path) as store:
        assert store.schema_version == 3
        snapshot = store.snapshots().iloc[0]
        assert (snapshot["ticker"], snapshot["price"], snapshot["target_mean"]) == ("AAPL", 245.55, 252.23)
        assert pd.isna(snapshot["target_low"])  # unknown stays unknown through the migration
        assert store.trend()["buy"].tolist() == [21] and store.prices()["close"].tolist() == [245.55]
        assert [e.tickers for e in store.fetch_log()] == [("AAPL",)]
        assert all(frame.empty for frame in read_all(store).values())
        store.write_batch(**analysis("AAPL", DAY2))  # the new tables take a fetch
        assert len(store.estimates()) == 2 and len(store.snapshots()) == 1
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert set(sql.ANALYSIS_TABLES) <= tables


def test_a_store_of_a_newer_schema_is_refused_untouched(path: Path) -> None:
    build_v2_store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 4")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer version"):
        Store(path)
    assert path.read_bytes() == before


# --- a refresh: fetch, then one transaction -----------------------------------------------------------


def live(**overrides: Any) -> LiveConfig:
    return LiveConfig(**({"requests_per_second": None, "backoff_base_s": 0.0} | overrides))


def test_a_refresh_stores_the_estimates_and_the_dataset_carries_them(
    fake: FakeYahoo, wall: VirtualClock, target: str | Path
) -> None:
    outcome = refresh.refresh(["AAPL", "AMZN", "GOOG", "HISU-U.TO"], store_path=target, config=live())
    written = outcome.written
    assert written is not None
    assert (written.estimates.inserted, written.surprises.inserted) == (12, 12)  # 4 periods, 4 quarters each
    assert written.eps_trend.inserted == written.eps_revisions.inserted == 12
    dataset = sources.load("store", store_path=target)
    assert set(dataset.estimates["ticker"]) == {"AAPL", "AMZN", "GOOG"}
    aapl = dataset.estimates_for("AAPL")
    assert aapl.estimates["eps_mean"].tolist() == pytest.approx([1.60796, 1.49709, 7.3157, 8.19607])  # recorded
    assert aapl.surprises["quarter"].tolist() == ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]
    assert dataset.estimates_for("HISU-U.TO").empty
    assert set(dataset.estimates["observed_at"]) == {utc_text(wall.now)}


def test_a_second_day_adds_a_second_snapshot(fake: FakeYahoo, wall: VirtualClock, target: str | Path) -> None:
    refresh.refresh(["AAPL"], store_path=target, config=live())
    wall.now += pd.Timedelta(days=1)
    refresh.refresh(["AAPL"], store_path=target, config=live(), force=True)
    dataset = sources.read_store(target)
    assert dataset.estimates.groupby("observed_at").size().tolist() == [4, 4]
    assert dataset.estimates_for("AAPL").estimates["observed_at"].unique().tolist() == [utc_text(wall.now)]
    assert len(dataset.estimates_for("AAPL").surprises) == 4  # the same quarters, each counted once


def test_the_estimates_are_written_in_the_same_transaction(
    fake: FakeYahoo, wall: VirtualClock, target: str | Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    places = ", ".join("?" * len(sql.ANALYSIS_TABLES["surprises"].names))  # psycopg counts them before sending
    broken = dict(sql.INSERT_ANALYSIS, surprises=f"INSERT INTO no_such_table VALUES ({places})")  # noqa: S608
    monkeypatch.setattr(sql, "INSERT_ANALYSIS", broken)
    with pytest.raises(StoreError, match="no_such_table"):
        refresh.refresh(["AAPL"], store_path=target, config=live())
    monkeypatch.undo()
    with Store(target, create=False) as store:
        assert store.snapshots().empty and store.trend().empty and store.estimates().empty
