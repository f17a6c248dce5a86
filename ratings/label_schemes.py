"""One set of Strong Buy..Strong Sell counts labelled three ways (Yahoo's five bands, TipRanks' 3-point
scale, MarketBeat's 4-point scale), and where the label flips between them.

Vectorised over frames of counts (the ``CONSENSUS`` count columns); a count the source does not report is
left out, not taken as zero, as in ``ratings.core``.

Yahoo Finance
    The counts on the 1-5 scale (1 Strong Buy … 5 Strong Sell), the mean cut at 1.5, 2.5, 3.5 and 4.5,
    upper bound included (``ratings.core``): it reproduces Yahoo's own label for every rated ticker of
    the bundled snapshot.

TipRanks
    Three points, Buy, Hold and Sell: TipRanks describes its consensus as "a weighted average calculation
    based on a 3-point system that incorporates the analyst ratings made over the last 3 months" (its
    guide to the Analyst Forecast pages, lp.tipranks.com). Strong Buy counts as Buy and Strong Sell as
    Sell; scored 1 Buy, 2 Hold, 3 Sell, the mean takes the nearest point, a mean halfway the more
    positive one (up to 1.5 Buy, up to 2.5 Hold, above that Sell). TipRanks words its consensus in five
    (Strong Buy, Moderate Buy, Hold, Moderate Sell, Strong Sell) without publishing their cut points, so
    only the three points are reproduced. Ford, 2 Buy / 11 Hold / 1 Sell: (2×1 + 11×2 + 1×3) / 14 = 1.93,
    Hold, as TipRanks says.

MarketBeat
    Four points: each analyst's latest rating of the last twelve months scored 1 Sell, 2 Hold, 3 Buy,
    4 Strong Buy, and their mean (MarketBeat's FAQ on how its consensus ratings are calculated,
    marketbeat.com). Strong Sell counts as Sell. The mean takes the nearest score, a mean halfway the
    more positive one: from 3.5 Strong Buy, from 2.5 Buy, from 1.5 Hold, below that Sell.

Where the label flips
    Each scheme's label is read as buy, hold or sell (Strong Buy and Buy are buy, Sell and Strong Sell
    sell), and the counts flip where the schemes do not all say the same. Strong ratings weigh more on
    Yahoo's five points than on TipRanks' three: 1 Strong Buy and 2 Hold are a Buy on Yahoo (mean 2.33)
    and MarketBeat (2.67), a Hold on TipRanks (1.67). 3 Strong Buy and 2 Strong Sell are a Hold on Yahoo
    (2.6) and TipRanks (1.8), a Buy on MarketBeat (2.8), where a Strong Sell scores no lower than a Sell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .core import label_from_rating_mean, rating_mean_from_counts
from .schema import COUNT_COLUMNS

YAHOO, TIPRANKS, MARKETBEAT = "yahoo", "tipranks", "marketbeat"
SCHEMES: tuple[str, ...] = (YAHOO, TIPRANKS, MARKETBEAT)
SCHEME_NAMES: dict[str, str] = {YAHOO: "Yahoo Finance", TIPRANKS: "TipRanks", MARKETBEAT: "MarketBeat"}

#: Each scheme's score of each count column (TipRanks and MarketBeat merge the strong ones).
SCORES: dict[str, dict[str, int]] = {
    TIPRANKS: {"strong_buy": 1, "buy": 1, "hold": 2, "sell": 3, "strong_sell": 3},
    MARKETBEAT: {"strong_buy": 4, "buy": 3, "hold": 2, "sell": 1, "strong_sell": 1},
}
#: The labels of the two point scales, best first, and the lowest (TipRanks: highest) mean each takes.
TIPRANKS_LABELS: tuple[str, ...] = ("Buy", "Hold", "Sell")
MARKETBEAT_LABELS: tuple[str, ...] = ("Strong Buy", "Buy", "Hold", "Sell")
#: Every label of the three schemes read as buy, hold or sell.
LABEL_STANCE: dict[str, str] = {
    "Strong Buy": "buy",
    "Buy": "buy",
    "Hold": "hold",
    "Sell": "sell",
    "Strong Sell": "sell",
}

SCHEME_TABLE = pd.DataFrame(
    {
        "scheme": [SCHEME_NAMES[s] for s in SCHEMES],
        "scale": ["1 Strong Buy … 5 Strong Sell", "1 Buy, 2 Hold, 3 Sell", "4 Strong Buy, 3 Buy, 2 Hold, 1 Sell"],
        "labels": [
            "up to 1.5 Strong Buy, 2.5 Buy, 3.5 Hold, 4.5 Sell, above Strong Sell",
            "up to 1.5 Buy, up to 2.5 Hold, above Sell",
            "from 3.5 Strong Buy, from 2.5 Buy, from 1.5 Hold, below Sell",
        ],
        "source": [
            "Yahoo's own bands: they reproduce its label for every rated ticker of the bundle (ratings.core)",
            "TipRanks' guide to its Analyst Forecast pages: a weighted average on a 3-point system; its five "
            "words' cut points are not published, so the three points are used",
            "MarketBeat's FAQ on how its consensus ratings are calculated: scores 1 to 4, their mean",
        ],
    },
    dtype="string",
)


def _points_mean(frame: pd.DataFrame, scores: dict[str, int]) -> pd.Series:
    counts = frame[list(COUNT_COLUMNS)].astype("float64")
    weights = pd.Series(scores, dtype="float64")[list(COUNT_COLUMNS)]
    total = counts.sum(axis=1, min_count=1)
    return ((counts * weights).sum(axis=1, min_count=1) / total.where(total > 0)).astype("float64")


def _banded(mean: pd.Series, edges: list[float], labels: tuple[str, ...], *, right: bool) -> pd.Series:
    cut = pd.cut(mean, bins=edges, labels=list(labels), right=right, include_lowest=True)
    return cut.astype("string")


def scheme_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row's mean and label under every scheme, and whether they flip (see "Where the label flips").

    Columns ``{scheme}_mean`` and ``{scheme}`` for Yahoo, TipRanks and MarketBeat, and ``flips``: the
    labels, read as buy / hold / sell, are not all the same. A row without counts has no labels and
    does not flip.
    """
    out = pd.DataFrame(index=frame.index)
    out["yahoo_mean"] = rating_mean_from_counts(frame)
    out["yahoo"] = label_from_rating_mean(out["yahoo_mean"])
    out["tipranks_mean"] = _points_mean(frame, SCORES[TIPRANKS])
    out["tipranks"] = _banded(out["tipranks_mean"], [1.0, 1.5, 2.5, 3.0], TIPRANKS_LABELS, right=True)
    out["marketbeat_mean"] = _points_mean(frame, SCORES[MARKETBEAT])
    # From 3.5 up is Strong Buy: the bands include their lower bound, the highest also 4.
    banded = _banded(
        out["marketbeat_mean"],
        [1.0, 1.5, 2.5, 3.5, float(np.nextafter(4.0, 5.0))],
        MARKETBEAT_LABELS[::-1],
        right=False,
    )
    out["marketbeat"] = banded
    stances = pd.DataFrame({s: out[s].map(LABEL_STANCE) for s in SCHEMES})
    known = stances.notna().all(axis=1)
    # Some scheme differs from Yahoo's: the three do not all say the same.
    differs = stances.ne(stances[YAHOO], axis=0).any(axis=1)
    out["flips"] = (known & differs).astype(bool)
    return out


def flips(frame: pd.DataFrame, keep: tuple[str, ...] = ("ticker", "source", "as_of")) -> pd.DataFrame:
    """The rows of `frame` (rows with counts) whose label flips, with their counts and every scheme's label."""
    labelled = scheme_labels(frame)
    shown = [c for c in (*keep, *COUNT_COLUMNS) if c in frame.columns]
    out = pd.concat([frame[shown], labelled], axis=1)
    return out[out["flips"].to_numpy(bool)].reset_index(drop=True)


def example_counts() -> pd.DataFrame:
    """The docstring's examples as counts: the flips it explains, and Ford's TipRanks counts, which do not flip."""
    rows = [(1, 0, 2, 0, 0), (3, 0, 0, 0, 2), (np.nan, 2, 11, 1, np.nan)]
    return pd.DataFrame(rows, columns=list(COUNT_COLUMNS)).astype("Int64")
