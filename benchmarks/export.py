"""Benchmark: a warm PNG export (``ratings.export.figure_bytes``) against a raw kaleido call on the same figure.

    python benchmarks/export.py [--repeat 15]

The figure is the bundled watchlist's upside chart. Once kaleido's browser is up (the first export of a
process starts it: not measured here), an export should cost what kaleido's own render costs: the
project's wrapper adds a lock, a helper thread with a timeout and a check of the image's signature. Both
calls ask the same server for the same PNG (same width, height and scale), interleaved (the order
alternating); the figure is the ratio of their medians, target <= 1.2. Needs Chrome or Chromium (Debian:
/usr/bin/chromium). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from ratings import export
from ratings.bundle import load_bundle
from ratings.charts import upside_chart
from ratings.tickers import WATCHLIST


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if not export.static_export_available():
        print("PNG export needs Chrome or Chromium (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    import kaleido

    figure = upside_chart(load_bundle().table(list(WATCHLIST)))
    width, height, scale = 1200, 600, 2
    ours_png = export.figure_bytes(figure, "png", width=width, height=height, scale=scale)  # starts the browser
    opts = {"format": "png", "width": width, "height": height, "scale": scale}
    raw_png = bytes(kaleido.calc_fig_sync(figure, opts=opts))
    ours: list[float] = []
    raw: list[float] = []
    for run in range(args.repeat):
        pair: list[tuple[list[float], Callable[[], Any]]] = [
            (ours, lambda: export.figure_bytes(figure, "png", width=width, height=height, scale=scale)),
            (raw, lambda: kaleido.calc_fig_sync(figure, opts=opts)),
        ]
        for times, work in pair if run % 2 == 0 else pair[::-1]:
            times.append(timed(work))
    ours_s, raw_s = statistics.median(ours), statistics.median(raw)
    print(f"warm PNG of the watchlist's upside chart ({width}x{height}, scale {scale}), median of {args.repeat}:")
    print(f"{'raw kaleido.calc_fig_sync':<32}{raw_s * 1000:>9.1f} ms")
    print(f"{'ratings.export.figure_bytes':<32}{ours_s * 1000:>9.1f} ms")
    print(f"ratio {ours_s / raw_s:.3f}x (target <= 1.2); same image size: {len(ours_png) == len(raw_png)}")
    print(
        json.dumps(
            {
                "ratio_vs_raw_kaleido": round(ours_s / raw_s, 3),
                "export_ms": round(ours_s * 1000, 2),
                "raw_kaleido_ms": round(raw_s * 1000, 2),
                "target_ratio": 1.2,
                "same_image_size": len(ours_png) == len(raw_png),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
