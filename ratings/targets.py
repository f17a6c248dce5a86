"""Price targets against the prices that followed, measured as Bradshaw, Brown and Huang (2013) measure
them, and the bias-aware upside: a consensus's implied upside beside the historical gap of implied over
realised returns, from this data where it has enough matured targets, else the published figure.

Vectorised like ``ratings.track_record``, whose entry rule and closes it shares; a target whose 12
months have not passed by the last close is pending, never counted.

Price targets
    A target is the firm's new price target given with an action (the local store keeps Yahoo's from
    2025 on; the bundled 2025-02-24 recording has none, so there is nothing to check in it). It is read
    as a 12-month forecast from the first close after the action, whatever the firm does meanwhile:
    implied return = target / entry close − 1. Once 12 months have passed by the last close it has
    matured. It was met at the end when the last close on or before the 12 months' end is at or past
    the target (at or above a target above the entry close, at or below one beneath it), and met at
    some time within them when any close of those 12 months was. Realised return = that end close /
    entry close − 1, and the gap = implied − realised return. Targets are in the prices of their day;
    the store's closes are Yahoo's as traded, adjusted for splits only, so a split between a target and
    the last close would make it look far off: the checks show their counts so that such a case stands out.

Bias-aware upside
    Beside a consensus's implied upside, the historical gap of implied over realised returns: the mean
    gap of the data's own matured targets, the ticker's when it has at least 30 of them, else every
    ticker's when they have at least 30, else the published figure (Bradshaw, Brown & Huang 2013:
    about 15 points), labelled as such. Below 30 a mean gap moves too much with each target to say
    anything (its standard error is the gaps' spread over √n). The upside less that gap is shown as a
    measure of how optimistic targets have been, never as a forecast of the stock.

Published figures
    Bradshaw, Brown & Huang (2013), "Do sell-side analysts exhibit differential target price forecasting
    ability?", Review of Accounting Studies 18, on 2000-2009 data: implied target returns exceeded the
    realised returns by about 15 percentage points; 38% of targets were met at the end of 12 months and
    64% at some time within them. Asquith, Mikhail & Au (2005), "Information content of equity analyst
    reports", Journal of Financial Economics 75: targets were met slightly over half of the time.
    TipRanks scores analysts by success rate, average return and statistical significance over a
    one-year holding window (a Buy opens a position; a Hold, or the window's end, closes it). These
    are quoted as published, without their sample sizes or intervals; the figures computed here come
    with both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import Schema, columns, conform
from .track_record import CALLS, CloseSeries, wilson_interval

TARGET_HORIZON_MONTHS = 12
MIN_MATURED_TARGETS = 30
MATURED, TARGET_PENDING, TARGET_NO_PRICE = "matured", "pending", "no price"

#: The published gap of implied over realised target returns (Bradshaw, Brown & Huang 2013), a fraction.
PUBLISHED_GAP = 0.15
PUBLISHED_SOURCE = "Bradshaw, Brown & Huang (2013), Review of Accounting Studies, 2000-2009 data"


@dataclass(frozen=True)
class PublishedFigure:
    """A figure quoted from a study, with what it measures and where it comes from."""

    measure: str
    value: str
    study: str
    data: str


PUBLISHED_FIGURES: tuple[PublishedFigure, ...] = (
    PublishedFigure("implied target return − realised return", "about 15 points", "Bradshaw, Brown & Huang 2013",
                    "2000-2009"),
    PublishedFigure("targets met at the end of 12 months", "38%", "Bradshaw, Brown & Huang 2013", "2000-2009"),
    PublishedFigure("targets met at some time within 12 months", "64%", "Bradshaw, Brown & Huang 2013", "2000-2009"),
    PublishedFigure("targets met", "slightly over half", "Asquith, Mikhail & Au 2005", "not quoted here"),
)  # fmt: skip

TARGETS = Schema(
    "targets",
    columns(
        """
        ticker           text   Yahoo-style symbol
        firm             text   the research firm (variants merged)
        graded_at        text   ISO timestamp (UTC) of the action that gave the target
        price_target     float  the target
        status           text   'matured', 'pending' or 'no price'
        entry_date       day    the first close after the action
        entry_close      float  that close
        window_end       day    entry_date + 12 months
        implied_return   float  price_target / entry_close - 1
        end_close        float  the last close on or before window_end; NaN unless matured
        realised_return  float  end_close / entry_close - 1
        gap              float  implied_return - realised_return
        met_end          flag   matured, and the end close is at or past the target
        met_within       flag   matured, and some close of the 12 months was at or past the target
        """
    ),
)

_RATE = (
    "count  {0}\n{1}_rate  float  {0} / matured\n{1}_low  float  Wilson 95% lower bound\n{1}_high  float  upper bound"
)
TARGET_RECORD = Schema(
    "target_record",
    columns(
        "\n".join(
            [
                "matured  count  targets whose 12 months have passed by the last close",
                "pending  count  targets whose 12 months have not",
                "met_end  " + _RATE.format("targets met at the end of the 12 months", "met_end"),
                "met_within  " + _RATE.format("targets met at some time within them", "met_within"),
                "mean_gap  float  mean of implied - realised return",
                "median_gap  float  median of the same",
            ]
        )
    ),
)


def check_targets(calls: pd.DataFrame, closes: pd.DataFrame, *, months: int = TARGET_HORIZON_MONTHS) -> pd.DataFrame:
    """Every action of `calls` (``CALLS``) with a price target, checked against `closes` (``TARGETS``)."""
    rows = conform(calls, CALLS)
    rows = rows[(rows["price_target"] > 0).fillna(False)].reset_index(drop=True)
    series = CloseSeries.of(closes)
    code = series.code(rows["ticker"])
    entry_day = rows["entry_date"].to_numpy("datetime64[D]").astype("int64")
    entered = rows["entry_date"].notna().to_numpy()
    entry = np.where(entered, series.at_or_after(code, entry_day), -1)
    window_end = rows["entry_date"] + pd.DateOffset(months=months)
    end_day = window_end.to_numpy("datetime64[D]").astype("int64")
    last_day = series.day_number(series.at_or_before(code, np.full(len(rows), np.iinfo("int64").max // 4)))
    matured = (entry >= 0) & (last_day >= end_day) & entered
    end = np.where(matured, series.at_or_before(code, end_day), -1)

    target, entry_close = rows["price_target"].to_numpy("float64"), series.close(entry)
    end_close = np.where(matured, series.close(end), np.nan)
    upward = target >= entry_close
    highest, lowest = _extremes(series.closes, entry + 1, end + 1, matured)
    status = np.select([entry < 0, ~matured], [TARGET_NO_PRICE, TARGET_PENDING], default=MATURED)
    implied = target / entry_close - 1
    realised = end_close / entry_close - 1
    out = rows.assign(
        status=status,
        entry_close=entry_close,
        window_end=window_end,
        implied_return=implied,
        end_close=end_close,
        realised_return=realised,
        gap=implied - realised,
        met_end=matured & np.where(upward, end_close >= target, end_close <= target),
        met_within=matured & np.where(upward, highest >= target, lowest <= target),
    )
    return conform(out, TARGETS)


def _extremes(values: np.ndarray, start: np.ndarray, stop: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, ...]:
    """The highest and lowest of ``values[start:stop]`` for each pair (NaN where not `use`), in one pass each."""
    if not use.any():
        return np.full(len(start), np.nan), np.full(len(start), np.nan)
    # reduceat over interleaved (start, stop) pairs: its even results are the reductions over [start, stop).
    # A sentinel past the end keeps a stop at len(values) a valid index.
    bounds = np.column_stack([np.where(use, start, 0), np.where(use, stop, 1)]).ravel()
    highest = np.fmax.reduceat(np.append(values, -np.inf), bounds)[::2]
    lowest = np.fmin.reduceat(np.append(values, np.inf), bounds)[::2]
    return np.where(use, highest, np.nan), np.where(use, lowest, np.nan)


def target_record(targets: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Shares of matured targets met (at the end, within), with Wilson intervals, and the mean gap (``TARGET_RECORD``
    after the `by` columns); one row per group, or one row in all when `by` is empty."""
    rows = conform(targets, TARGETS).assign(
        _all="all", _matured=lambda f: f["status"] == MATURED, _pending=lambda f: f["status"] == TARGET_PENDING
    )
    keys = list(by) or ["_all"]
    grouped = rows.assign(gap=rows["gap"].where(rows["_matured"])).groupby(keys, sort=True, observed=True)
    out = grouped.agg(
        matured=("_matured", "sum"), pending=("_pending", "sum"), met_end=("met_end", "sum"),
        met_within=("met_within", "sum"), mean_gap=("gap", "mean"), median_gap=("gap", "median"),
    )  # fmt: skip
    if out.empty and not by:
        out = pd.DataFrame({name: [0] for name in ("matured", "pending", "met_end", "met_within")})
    for name in ("met_end", "met_within"):
        out[f"{name}_rate"] = (out[name] / out["matured"]).where(out["matured"] > 0)
        out[f"{name}_low"], out[f"{name}_high"] = wilson_interval(out[name].to_numpy(), out["matured"].to_numpy())
    figures = conform(out.reset_index(drop=not by), TARGET_RECORD, keep_extra=True)
    return figures[[*by, *TARGET_RECORD.names]]


