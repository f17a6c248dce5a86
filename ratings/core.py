"""The core computation: consensus labels, implied upside, dispersion, and the primary source.

Everything here is vectorised over frames (no Python loop per row) and keeps unknowns unknown:
a missing or non-positive price, a missing target or no coverage gives NaN, never 0 or inf.

Consensus label
    Ratings are put on the usual 1-to-5 scale (1 Strong Buy, 2 Buy, 3 Hold, 4 Sell, 5 Strong Sell)
    and the mean is cut into bands, upper bound included::

        [1.0, 1.5] Strong Buy   (1.5, 2.5] Buy   (2.5, 3.5] Hold   (3.5, 4.5] Sell   (4.5, 5.0] Strong Sell

    These are Yahoo's own bands: they reproduce Yahoo's ``recommendationKey`` for every rated
    ticker of the bundled snapshot (a test checks this). The mean is the source's reported
    ``rating_mean`` when it gives one; otherwise it is computed from the counts, each weighted by
    its score. A count the source does not report separately (TipRanks has no Strong Buy or Strong
    Sell) is left out, not counted as zero. Ford on TipRanks, 2 Buy / 11 Hold / 1 Sell, has a mean
    of (2x2 + 11x3 + 1x4) / 14 = 2.93: Hold, as TipRanks says.

Implied upside
    ``target / price - 1`` for the mean, median, low and high targets, as a fraction.

Dispersion
    ``(target_high - target_low) / target_mean``: how far apart analysts are, relative to the
    consensus. Sources publish no per-analyst targets, so no standard deviation is possible.

Age
    Every figure is shown with its age on the day it is looked at. A consensus is marked stale
    when it is older than a threshold that depends on the kind of data: 30 days in the bundled
    snapshot (a dated sample: analysts revise their targets within weeks), 7 days in the local
    store (fetched on purpose, so a week without a fetch is worth saying), 1 day for the Live
    source (it promises today's figures). A price is marked stale beyond 7 days in every kind; a
    date without a day ('2026') has no age.

Price
    A row uses the price its source quoted with the consensus. A row without one (TipRanks quotes
    none) uses the latest bundled close on or before its as-of date, or the latest close at all when
    the as-of date has no day; ``price_source`` and ``price_as_of`` say which price was used. In a
    consensus history, a snapshot is priced only by a close at most a week older than its day;
    otherwise its upside stays unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray
from pandas.api.typing import NAType

from .schema import CONSENSUS, CONSENSUS_HISTORY, CONSENSUS_TABLE, COUNT_COLUMNS, PRICES, conform, day_mask

LABELS: tuple[str, ...] = ("Strong Buy", "Buy", "Hold", "Sell", "Strong Sell")
#: Upper bounds (inclusive) of the label bands on the 1-5 scale.
BAND_EDGES: tuple[float, ...] = (1.0, 1.5, 2.5, 3.5, 4.5, 5.0)
#: Yahoo's ``recommendationKey`` in this project's words: the same five bands, Yahoo's names.
YAHOO_KEY_LABELS: dict[str, str] = {
    "strong_buy": "Strong Buy",
    "buy": "Buy",
    "hold": "Hold",
    "underperform": "Sell",
    "sell": "Strong Sell",
}
#: Score of each count on the 1-5 scale.
COUNT_SCORES: dict[str, int] = dict(zip(COUNT_COLUMNS, (1, 2, 3, 4, 5), strict=True))

#: Order in which sources are preferred for the primary row, after the rules of PRIMARY_RULE.
SOURCE_PRIORITY: tuple[str, ...] = ("Yahoo Finance", "TipRanks", "finviz")

PRIMARY_RULE = (
    "For each ticker the primary row is the one with a mean price target, then the one dated to "
    "the day (TipRanks' Ford record gives only the year), then the most recent, then by source: "
    + ", ".join(SOURCE_PRIORITY)
    + ". Every other source is still shown beside it."
)

COVERAGE_TARGETS, COVERAGE_RATING, COVERAGE_NONE = "targets", "rating only", "none"


@dataclass(frozen=True)
class Coverage:
    """The tickers of a table by what the data has for them, each in the table's order and in one group.

    ``targets``: some source gives a price target; ``rating_only``: a rating but no source gives a
    target (so no upside); ``none``: no analyst consensus at all.
    """

    targets: list[str]
    rating_only: list[str]
    none: list[str]


def coverage_partition(table: pd.DataFrame) -> Coverage:
    """Each ticker of a ``CONSENSUS_TABLE`` by the best ``coverage`` of its rows (targets, then a rating)."""
    best: dict[str, str] = {}
    rank = {COVERAGE_TARGETS: 0, COVERAGE_RATING: 1, COVERAGE_NONE: 2}
    for ticker, coverage in zip(table["ticker"], table["coverage"], strict=True):
        if pd.isna(ticker):
            continue
        known = str(coverage) if coverage in rank else COVERAGE_NONE
        if ticker not in best or rank[known] < rank[best[ticker]]:
            best[str(ticker)] = known
    return Coverage(
        *([t for t, c in best.items() if c == kind] for kind in (COVERAGE_TARGETS, COVERAGE_RATING, COVERAGE_NONE))
    )


def _floats(series: pd.Series) -> np.ndarray:
    """A column as a float64 array, NaN for unknown (what the arithmetic below runs on: numpy, not Series)."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _counted(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The rating mean of the Strong Buy..Strong Sell counts (NaN without any) and their total (NaN likewise).

    A count the source does not report is left out, not taken as zero.
    """
    counts = np.column_stack([_floats(frame[c]) for c in COUNT_COLUMNS]) if len(frame) else np.empty((0, 5))
    known = ~np.isnan(counts)
    filled = np.where(known, counts, 0.0)
    total = np.where(known.any(axis=1), filled.sum(axis=1), np.nan)
    weighted = filled @ np.array([COUNT_SCORES[c] for c in COUNT_COLUMNS], dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(total > 0, weighted / total, np.nan)
    return mean, total


def rating_mean_from_counts(frame: pd.DataFrame) -> pd.Series:
    """Mean score of the Strong Buy..Strong Sell counts on the 1-5 scale; NaN without counts."""
    return pd.Series(_counted(frame)[0], index=frame.index, dtype="float64")


def _strings(codes: np.ndarray, names: Sequence[str], na_value: NAType | float = pd.NA) -> ExtensionArray:
    """A text column from `codes` into `names` (-1: unknown) through Arrow's dictionary encoding, which is many
    times faster than building the column from Python strings; ``na_value=np.nan`` gives pandas' ``str``."""
    indices = pa.array(codes.astype("int8"), mask=codes < 0, type=pa.int8())
    encoded = pa.DictionaryArray.from_arrays(indices, pa.array(list(names), type=pa.large_string()))
    return pd.array(encoded.cast(pa.large_string()), dtype=pd.StringDtype("pyarrow", na_value=na_value))


