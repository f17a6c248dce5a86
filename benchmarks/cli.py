"""Benchmark: ``ratings table F`` as a user runs it (a process) against ``python -c "import pandas, plotly"``.

    python benchmarks/cli.py [--repeat 9]

A command that prints one row must cost little more than starting Python with the two libraries the
project is built on: the target is <= 1.5x. Both run as subprocesses of the same interpreter, interleaved
(the order alternating), and the figure is the ratio of their medians. ``-X importtime`` of one more run
names the heaviest imports on the command's path (the ``heaviest_imports`` of the JSON line), which is
where a slow start comes from. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "ratings", "table", "F"]
BASELINE = [sys.executable, "-c", "import pandas, plotly"]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def heaviest_imports(count: int = 8) -> list[tuple[str, float]]:
    """The packages the command imports, by the cumulative time (ms) of their outermost import, heaviest first."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *COMMAND[1:]], cwd=ROOT, capture_output=True, text=True, check=True
    )
    packages: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        packages[package] = max(packages.get(package, 0.0), int(parts[1]) / 1000)
    return sorted(packages.items(), key=lambda item: -item[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    timed(COMMAND)  # warm the file cache for both: the first run of anything reads it from disk
    timed(BASELINE)
    command: list[float] = []
    baseline: list[float] = []
    for run in range(args.repeat):
        pair = [(command, COMMAND), (baseline, BASELINE)]
        for times, argv in pair if run % 2 == 0 else pair[::-1]:
            times.append(timed(argv))
    ours, base = statistics.median(command), statistics.median(baseline)
    imports = heaviest_imports()
    print(f"{'median of ' + str(args.repeat) + ' interleaved runs':<40}{'seconds':>9}")
    baseline_name = 'python -c "import pandas, plotly"'
    print(f"{baseline_name:<40}{base:>9.3f}")
    print(f"{'ratings table F':<40}{ours:>9.3f}")
    print(
        f"ratio {ours / base:.2f}x (target <= 1.5); heaviest imports: "
        + ", ".join(f"{n} {ms:.0f} ms" for n, ms in imports)
    )
    print(
        json.dumps(
            {
                "ratio_vs_import_pandas_plotly": round(ours / base, 3),
                "command_s": round(ours, 4),
                "baseline_s": round(base, 4),
                "target_ratio": 1.5,
                "heaviest_imports": {name: round(ms, 1) for name, ms in imports},
            }
        )
    )


if __name__ == "__main__":
    main()
