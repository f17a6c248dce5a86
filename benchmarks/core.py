"""Benchmark: the vectorised core on 10,000 consensus rows against a row-by-row baseline.

    python benchmarks/core.py [--rows 10000] [--repeat 5]

The baseline computes the same figures (rating mean from counts, label, upside, dispersion) with a
Python loop over rows, in the same run on the same frame, so the printed figures are ratios that do
not depend on the machine. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd

from ratings import core
from ratings.schema import CONSENSUS, COUNT_COLUMNS, conform


def make_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    price = rng.uniform(1, 500, rows)
    price[rng.random(rows) < 0.05] = np.nan  # some unknown prices
    target = price * rng.uniform(0.5, 1.8, rows)
    frame = pd.DataFrame(
        {
            "ticker": [f"T{i:05d}" for i in range(rows)],
            "source": "bench",
            "source_id": "bench",
            "as_of": "2026-07-02",
            "currency": "USD",
            "price": price,
            "target_mean": target,
            "target_low": target * 0.8,
            "target_high": target * 1.3,
        }
        | {c: rng.integers(0, 12, rows) for c in COUNT_COLUMNS}
    )
    return conform(frame, CONSENSUS)


def row_by_row(frame: pd.DataFrame) -> pd.DataFrame:
    """What the core would look like with a Python loop per row: the baseline."""
    out = []
    for row in frame.to_dict("records"):
        counts = [row[c] for c in COUNT_COLUMNS]
        total = sum(int(c) for c in counts if c is not pd.NA)
        weighted = sum(int(c) * s for c, s in zip(counts, range(1, 6), strict=True) if c is not pd.NA)
        mean = weighted / total if total else math.nan
        label = next((lab for lab, edge in zip(core.LABELS, core.BAND_EDGES[1:], strict=True) if mean <= edge), None)
        price = float(row["price"]) if float(row["price"]) > 0 else math.nan
        target, low, high = float(row["target_mean"]), float(row["target_low"]), float(row["target_high"])
        upside = target / price - 1 if price == price else math.nan
        out.append((row["ticker"], mean, label, upside, (high - low) / target))
    return pd.DataFrame(out, columns=["ticker", "rating_mean", "consensus", "upside_mean", "target_dispersion"])


def vectorised(frame: pd.DataFrame) -> pd.DataFrame:
    return core.add_metrics(core.attach_prices(frame, pd.DataFrame()))


def best_of(func: Callable[[pd.DataFrame], pd.DataFrame], frame: pd.DataFrame, repeat: int) -> tuple[float, int]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(frame)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    func(frame)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return min(times), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    frame = make_frame(args.rows)

    fast, fast_peak = best_of(vectorised, frame, args.repeat)
    slow, slow_peak = best_of(row_by_row, frame, max(1, args.repeat // 2))
    got, want = vectorised(frame), row_by_row(frame)
    same = np.allclose(got["upside_mean"], want["upside_mean"], equal_nan=True) and np.allclose(
        got["rating_mean"], want["rating_mean"], equal_nan=True
    )

    print(f"{'implementation':<16}{'best time':>12}{'peak memory':>14}")
    print(f"{'row by row':<16}{slow * 1000:>10.1f}ms{slow_peak / 2**20:>12.1f}MB")
    print(f"{'vectorised':<16}{fast * 1000:>10.1f}ms{fast_peak / 2**20:>12.1f}MB")
    print(f"rows={args.rows:,}  same results: {same}")
    print(
        json.dumps(
            {"rows": args.rows, "speedup_vs_row_by_row": round(slow / fast, 1),
             "memory_ratio_vs_row_by_row": round(fast_peak / slow_peak, 2), "same_results": bool(same)}
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
