"""Barclays' AAPL track record over 12 months, worked out by hand from the bundled recordings (not by the engine).

The bundle's Barclays actions on AAPL (upgrades.parquet, recorded 2025-02-24) begin with eight Overweight
calls, 2015-10-14 to 2016-09-29, then a downgrade to Equal-Weight on 2017-01-24. Each Overweight is held
from the first close after it to the firm's next action (every next action comes within 12 months):

* 2015-10-14T20:25:56Z is 16:25 in New York, after the close: entered at the next day's close, 2015-10-15;
* every other action is stamped before 16:00 New York time: entered at its own day's close;
* the eighth call is closed by the Equal-Weight of 2017-01-24 (a hold-type grade closes a position).

The returns are read from the bundled adjusted closes of AAPL and EW-SP500 on exactly these days.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import pandas as pd

FIRM, TICKER, BENCHMARK = "Barclays", "AAPL", "EW-SP500"
#: (graded_at, grade) of Barclays' first nine AAPL actions, as the bundle holds them.
ACTIONS: tuple[tuple[str, str], ...] = (
    ("2015-10-14T20:25:56Z", "Overweight"),
    ("2015-10-28T08:19:00Z", "Overweight"),
    ("2015-12-14T11:06:30Z", "Overweight"),
    ("2016-01-27T10:31:59Z", "Overweight"),
    ("2016-04-20T08:24:21Z", "Overweight"),
    ("2016-04-27T10:14:02Z", "Overweight"),
    ("2016-07-15T11:01:44Z", "Overweight"),
    ("2016-09-29T08:17:49Z", "Overweight"),
    ("2017-01-24T10:57:30Z", "Equal-Weight"),
)
#: (entry day, exit day) of each Overweight call, by the rules above.
WINDOWS: tuple[tuple[str, str], ...] = (
    ("2015-10-15", "2015-10-28"),
    ("2015-10-28", "2015-12-14"),
    ("2015-12-14", "2016-01-27"),
    ("2016-01-27", "2016-04-20"),
    ("2016-04-20", "2016-04-27"),
    ("2016-04-27", "2016-07-15"),
    ("2016-07-15", "2016-09-29"),
    ("2016-09-29", "2017-01-24"),
)


@dataclass(frozen=True)
class HandRecord:
    calls: int
    successes: int
    rate: float
    low: float
    high: float
    mean_excess: float
    median_excess: float


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval, written out from its textbook formula."""
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def close_on(closes: pd.DataFrame, ticker: str, day: str) -> float:
    rows = closes[(closes["ticker"] == ticker) & (closes["date"] == pd.Timestamp(day))]
    assert len(rows) == 1, f"no single {ticker} close on {day}"
    return float(rows["close"].iloc[0])


def barclays_aapl(adjusted_closes: pd.DataFrame) -> HandRecord:
    """The record, from the closes on the days of :data:`WINDOWS`."""
    excess = []
    for entry, exit_ in WINDOWS:
        stock = close_on(adjusted_closes, TICKER, exit_) / close_on(adjusted_closes, TICKER, entry) - 1
        index = close_on(adjusted_closes, BENCHMARK, exit_) / close_on(adjusted_closes, BENCHMARK, entry) - 1
        excess.append(stock - index)
    successes = sum(1 for e in excess if e > 0)
    low, high = wilson(successes, len(excess))
    return HandRecord(
        len(excess), successes, successes / len(excess), low, high, sum(excess) / len(excess), statistics.median(excess)
    )