def _labels(values: np.ndarray) -> ExtensionArray:
    """The label of each 1-5 rating mean: bands with inclusive upper bounds, 1.0 in the first; <NA> elsewhere."""
    band = np.searchsorted(np.asarray(BAND_EDGES[1:]), values, side="left").clip(0, len(LABELS) - 1)
    return _strings(np.where((values >= 1) & (values <= 5), band, -1), LABELS)


def label_from_rating_mean(rating_mean: pd.Series) -> pd.Series:
    """Consensus label for each 1-5 rating mean; <NA> outside [1, 5] or when unknown."""
    return pd.Series(_labels(_floats(rating_mean)), index=rating_mean.index)


def label_from_counts(frame: pd.DataFrame) -> pd.Series:
    """Consensus label from the Strong Buy..Strong Sell counts alone."""
    return label_from_rating_mean(rating_mean_from_counts(frame))


def _upside(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    usable = np.isfinite(t) & np.isfinite(p) & (t > 0) & (p > 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        upside = np.where(usable, t / np.where(usable, p, 1.0) - 1, np.nan)
    return np.where(np.isfinite(upside), upside, np.nan)  # a price near 0 must not give inf


def implied_upside(target: pd.Series, price: pd.Series) -> pd.Series:
    """``target / price - 1``; NaN where either is missing, not finite or not positive."""
    return pd.Series(_upside(_floats(target), _floats(price)), index=target.index, dtype="float64")


def _dispersion(high: np.ndarray, low: np.ndarray, mean: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        spread = (high - low) / mean
    return np.where((mean > 0) & (low > 0) & (high >= low) & np.isfinite(spread), spread, np.nan)


def target_dispersion(frame: pd.DataFrame) -> pd.Series:
    """``(target_high - target_low) / target_mean``; NaN unless all three are known and sane."""
    high, low, mean = (_floats(frame[c]) for c in ("target_high", "target_low", "target_mean"))
    return pd.Series(_dispersion(high, low, mean), index=frame.index, dtype="float64")


def attach_prices(consensus: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Fill each row's missing (or non-positive) price with the latest bundled close.

    The close is the latest on or before the row's as-of date when that date has a day, else the
    latest close at all. Sets ``price_source`` to 'source' or 'close' and ``price_as_of``
    (and ``currency``, when the row had none) from the close used.
    """
    quoted = consensus["price"].to_numpy(dtype="float64", na_value=np.nan)
    own = np.where(np.isfinite(quoted) & (quoted > 0), quoted, np.nan)
    need = pd.Series(np.isnan(own), index=consensus.index, dtype=bool)
    columns: dict[str, Any] = {name: consensus[name] for name in consensus.columns}
    columns["price"] = own
    columns["price_source"] = _strings(np.where(need, -1, 0), ("source",))
    # A dropped price takes its date with it; a close found below brings its own.
    columns["price_as_of"] = consensus["price_as_of"].mask(need)
    out = pd.DataFrame(columns, index=consensus.index)  # one frame at once, as in add_metrics
    if not need.any() or prices.empty:
        return out
    wanted = out.loc[need, ["ticker", "as_of"]].copy()
    if "ticker" in prices.columns:  # only the closes of the rows that need one (a bundle holds 145,000)
        prices = prices[prices["ticker"].isin(wanted["ticker"].unique())]
    closes = conform(prices, PRICES).dropna(subset=["close"])
    closes = closes.loc[closes["close"] > 0, ["ticker", "date", "close", "currency"]].sort_values("date")
    day = pd.to_datetime(wanted["as_of"], format="%Y-%m-%d", errors="coerce")
    wanted["date"] = day.fillna(pd.Timestamp.max.normalize()).astype("datetime64[ns]")
    wanted["_row"] = wanted.index
    matched = pd.merge_asof(
        wanted.sort_values("date"),
        closes.rename(columns={"currency": "close_currency", "date": "close_date"}),
        left_on="date",
        right_on="close_date",
        by="ticker",
        direction="backward",
    ).set_index("_row")
    matched = matched[matched["close"].notna()]
    own_currency = out.loc[matched.index, "currency"]
    # A close in another currency than the row's targets cannot give an upside: leave it out.
    same_unit = (own_currency.isna() | (own_currency == matched["close_currency"])).fillna(False)
    matched = matched[same_unit]
    rows = matched.index
    out.loc[rows, "price"] = matched["close"]
    out.loc[rows, "price_as_of"] = matched["close_date"].dt.strftime("%Y-%m-%d")
    out.loc[rows, "price_source"] = "close"
    out.loc[rows, "currency"] = out.loc[rows, "currency"].fillna(matched["close_currency"])
    return out


def add_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the rating mean, consensus label, upsides, dispersion and coverage to consensus rows.

    The arithmetic runs on numpy arrays and each new column is made once: a Series operation per step costs
    more than the step itself on a table of the S&P 500 (benchmarks/core.py measures it against numpy alone).
    """
    reported = _floats(frame["rating_mean"])
    reported = np.where((reported >= 1) & (reported <= 5), reported, np.nan)
    from_counts, counted = _counted(frame)
    rating = np.where(np.isnan(reported), from_counts, reported)
    basis = np.where(~np.isnan(reported), 0, np.where(np.isnan(from_counts), -1, 1))
    labels = _labels(rating)
    known_total = ~np.isnan(counted)
    totals = pd.arrays.IntegerArray(np.where(known_total, counted, 0).astype("int64"), ~known_total)
    price = _floats(frame["price"])
    targets = {kind: _floats(frame[f"target_{kind}"]) for kind in ("mean", "median", "low", "high")}
    coverage = np.where(targets["mean"] > 0, 0, np.where(pd.isna(labels), 2, 1))
    coverage = np.where(frame["source"].isna().to_numpy(), 2, coverage)
    # One frame built at once (a column assigned at a time costs more than the arithmetic): the given
    # columns in their places, the two it revises replaced, the new ones after them.
    columns: dict[str, Any] = {name: frame[name] for name in frame.columns}
    columns |= {
        "rating_mean": rating,
        "rating_basis": _strings(basis, ("reported", "counts")),
        "consensus": labels,
        "n_analysts": frame["n_analysts"].fillna(pd.Series(totals, index=frame.index)),
        **{f"upside_{kind}": _upside(target, price) for kind, target in targets.items()},
        "target_dispersion": _dispersion(targets["high"], targets["low"], targets["mean"]),
        "coverage": _strings(coverage, (COVERAGE_TARGETS, COVERAGE_RATING, COVERAGE_NONE), na_value=np.nan),
    }
    return pd.DataFrame(columns, index=frame.index)


#: A consensus older than this is marked stale, by the kind of data it comes from (see "Age" above).
STALE_AFTER: dict[str, pd.Timedelta] = {
    "bundle": pd.Timedelta(days=30),
    "store": pd.Timedelta(days=7),
    "live": pd.Timedelta(days=1),
}
#: A price older than this is marked stale, in every kind of data.
STALE_PRICE_AFTER = pd.Timedelta(days=7)


def age_in_days(dates: pd.Series, now: pd.Timestamp) -> pd.Series:
    """Whole days from each ISO day in `dates` to `now` (a UTC moment); NaN for a date without a day."""
    days = pd.to_datetime(dates.where(day_mask(dates)), format="%Y-%m-%d", errors="coerce")
    moment = pd.Timestamp(now)
    today = (moment.tz_convert("UTC").tz_localize(None) if moment.tzinfo else moment).normalize()
    return (today - days).dt.days.astype("float64")


def stale(dates: pd.Series, now: pd.Timestamp, after: pd.Timedelta) -> pd.Series:
    """True where a day of `dates` is more than `after` before `now`; False where unknown or recent."""
    return (age_in_days(dates, now) > after.days).fillna(False).astype(bool)


#: A snapshot without its own price is priced by a close at most this much older than its day.
HISTORY_CLOSE_MAX_AGE = pd.Timedelta(days=7)


def snapshot_days(history: pd.DataFrame) -> pd.Series:
    """Each snapshot's day: its as-of day, else the UTC day it was observed (a year-only as-of); NaT if neither."""
    as_of = history["as_of"].astype("string")
    day = pd.to_datetime(as_of.where(day_mask(as_of)), format="%Y-%m-%d")
    observed = pd.to_datetime(history["observed_at"], errors="coerce", utc=True).dt.tz_localize(None).dt.normalize()
    return day.fillna(observed)


def history_metrics(history: pd.DataFrame, prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Consensus snapshots (``CONSENSUS_HISTORY``) with label, upside and their ``day``.

    A snapshot without its own price is priced like a table row (:func:`attach_prices`), but only by
    a close at most :data:`HISTORY_CLOSE_MAX_AGE` older than the snapshot's day: a close weeks
    older says little about that day's upside, so the upside stays unknown instead. Without
    `prices`, only the sources' own prices count.
    """
    rows = conform(history, CONSENSUS_HISTORY).reset_index(drop=True)
    rows["day"] = snapshot_days(rows)
    priced = attach_prices(rows, prices if prices is not None else PRICES.empty())
    close_day = pd.to_datetime(priced["price_as_of"], format="%Y-%m-%d", errors="coerce")
    recent = ((priced["day"] - close_day) <= HISTORY_CLOSE_MAX_AGE).fillna(False).astype(bool)
    too_old = (priced["price_source"] == "close").fillna(False).astype(bool) & ~recent
    priced.loc[too_old, ["price", "price_as_of", "price_source"]] = pd.NA
    return add_metrics(priced)


def mark_primary(frame: pd.DataFrame) -> pd.Series:
    """Boolean Series: the primary row of each ticker, by :data:`PRIMARY_RULE`."""
    has_target = (frame["target_mean"] > 0).fillna(False)
    day_precise = day_mask(frame["as_of"])
    ranks = frame["source"].map({s: i for i, s in enumerate(SOURCE_PRIORITY)})
    priority = ranks.astype("float64").fillna(len(SOURCE_PRIORITY))  # float: an empty map stays text-typed
    ranking = pd.DataFrame(
        {
            "ticker": frame["ticker"],
            "has_target": has_target.astype(int),
            "day_precise": day_precise.astype(int),
            "as_of": frame["as_of"].fillna(""),
            "priority": -priority,
        },
        index=frame.index,
    ).sort_values(["ticker", "has_target", "day_precise", "as_of", "priority"], ascending=False)
    first = ~ranking["ticker"].duplicated()
    return first.reindex(frame.index).astype(bool)


def consensus_table(
    consensus: pd.DataFrame,
    prices: pd.DataFrame,
    universe: pd.DataFrame | None = None,
    tickers: list[str] | None = None,
) -> pd.DataFrame:
    """The full consensus-and-upside frame (schema ``CONSENSUS_TABLE``).

    One row per ticker and source. With `tickers`, rows come in that order (the primary source
    first) and a ticker without any consensus still gets one row, ``coverage == 'none'``, priced
    from its latest close where there is one, so it can be listed and explained rather than dropped.
    """
    rows = conform(consensus, CONSENSUS)
    if tickers is not None:
        tickers = list(dict.fromkeys(tickers))  # one placeholder per ticker, however often it is asked for
        rows = rows[rows["ticker"].isin(tickers)]
        missing = [t for t in tickers if t not in set(rows["ticker"])]
        if missing:
            placeholders = conform(pd.DataFrame({"ticker": missing}), CONSENSUS)
            rows = pd.concat([rows, placeholders], ignore_index=True)
    rows = rows.reset_index(drop=True)
    rows = attach_prices(rows, prices)
    rows = add_metrics(rows)
    rows["is_primary"] = mark_primary(rows)
    if universe is not None and not universe.empty:
        rows["name"] = rows["ticker"].map(universe.set_index("ticker")["name"])
    order = {t: i for i, t in enumerate(tickers)} if tickers is not None else None
    rows["_order"] = rows["ticker"].map(order) if order is not None else rows["ticker"]
    rows = rows.sort_values(["_order", "is_primary", "as_of"], ascending=[True, False, False], kind="stable")
    return conform(rows.drop(columns="_order").reset_index(drop=True), CONSENSUS_TABLE)


def primary_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One row per ticker: the primary source's."""
    return table[table["is_primary"]].reset_index(drop=True)
