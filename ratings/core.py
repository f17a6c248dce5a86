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

from dataclasses import dataclass

import numpy as np
import pandas as pd

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


def rating_mean_from_counts(frame: pd.DataFrame) -> pd.Series:
    """Mean score of the Strong Buy..Strong Sell counts on the 1-5 scale; NaN without counts."""
    counts = frame[list(COUNT_COLUMNS)].astype("float64")
    scores = pd.Series(COUNT_SCORES, dtype="float64")
    total = counts.sum(axis=1, min_count=1)
    weighted = (counts * scores).sum(axis=1, min_count=1)
    return (weighted / total.where(total > 0)).astype("float64")


def label_from_rating_mean(rating_mean: pd.Series) -> pd.Series:
    """Consensus label for each 1-5 rating mean; <NA> outside [1, 5] or when unknown."""
    values = pd.to_numeric(rating_mean, errors="coerce").astype("float64")
    labels = pd.cut(values, bins=list(BAND_EDGES), labels=list(LABELS), right=True, include_lowest=True)
    return labels.astype("string")


def label_from_counts(frame: pd.DataFrame) -> pd.Series:
    """Consensus label from the Strong Buy..Strong Sell counts alone."""
    return label_from_rating_mean(rating_mean_from_counts(frame))


def implied_upside(target: pd.Series, price: pd.Series) -> pd.Series:
    """``target / price - 1``; NaN where either is missing, not finite or not positive."""
    t = pd.to_numeric(target, errors="coerce").astype("float64")
    p = pd.to_numeric(price, errors="coerce").astype("float64")
    usable = np.isfinite(t) & np.isfinite(p) & (t > 0) & (p > 0)
    upside = t.where(usable) / p.where(usable) - 1
    return upside.where(np.isfinite(upside)).astype("float64")  # a price near 0 must not give inf


def target_dispersion(frame: pd.DataFrame) -> pd.Series:
    """``(target_high - target_low) / target_mean``; NaN unless all three are known and sane."""
    high, low, mean = (frame[c].astype("float64") for c in ("target_high", "target_low", "target_mean"))
    usable = (mean > 0) & (low > 0) & (high >= low)
    spread = (high - low) / mean
    return spread.where(usable & np.isfinite(spread)).astype("float64")


def attach_prices(consensus: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Fill each row's missing (or non-positive) price with the latest bundled close.

    The close is the latest on or before the row's as-of date when that date has a day, else the
    latest close at all. Sets ``price_source`` to 'source' or 'close' and ``price_as_of``
    (and ``currency``, when the row had none) from the close used.
    """
    out = consensus.copy()
    quoted = out["price"].astype("float64")
    own = quoted.where(np.isfinite(quoted) & (quoted > 0))
    out["price"] = own
    out["price_source"] = pd.Series(pd.NA, index=out.index, dtype="string").mask(own.notna(), "source")
    need = own.isna()
    # A dropped price takes its date with it; a close found below brings its own.
    out["price_as_of"] = out["price_as_of"].mask(need)
    if not need.any() or prices.empty:
        return out
    closes = conform(prices, PRICES).dropna(subset=["close"])
    closes = closes.loc[closes["close"] > 0, ["ticker", "date", "close", "currency"]].sort_values("date")
    wanted = out.loc[need, ["ticker", "as_of"]].copy()
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
    """Add the rating mean, consensus label, upsides, dispersion and coverage to consensus rows."""
    out = frame.copy()
    reported = out["rating_mean"].where(out["rating_mean"].between(1, 5))
    from_counts = rating_mean_from_counts(out)
    out["rating_mean"] = reported.fillna(from_counts)
    out["rating_basis"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out.loc[from_counts.notna() & reported.isna(), "rating_basis"] = "counts"
    out.loc[reported.notna(), "rating_basis"] = "reported"
    out["consensus"] = label_from_rating_mean(out["rating_mean"])
    counted = out[list(COUNT_COLUMNS)].sum(axis=1, min_count=1)
    out["n_analysts"] = out["n_analysts"].fillna(counted.astype("Int64"))
    for kind in ("mean", "median", "low", "high"):
        out[f"upside_{kind}"] = implied_upside(out[f"target_{kind}"], out["price"])
    out["target_dispersion"] = target_dispersion(out)
    has_target = out["target_mean"] > 0
    out["coverage"] = np.where(
        has_target.fillna(False), COVERAGE_TARGETS,
        np.where(out["consensus"].notna(), COVERAGE_RATING, COVERAGE_NONE),
    )  # fmt: skip
    out.loc[out["source"].isna(), "coverage"] = COVERAGE_NONE
    return out


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
