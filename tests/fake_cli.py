"""The command line in a process of its own, with the fake Yahoo installed: for tests that kill it.

    python tests/fake_cli.py [--latency SECONDS] ARGS...   # = ratings ARGS..., offline

Every symbol without a recording is served AAPL's recorded answers (``FakeYahoo(any_symbol_as="AAPL")``),
so a whole universe (``--universe sp500``) answers as fully covered tickers do. No request leaves the
machine: the fake refuses any host but Yahoo's and answers Yahoo's itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_yahoo import FakeYahoo

from ratings import cli


def main(argv: list[str]) -> int:
    latency = 0.0
    if argv[:1] == ["--latency"]:
        latency, argv = float(argv[1]), argv[2:]
    with FakeYahoo(latency_s=latency, any_symbol_as="AAPL"):
        return cli.main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
