"""Benchmark: the store on 2,500 tickers x 250 days of snapshots, SQLite against PostgreSQL, and the dashboard's load.

    python benchmarks/store.py [--tickers 2500] [--days 250] [--repeat 5]

Both stores get the same 250 daily batches (one snapshot and one close per ticker a day, as a scheduled
fetch of a large universe leaves them), written through ``Store.write_batch`` in turn, the order
alternating day by day, so that both see the same machine. PostgreSQL is a throw-away server this
benchmark starts on 127.0.0.1 (``tests/postgres.py``: Debian's initdb/pg_ctl, fsync off as in the tests).

Figures, each the median of interleaved runs, printed as ratios against a baseline of the same run:

* ``write_ratio_pg_vs_sqlite``: one day's batch (2,500 snapshots and closes, one transaction);
* ``read_ratio_pg_vs_sqlite``: ``latest``, ``history`` and ``prices`` of the whole store;
* ``load_vs_raw_read``: the dashboard's load (``ratings.sources.load("store")`` plus ``Dataset.table()``,
  what ``ratings.dashboard.cache`` caches per store version) over the plain driver reading the same
  rows (``SELECT *`` of snapshots and prices, fetchall); ``load_s`` is that load in seconds, whose
  target is under 1 s a page load at this size.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the PostgreSQL server helper lives with the tests

# mypy does not look in tests/ (pyproject's mypy "files"), hence the ignore.
from postgres import PostgresServer, find_binaries  # type: ignore[import-not-found]  # noqa: E402

from ratings import sources  # noqa: E402
from ratings.schema import COUNT_COLUMNS  # noqa: E402
from ratings.store import Store  # noqa: E402

BACKENDS = ("sqlite", "postgresql")


def day_batch(tickers: list[str], day: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """One day's fetch of every ticker: a snapshot and a close each (made-up numbers of the schemas' types)."""
    n = len(tickers)
    when = pd.Timestamp("2025-01-01") + pd.Timedelta(days=day)
    price = rng.uniform(5, 500, n)
    snapshots = pd.DataFrame(
        {
            "ticker": tickers,
            "source": "Yahoo Finance",
            "source_id": "yfinance",
            "observed_at": when.strftime("%Y-%m-%dT21:00:00Z"),
            "as_of": when.strftime("%Y-%m-%d"),
            "currency": "USD",
            "price": price,
            "price_as_of": when.strftime("%Y-%m-%d"),
            "target_mean": price * rng.uniform(0.7, 1.6, n),
            "target_median": price * 1.05,
            "target_low": price * 0.7,
            "target_high": price * 1.8,
            "n_analysts": rng.integers(1, 40, n),
            "rating_mean": rng.uniform(1, 5, n),
            "source_label": "Buy",
        }
        | {c: rng.integers(0, 10, n) for c in COUNT_COLUMNS}
    )
    prices = pd.DataFrame({"ticker": tickers, "date": when, "close": price, "currency": "USD", "source_id": "yfinance"})
    return {"snapshots": snapshots, "prices": prices}


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def raw_read(target: str | Path) -> None:
    """The baseline: the plain driver reading every snapshot and close, no frames, no checks."""
    statements = ("SELECT * FROM snapshots", "SELECT * FROM prices")
    if isinstance(target, str):
        import psycopg

        with psycopg.connect(target) as conn:
            for statement in statements:
                conn.execute(statement).fetchall()
        return
    import sqlite3

    file = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)
    try:
        for statement in statements:
            file.execute(statement).fetchall()
    finally:
        file.close()


def read_all(store: Store) -> None:
    store.latest(), store.history(), store.prices()


def dashboard_load(target: str | Path, reference: pd.DataFrame) -> None:
    """What a page load costs once the store has a new version: the Dataset and the cached consensus table."""
    sources.load("store", store_path=target, reference_universe=reference).table(None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickers", type=int, default=2500)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=5, help="interleaved runs of each read")
    args = parser.parse_args(argv)
    binaries, why = find_binaries()
    if binaries is None:
        print(f"PostgreSQL is needed for this benchmark: {why}", file=sys.stderr)
        return 2

    tickers = [f"T{i:04d}" for i in range(args.tickers)]
    reference = sources.load("bundle").universe
    with tempfile.TemporaryDirectory(prefix="ratings-bench-") as folder, PostgresServer(binaries) as server:
        targets: dict[str, str | Path] = {"sqlite": Path(folder) / "bench.sqlite", "postgresql": server.database()}
        stores = {name: Store(target) for name, target in targets.items()}
        writes: dict[str, list[float]] = {name: [] for name in BACKENDS}
        rng = np.random.default_rng(1)
        for day in range(args.days):
            frames = day_batch(tickers, day, rng)
            for name in BACKENDS if day % 2 == 0 else BACKENDS[::-1]:  # interleaved, the order alternating
                batch = partial(stores[name].write_batch, snapshots=frames["snapshots"], prices=frames["prices"])
                writes[name].append(timed(batch))
        for store in stores.values():
            store.close()

        reads: dict[str, list[float]] = {name: [] for name in BACKENDS}
        loads: dict[str, list[float]] = {name: [] for name in BACKENDS}
        raws: dict[str, list[float]] = {name: [] for name in BACKENDS}
        for run in range(args.repeat):
            for name in BACKENDS if run % 2 == 0 else BACKENDS[::-1]:
                with Store(targets[name], create=False) as store:
                    reads[name].append(timed(partial(read_all, store)))
                raws[name].append(timed(partial(raw_read, targets[name])))
                loads[name].append(timed(partial(dashboard_load, targets[name], reference)))

    def median(values: list[float]) -> float:
        return statistics.median(values)

    write = {name: median(writes[name]) for name in BACKENDS}
    read = {name: median(reads[name]) for name in BACKENDS}
    load = {name: median(loads[name]) for name in BACKENDS}
    raw = {name: median(raws[name]) for name in BACKENDS}
    rows = args.tickers * args.days
    print(f"{args.tickers:,} tickers x {args.days} days = {rows:,} snapshots and {rows:,} closes per store")
    print(f"{'median of interleaved runs':<34}{'SQLite':>10}{'PostgreSQL':>12}{'PG / SQLite':>13}")
    for label, figures in (
        ("write one day (one transaction)", write),
        ("read latest + history + prices", read),
        ("raw driver read (baseline)", raw),
        ("dashboard load + table", load),
    ):
        ratio = figures["postgresql"] / figures["sqlite"]
        print(f"{label:<34}{figures['sqlite']:>9.3f}s{figures['postgresql']:>11.3f}s{ratio:>12.2f}x")
    for name in BACKENDS:
        print(f"{name}: dashboard load {load[name]:.2f} s (target < 1 s), {load[name] / raw[name]:.2f}x the raw read")
    print(
        json.dumps(
            {
                "tickers": args.tickers,
                "days": args.days,
                "write_ratio_pg_vs_sqlite": round(write["postgresql"] / write["sqlite"], 3),
                "read_ratio_pg_vs_sqlite": round(read["postgresql"] / read["sqlite"], 3),
                "load_vs_raw_read": {name: round(load[name] / raw[name], 2) for name in BACKENDS},
                "load_s": {name: round(load[name], 3) for name in BACKENDS},
                "write_s": {name: round(write[name], 4) for name in BACKENDS},
                "read_s": {name: round(read[name], 3) for name in BACKENDS},
                "raw_read_s": {name: round(raw[name], 3) for name in BACKENDS},
                "load_target_s": 1.0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