@dataclass(frozen=True)
class TargetGap:
    """The historical gap of implied over realised target returns, and what it rests on.

    ``basis`` is 'ticker' or 'data' (the mean gap of that many matured targets in the data) or
    'published' (:data:`PUBLISHED_GAP`, from :data:`PUBLISHED_SOURCE`; ``matured`` is then the data's
    count, too few to use).
    """

    gap: float
    basis: str
    matured: int
    source: str


def historical_gap(
    targets: pd.DataFrame, ticker: str | None = None, *, minimum: int = MIN_MATURED_TARGETS
) -> TargetGap:
    """The gap to show beside an implied upside (see "Bias-aware upside")."""
    rows = conform(targets, TARGETS)
    matured = rows[rows["status"] == MATURED]
    own = matured[matured["ticker"] == ticker] if ticker is not None else matured.iloc[:0]
    if len(own) >= minimum:
        return TargetGap(float(own["gap"].mean()), "ticker", len(own), f"{len(own):,} matured targets on {ticker}")
    if len(matured) >= minimum:
        return TargetGap(float(matured["gap"].mean()), "data", len(matured), f"{len(matured):,} matured targets")
    return TargetGap(PUBLISHED_GAP, "published", len(matured), PUBLISHED_SOURCE)


@dataclass(frozen=True)
class BiasAwareUpside:
    """A raw implied upside, the historical gap beside it, and the upside less that gap (not a forecast)."""

    implied: float
    gap: TargetGap

    @property
    def less_gap(self) -> float:
        return self.implied - self.gap.gap if np.isfinite(self.implied) else float("nan")


def bias_aware_upside(implied: float, targets: pd.DataFrame, ticker: str | None = None) -> BiasAwareUpside:
    """`implied` (a fraction; NaN for unknown) beside the historical gap of `targets` (``TARGETS``)."""
    return BiasAwareUpside(float(implied), historical_gap(targets, ticker))
