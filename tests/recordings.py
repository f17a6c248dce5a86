"""Expected values, read from the recorded Yahoo responses in ``tests/payloads/yahoo/``.

The same files ``fake_yahoo.py`` serves: tests compare what the code under test made of them with
what they hold, read here directly (never from the code's own output).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fake_yahoo import PAYLOAD_DIR

from ratings.schema import COUNT_COLUMNS, TARGET_COLUMNS

#: Our count columns -> Yahoo's recommendationTrend keys.
TREND_KEYS = dict(zip(COUNT_COLUMNS, ("strongBuy", "buy", "hold", "sell", "strongSell"), strict=True))
#: Our target columns -> Yahoo's financialData keys.
TARGET_KEYS = dict(
    zip(TARGET_COLUMNS, ("targetMeanPrice", "targetMedianPrice", "targetLowPrice", "targetHighPrice"), strict=True)
)

# When the recordings were made (their HTTP Date headers, to the minute): the wall clock of a fetch
# that should be served the recording of that day.
AAPL_2021 = datetime(2021, 2, 1, 5, 15, 0, tzinfo=UTC)
GOOG_2021 = datetime(2021, 2, 15, 15, 15, 0, tzinfo=UTC)
DAY_2025 = datetime(2025, 2, 24, 9, 35, 5, tzinfo=UTC)


def payload(name: str) -> dict[str, Any]:
    """The recorded body of the file `name`."""
    return json.loads((PAYLOAD_DIR / name).read_text(encoding="utf-8"))["body"]


def module(symbol: str, name: str, year: str = "2025") -> dict[str, Any]:
    """The quoteSummary module `name` of `symbol` as recorded in `year`."""
    return payload(f"{year}-quoteSummary-{name}-{symbol}.json")["quoteSummary"]["result"][0][name]


def current_counts(symbol: str, year: str = "2025") -> dict[str, int]:
    """The recorded counts of the current month (period "0m"), under our column names."""
    (row,) = [r for r in module(symbol, "recommendationTrend", year)["trend"] if r["period"] == "0m"]
    return {ours: row[theirs] for ours, theirs in TREND_KEYS.items()}
