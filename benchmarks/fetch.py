"""Benchmark: the live loader on 100 tickers against the offline fake with 200 ms per request.

    python benchmarks/fetch.py [--tickers 100] [--latency 0.2] [--workers 8]

No network: ``tests/fake_yahoo.py`` answers every request after sleeping ``--latency`` seconds.
The tickers are generated symbols (BM000, BM001, ...) served AAPL's recorded responses, so every
endpoint yfinance calls answers as a fully covered ticker does, the analysis tab (estimates and
earnings history, one request) included. The rate limit is off.

Two figures:

* ``ratio_vs_ideal``: wall time of a cold load (empty cache) over the ideal, which is the number of
  HTTP requests actually made (counted by the fake) x latency / concurrency: how much the loader
  loses to locks, serial steps and its own CPU work. Target <= 1.3.
* ``cache_speedup``: the cold load's wall time over a second load of the same tickers served from
  the loader's result cache (which must make no request). Target >= 50.

The last line printed is one JSON object with both and the raw figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fake lives with the tests

# mypy does not look in tests/ (pyproject's mypy "files"), hence the ignore.
from fake_yahoo import FakeYahoo  # type: ignore[import-not-found]  # noqa: E402

from ratings import yahoo  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickers", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the fake sleeps per request")
    parser.add_argument("--workers", type=int, default=8, help="LiveConfig.max_workers")
    args = parser.parse_args(argv)

    symbols = [f"BM{i:03d}" for i in range(args.tickers)]
    with tempfile.TemporaryDirectory(prefix="ratings-bench-") as cache, FakeYahoo(latency_s=args.latency) as fake:
        for symbol in symbols:
            fake.serve_as(symbol, "AAPL")
        config = yahoo.LiveConfig(
            max_workers=args.workers,
            requests_per_second=None,
            cache_dir=Path(cache),
            budget_s=600,
        )

        started = time.perf_counter()
        cold = yahoo.fetch(symbols, config=config)
        cold_s = time.perf_counter() - started
        requests = len(fake.log)
        per_endpoint = dict(sorted(fake.per_endpoint().items()))
        ideal_s = requests * args.latency / args.workers

        fake.reset_log()
        started = time.perf_counter()
        warm = yahoo.fetch(symbols, config=config)
        warm_s = time.perf_counter() - started
        warm_requests = len(fake.log)

    fetched = len(cold.fetched)
    from_cache = sum(r.from_cache for r in warm.results)
    ratio = cold_s / ideal_s
    speedup = cold_s / warm_s
    print(f"{args.tickers} generated tickers (BM000..) served AAPL's recorded responses by the offline fake;")
    print(f"{args.latency * 1000:.0f} ms per request, {args.workers} workers, rate limit off, no network.")
    print(f"{'load':<22}{'wall time':>11}{'requests':>10}{'ok':>6}")
    print(f"{'cold (fake Yahoo)':<22}{cold_s:>10.2f}s{requests:>10}{fetched:>6}")
    print(f"{'ideal for that load':<22}{ideal_s:>10.2f}s{'':>10}")
    print(f"{'warm (result cache)':<22}{warm_s:>10.3f}s{warm_requests:>10}{from_cache:>6}")
    print(f"requests by endpoint: {per_endpoint} ({requests / args.tickers:.1f} per ticker)")
    print(f"ratio vs ideal {ratio:.3f} (target <= 1.3); cache speedup {speedup:.0f}x (target >= 50)")
    print(
        json.dumps(
            {
                "ratio_vs_ideal": round(ratio, 4),
                "cache_speedup": round(speedup, 1),
                "tickers": args.tickers,
                "latency_s": args.latency,
                "workers": args.workers,
                "requests": requests,
                "requests_per_ticker": round(requests / args.tickers, 2),
                "requests_by_endpoint": per_endpoint,
                "cold_s": round(cold_s, 4),
                "ideal_s": round(ideal_s, 4),
                "warm_s": round(warm_s, 5),
                "warm_requests": warm_requests,
                "fetched": fetched,
                "served_from_cache": from_cache,
            }
        )
    )
    return 0 if fetched == args.tickers and from_cache == args.tickers and warm_requests == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
