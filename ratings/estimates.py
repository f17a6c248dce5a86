"""Analysts' estimates in figures: which way EPS estimates move, how far apart they are, how often they were beaten.

Everything here is vectorised over the frames of Yahoo's analysis tab as a source gives them
(``ESTIMATES``, ``EPS_TREND``, ``EPS_REVISIONS`` and ``SURPRISES`` in :mod:`ratings.schema`) and keeps
unknowns unknown: an unknown input gives an unknown figure, never 0. Each figure compares values of
one ticker, period and fetch; a table shows each ticker's latest fetch.

Revision momentum
    ``(eps_current - eps_30d_ago) / |eps_30d_ago|``, and the same against 90 days ago, as a fraction:
    +0.02 means analysts raised the period's mean EPS estimate by 2% over the month. Dividing by the
    absolute value keeps the sign meaning "raised" for a loss too: an estimate narrowing from -0.30
    to -0.20 a share is +33%. Unknown when either estimate is unknown, or when the older one is
    within ``NEAR_ZERO`` of zero, where the ratio would say more about the denominator than about
    the analysts.

Net revisions
    ``(up_30d - down_30d) / eps_analysts``: the analysts who raised their EPS estimate in the last 30
    days less those who lowered it, over the analysts behind the estimate. -1 when every analyst cut,
    +1 when every one raised, 0 when raises and cuts balance. Unknown without a count of analysts.

Dispersion
    ``(high - low) / |mean|`` of the estimates, for EPS and for revenue: how far apart analysts are,
    relative to their mean (the estimates' counterpart of the price targets' dispersion; Yahoo gives
    no per-analyst estimates, so no standard deviation is possible). Unknown when the mean is within
    ``NEAR_ZERO`` of zero.

Beat rate
    Reported quarters whose actual EPS was above the mean estimate, over the quarters that have both,
    across every quarter a source recorded (Yahoo gives the last four; a store that has fetched for a
    year holds more), each quarter counted once, as its latest fetch gives it. A quarter that only
    met the estimate is not a beat. ``beat_quarters`` says how many quarters the rate rests on; with
    none the rate is unknown.

Near zero
    ``NEAR_ZERO`` is 0.01 of the currency unit, a cent a share: below it an EPS is break-even for
    any practical purpose, and a ratio over it is noise.

Currency
    Estimates are in the currency Yahoo names for them, the company's financial (reporting)
    currency, which can differ from the quote currency of its price and targets. No figure here
    sets amounts in two currencies against each other: an EPS trend in another currency than the
    estimates' is left out of the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .schema import EPS_REVISIONS, EPS_TREND, ESTIMATES, SURPRISES, Schema, columns, conform

#: Below this absolute value (in the currency unit: a cent) a denominator leaves a ratio unknown.
NEAR_ZERO = 0.01
#: Yahoo's estimate periods in their natural order: this quarter, next quarter, this year, next year.
PERIOD_ORDER: tuple[str, ...] = ("0q", "+1q", "0y", "+1y")
#: Each period as the CSV contract writes it: a word, since a cell starting with '+' is guarded as a formula.
HORIZONS: dict[str, str] = dict(
    zip(PERIOD_ORDER, ("this_quarter", "next_quarter", "this_year", "next_year"), strict=True)
)

_KEY = ("ticker", "observed_at", "period")
_BY_NAME = {c.name: c for schema in (ESTIMATES, EPS_TREND, EPS_REVISIONS, SURPRISES) for c in schema.columns}

_METRICS = columns(
    """
    revision_30d        float  (eps_current - eps_30d_ago) / |eps_30d_ago|: the EPS estimate's move over 30 days
    revision_90d        float  (eps_current - eps_90d_ago) / |eps_90d_ago|: its move over 90 days
    net_revisions_30d   float  (up_30d - down_30d) / eps_analysts: -1 every analyst cut, +1 every analyst raised
    eps_dispersion      float  (eps_high - eps_low) / |eps_mean|: how far apart the EPS estimates are
    revenue_dispersion  float  (revenue_high - revenue_low) / |revenue_mean|: how far apart the revenue estimates are
    """
)
_HORIZON = columns(
    """
    horizon  text  the period in words: this_quarter, next_quarter, this_year, next_year (Yahoo's 0q, +1q, 0y, +1y)
    """
)
_BEATS = columns(
    """
    beat_rate      float  beats / beat_quarters: how often the reported EPS was above the estimate
    beats          count  reported quarters whose actual EPS was above the mean estimate
    beat_quarters  count  reported quarters with both an estimate and an actual (each quarter once); 0 if none
    first_quarter  text   the earliest of those quarters (ISO day it ended)
    last_quarter   text   the latest of those quarters
    """
)

#: The derived figures of each ticker, period and fetch.
ESTIMATE_METRICS = Schema("estimate_metrics", (*(_BY_NAME[c] for c in _KEY), *_METRICS), key=_KEY)
#: How often each ticker beat its estimates.
BEAT_RATES = Schema("beat_rates", (_BY_NAME["ticker"], *_BEATS), key=("ticker",))

#: ``ratings estimates --format csv``'s columns, in this order: a public contract, like ``CSV_COLUMNS``.
ESTIMATES_CSV_COLUMNS: tuple[str, ...] = (
    "ticker", "horizon", "end_date", "currency",
    "eps_mean", "eps_low", "eps_high", "eps_analysts", "eps_year_ago", "eps_growth",
    "revenue_mean", "revenue_low", "revenue_high", "revenue_analysts", "revenue_year_ago", "revenue_growth",
    "eps_current", "eps_7d_ago", "eps_30d_ago", "eps_60d_ago", "eps_90d_ago",
    "up_7d", "down_7d", "up_30d", "down_30d",
    "revision_30d", "revision_90d", "net_revisions_30d", "eps_dispersion", "revenue_dispersion",
    "beat_rate", "beats", "beat_quarters", "observed_at",
)  # fmt: skip
_ALL = {**_BY_NAME, **{c.name: c for c in (*_HORIZON, *_METRICS, *_BEATS)}}
#: One row per ticker and period of each ticker's latest fetch: the estimates, their trend and
#: revisions, the derived figures and the ticker's beat rate (the first columns are the CSV contract).
ESTIMATES_TABLE = Schema(
    "estimates_table",
    (*(_ALL[c] for c in ESTIMATES_CSV_COLUMNS), *(_ALL[c] for c in ("period", "first_quarter", "last_quarter"))),
    key=("ticker", "period"),
)

_TREND_VALUES = ("eps_current", "eps_7d_ago", "eps_30d_ago", "eps_60d_ago", "eps_90d_ago")
_REVISION_COUNTS = ("up_7d", "down_7d", "up_30d", "down_30d")


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator as floats; unknown where either is, or where |denominator| < NEAR_ZERO."""
    top, bottom = numerator.astype("float64"), denominator.astype("float64")
    return (top / bottom).where(bottom.abs() >= NEAR_ZERO)


def latest_fetch(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of each ticker's newest fetch (``observed_at``) in `frame`, in their order."""
    if frame.empty:
        return frame.reset_index(drop=True)
    newest = frame.groupby("ticker", sort=False)["observed_at"].transform("max")
    return frame[frame["observed_at"] == newest].reset_index(drop=True)


def estimate_metrics(estimates: pd.DataFrame, eps_trend: pd.DataFrame, eps_revisions: pd.DataFrame) -> pd.DataFrame:
    """Revision momentum, net revisions and dispersion (``ESTIMATE_METRICS``) for every row of `estimates`.

    The trend and revisions of the same ticker, fetch and period are matched to it; a trend in another
    currency than the estimates' is not (nothing is compared across currencies).
    """
    rows = _joined(estimates, eps_trend, eps_revisions)
    out = rows[list(_KEY)].copy()
    out["revision_30d"] = _ratio(rows["eps_current"] - rows["eps_30d_ago"], rows["eps_30d_ago"].abs())
    out["revision_90d"] = _ratio(rows["eps_current"] - rows["eps_90d_ago"], rows["eps_90d_ago"].abs())
    analysts = rows["eps_analysts"].astype("float64")
    net = (rows["up_30d"].astype("float64") - rows["down_30d"].astype("float64")) / analysts
    out["net_revisions_30d"] = net.where(analysts > 0)
    for figure in ("eps", "revenue"):
        spread = rows[f"{figure}_high"] - rows[f"{figure}_low"]
        out[f"{figure}_dispersion"] = _ratio(spread, rows[f"{figure}_mean"].abs())
    return conform(out, ESTIMATE_METRICS)


def _joined(estimates: pd.DataFrame, eps_trend: pd.DataFrame, eps_revisions: pd.DataFrame) -> pd.DataFrame:
    """`estimates` (all its columns) with the matching trend values and revision counts beside them."""
    base = conform(estimates, ESTIMATES).reset_index(drop=True)
    trend = conform(eps_trend, EPS_TREND).rename(columns={"currency": "trend_currency"})
    revisions = conform(eps_revisions, EPS_REVISIONS).drop(columns="currency")
    rows = base.merge(trend, on=list(_KEY), how="left").merge(revisions, on=list(_KEY), how="left")
    other_unit = (
        rows["trend_currency"].notna() & rows["currency"].notna() & (rows["trend_currency"] != rows["currency"])
    )
    rows.loc[other_unit.fillna(False).astype(bool), list(_TREND_VALUES)] = np.nan
    rows["currency"] = rows["currency"].fillna(rows["trend_currency"])
    return rows.drop(columns="trend_currency")


def quarters(surprises: pd.DataFrame) -> pd.DataFrame:
    """Each ticker's reported quarters once, as the latest fetch that recorded it gives them, oldest first."""
    frame = conform(surprises, SURPRISES)
    frame = frame.sort_values(["ticker", "quarter", "observed_at"], kind="stable")
    return frame.drop_duplicates(["ticker", "quarter"], keep="last").reset_index(drop=True)


def beat_rates(surprises: pd.DataFrame) -> pd.DataFrame:
    """How often each ticker's reported EPS beat the estimate (``BEAT_RATES``), over every recorded quarter."""
    frame = quarters(surprises)
    judged = frame[frame["eps_estimate"].notna() & frame["eps_actual"].notna()]
    beat = (judged["eps_actual"] > judged["eps_estimate"]).astype("int64")
    grouped = judged.assign(beat=beat).groupby("ticker", sort=False)
    out = pd.DataFrame(
        {
            "beats": grouped["beat"].sum(),
            "beat_quarters": grouped["beat"].size(),
            "first_quarter": grouped["quarter"].min(),
            "last_quarter": grouped["quarter"].max(),
        }
    )
    tickers = pd.Index(frame["ticker"].drop_duplicates(), name="ticker")
    out = out.reindex(tickers)
    # A ticker whose recorded quarters all lack an estimate or an actual: 0 beats of 0 quarters, rate unknown.
    out[["beats", "beat_quarters"]] = out[["beats", "beat_quarters"]].fillna(0)
    out["beat_rate"] = (out["beats"] / out["beat_quarters"]).where(out["beat_quarters"] > 0)
    return conform(out.reset_index(), BEAT_RATES)


def _period_rank(periods: pd.Series) -> pd.Series:
    return periods.map({p: i for i, p in enumerate(PERIOD_ORDER)}).fillna(len(PERIOD_ORDER))


def estimates_table(
    estimates: pd.DataFrame,
    eps_trend: pd.DataFrame,
    eps_revisions: pd.DataFrame,
    surprises: pd.DataFrame,
    tickers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``ESTIMATES_TABLE``: each ticker's latest fetch of estimates, one row per period (0q, +1q, 0y, +1y),
    with its trend, revisions, derived figures and the ticker's beat rate; in the order of `tickers`
    (all, sorted, by default). A ticker without estimates has no row. ``horizon`` words the period."""
    est = conform(estimates, ESTIMATES)
    if tickers is not None:
        est = est[est["ticker"].isin(list(tickers))]
    est = latest_fetch(est)
    rows = _joined(est, eps_trend, eps_revisions)
    metrics = estimate_metrics(est, eps_trend, eps_revisions)
    rows = rows.merge(metrics, on=list(_KEY), how="left").merge(beat_rates(surprises), on="ticker", how="left")
    order = {t: i for i, t in enumerate(tickers)} if tickers is not None else None
    rank = rows["ticker"].map(order) if order is not None else rows["ticker"]
    rows = rows.assign(horizon=rows["period"].map(HORIZONS).fillna(rows["period"]))
    rows = rows.assign(_ticker=rank, _period=_period_rank(rows["period"]))
    rows = rows.sort_values(["_ticker", "_period"], kind="stable").drop(columns=["_ticker", "_period"])
    return conform(rows.reset_index(drop=True), ESTIMATES_TABLE)


@dataclass(frozen=True)
class TickerEstimates:
    """One ticker's analysis tab: the latest fetch of its estimates, trend and revisions (periods in
    Yahoo's order) and every reported quarter recorded (oldest first)."""

    estimates: pd.DataFrame = field(default_factory=ESTIMATES.empty)
    eps_trend: pd.DataFrame = field(default_factory=EPS_TREND.empty)
    eps_revisions: pd.DataFrame = field(default_factory=EPS_REVISIONS.empty)
    surprises: pd.DataFrame = field(default_factory=SURPRISES.empty)

    @property
    def empty(self) -> bool:
        """Whether the source has no estimate and no earnings history for the ticker."""
        return self.estimates.empty and self.surprises.empty


def ticker_estimates(
    ticker: str,
    estimates: pd.DataFrame,
    eps_trend: pd.DataFrame,
    eps_revisions: pd.DataFrame,
    surprises: pd.DataFrame,
) -> TickerEstimates:
    """`ticker`'s :class:`TickerEstimates` from frames holding any number of tickers and fetches.

    The trend and revisions are those of the fetch that gave the latest estimates, never an older one's.
    """
    own = estimates[estimates["ticker"] == ticker]
    stamp = own["observed_at"].max() if not own.empty else None

    def latest(frame: pd.DataFrame) -> pd.DataFrame:
        rows = frame[(frame["ticker"] == ticker) & (frame["observed_at"] == stamp)]
        rank = _period_rank(rows["period"]).to_numpy()
        return rows.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)

    return TickerEstimates(
        estimates=latest(estimates),
        eps_trend=latest(eps_trend),
        eps_revisions=latest(eps_revisions),
        surprises=quarters(surprises[surprises["ticker"] == ticker]),
    )
