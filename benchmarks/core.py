"""Benchmark: the vectorised core against plain numpy on the same arrays, on 10,000 and 1,000,000 rows.

    python benchmarks/core.py [--rows 10000 1000000] [--repeat 7]

The core is what the consensus table costs per row: ``core.add_metrics(core.attach_prices(frame, ...))``
(the rating mean, reported or from the counts, the label, the analysts' count, four upsides, the
dispersion and the coverage). The baseline computes the same figures with numpy alone, on the frame's
columns taken as arrays once beforehand: what the computation costs with no frame around it. Both run
interleaved (the order alternating), the figure is the ratio of their medians (target <= 2), and the
results are checked equal. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ratings import core
from ratings.schema import CONSENSUS, COUNT_COLUMNS, conform

SCORES = np.array([1.0, 2.0, 3.0, 4.0, 5.0])


def make_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    price = rng.uniform(1, 500, rows)
    price[rng.random(rows) < 0.05] = np.nan  # some unknown prices
    target = price * rng.uniform(0.5, 1.8, rows)
    reported = rng.uniform(1, 5, rows)
    reported[rng.random(rows) < 0.3] = np.nan  # some sources report only counts
    counts = {c: rng.integers(0, 12, rows) for c in COUNT_COLUMNS}
    frame = pd.DataFrame(
        {
            "ticker": [f"T{i:07d}" for i in range(rows)],
            "source": "bench",
            "source_id": "bench",
            "as_of": "2026-07-02",
            "currency": "USD",
            "price": price,
            "target_mean": target,
            "target_median": target * 0.98,
            "target_low": target * 0.8,
            "target_high": target * 1.3,
            "rating_mean": reported,
        }
        | counts
    )
    return conform(frame, CONSENSUS)


def arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The frame's columns as plain float arrays (NaN for unknown): the baseline's input, made once."""
    return {c: frame[c].to_numpy(dtype="float64", na_value=np.nan) for c in frame.columns if c in NUMERIC}


NUMERIC = frozenset(
    {"price", "target_mean", "target_median", "target_low", "target_high", "rating_mean", "n_analysts", *COUNT_COLUMNS}
)


def plain_numpy(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The core's figures with numpy alone."""
    counts = np.column_stack([a[c] for c in COUNT_COLUMNS])
    known = ~np.isnan(counts)
    total = np.where(known, counts, 0).sum(axis=1)
    weighted = (np.where(known, counts, 0) * SCORES).sum(axis=1)
    any_known = known.any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        from_counts = np.where(any_known & (total > 0), weighted / total, np.nan)
    reported = a["rating_mean"]
    reported = np.where((reported >= 1) & (reported <= 5), reported, np.nan)
    rating = np.where(np.isnan(reported), from_counts, reported)
    edges = np.asarray(core.BAND_EDGES)
    band = np.clip(np.searchsorted(edges[1:], rating, side="left"), 0, len(core.LABELS) - 1)
    labels = np.asarray(core.LABELS, dtype=object)[band]
    labels[~((rating >= 1) & (rating <= 5))] = None
    n_analysts = np.where(np.isnan(a["n_analysts"]), np.where(any_known, total, np.nan), a["n_analysts"])
    price = a["price"]
    out = {"rating_mean": rating, "consensus": labels, "n_analysts": n_analysts}
    with np.errstate(invalid="ignore", divide="ignore"):
        for kind in ("mean", "median", "low", "high"):
            target = a[f"target_{kind}"]
            usable = np.isfinite(target) & np.isfinite(price) & (target > 0) & (price > 0)
            upside = np.where(usable, target / np.where(usable, price, 1.0) - 1, np.nan)
            out[f"upside_{kind}"] = np.where(np.isfinite(upside), upside, np.nan)
        high, low, mean = a["target_high"], a["target_low"], a["target_mean"]
        spread = (high - low) / mean
        out["target_dispersion"] = np.where(
            (mean > 0) & (low > 0) & (high >= low) & np.isfinite(spread), spread, np.nan
        )
    has_target = mean > 0
    out["coverage"] = np.where(has_target, "targets", np.where(labels != None, "rating", "none"))  # noqa: E711
    return out


def the_core(frame: pd.DataFrame) -> pd.DataFrame:
    return core.add_metrics(core.attach_prices(frame, pd.DataFrame()))


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def same(got: pd.DataFrame, want: dict[str, np.ndarray]) -> bool:
    numbers = ["rating_mean", "n_analysts", "upside_mean", "upside_median", "upside_low", "upside_high"]
    close = all(
        np.allclose(got[c].to_numpy(dtype="float64", na_value=np.nan), want[c], equal_nan=True)
        for c in [*numbers, "target_dispersion"]
    )
    labels = got["consensus"].astype(object).where(got["consensus"].notna(), None).to_numpy()
    return close and bool((labels == want["consensus"]).all())


def measure(rows: int, repeat: int) -> dict[str, Any]:
    frame = make_frame(rows)
    columns = arrays(frame)
    base: list[float] = []
    ours: list[float] = []
    for run in range(repeat):
        pair = [(base, lambda: plain_numpy(columns)), (ours, lambda: the_core(frame))]
        for times, work in pair if run % 2 == 0 else pair[::-1]:
            times.append(timed(work))
    numpy_s, core_s = statistics.median(base), statistics.median(ours)
    return {
        "rows": rows,
        "numpy_s": round(numpy_s, 5),
        "core_s": round(core_s, 5),
        "ratio_vs_numpy": round(core_s / numpy_s, 2),
        "same_results": same(the_core(frame), plain_numpy(columns)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = [measure(rows, args.repeat) for rows in args.rows]
    print(f"{'rows':>10}{'plain numpy':>14}{'the core':>12}{'ratio':>8}  same results")
    for r in results:
        times = f"{r['numpy_s'] * 1000:>12.1f}ms{r['core_s'] * 1000:>10.1f}ms"
        print(f"{r['rows']:>10,}{times}{r['ratio_vs_numpy']:>7.2f}x  {r['same_results']}")
    print(json.dumps({"target_ratio": 2.0, "results": results}))


if __name__ == "__main__":
    main()
