"""Analysts' track record: every rating action scored against what the stock did next, and each firm's
success rate with its sample size and a 95% interval, ranked so that two lucky calls do not top the list.

Everything here is vectorised over frames (no Python loop per action; one lookup per action in sorted
arrays of closes) and keeps unknowns unknown: an action without a price, a window that has not closed
by the last close, or a grade word that is not in the table is counted and named, never scored. The
price-target check and the bias-aware upside are in ``ratings.targets``.

What is scored
    Every analyst action the data lists (upgrade, downgrade, initiation, reiteration) is read by its new
    grade in the firm's own words, through a documented table of 42 words: buy-type (Buy, Outperform,
    Overweight, Strong Buy, Positive, Accumulate, Sector Outperform...), hold-type (Hold, Neutral, Market
    Perform, Equal-Weight, Sector Weight, Peer Perform, In-Line...) or sell-type (Sell, Underperform,
    Underweight, Reduce, Negative, Sector Underperform...). Buy-type and sell-type calls are scored.
    A hold-type call is not scored, but it closes the firm's previous call on that ticker, as TipRanks
    counts them. A grade word the table does not hold is named and its action is not scored: it is
    never guessed. Variants of a firm's name are merged only by a documented list of renames (Cowen &
    Co. became TD Cowen; case and spacing aside, nothing else is merged).

The holding window
    A call is entered at the first close after it: the close of its own day when it was published before
    16:00 New York time, else the next trading day's close; when the data has no close within 7 days
    after the call (before a price series starts, after it ends), the call has no price and is not
    scored. It is held until the end of the window, 12 months after the entry by default (3 and 6 on
    request; the last close on or before that day), or until the same firm's next action on that
    ticker, whichever comes first. A window that has not closed by the last close in the data is
    pending: counted, never scored. A call the firm replaced at the same close has no window and is
    not scored either (superseded).

Returns and success
    Return = exit close / entry close − 1, on split- and dividend-adjusted closes in the bundled data,
    so a split inside a window is not a loss (the local store's closes are Yahoo's, adjusted for splits
    but not dividends: there a dividend counts as a small loss). The benchmark's return is taken over
    the same two days: in the bundled data the equal-weighted average of the 504 S&P 500 members of
    2021 (EW-SP500; members that left the index before 2021 are missing), elsewhere SPY when the data
    has its closes. Excess return = the
    stock's return − the benchmark's. A buy-type call is a success when its excess return is above
    zero; a sell-type call when it is below zero. A call's excess return is counted in its direction:
    a sell's is the benchmark's return minus the stock's, so that for every call more is better.

Success rate and its interval
    Success rate = successes / scored calls, with the Wilson score interval at 95% (z = 1.96)::

        (p + z²/2n ± z √(p(1 − p)/n + z²/4n²)) / (1 + z²/n)

    where p is the success rate and n the number of scored calls. Unlike p ± 1.96 standard errors, it
    stays within 0 to 100% and is wide for few calls: 2 successes of 2 give 100%, but 34% to 100%.

Ranking
    Firms are ranked by the lower bound of that interval, highest first, then by more scored calls,
    then by name. The firm's true success rate lies above that bound with about 97.5% confidence, so a
    firm needs many calls to rank high: 2 successes of 2 (lower bound 34%) rank below 60 of 100 (50%).
    Firms with fewer scored calls than the minimum asked for are left out before ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .firms import canonical_firms
from .grades import BUY, HOLD, SELL, stance
from .schema import PRICES, UPGRADES, Schema, columns, conform

HORIZONS: tuple[int, ...] = (3, 6, 12)  # months
DEFAULT_HORIZON = 12
DEFAULT_MIN_CALLS = 5
MARKET_TIMEZONE, MARKET_CLOSE_HOUR = "America/New_York", 16
MAX_ENTRY_GAP_DAYS = 7  # a call's first close must come within a week, else the data has no price for it
Z95 = 1.959963984540054  # the normal quantile of 97.5%

#: The benchmark of each kind of closes: the bundle's equal-weighted index, else SPY where fetched.
BUNDLE_BENCHMARK, MARKET_BENCHMARK = "EW-SP500", "SPY"

SCORED, PENDING, HELD, SUPERSEDED = "scored", "pending", "hold", "superseded"
NO_PRICE, NO_BENCHMARK, UNKNOWN_GRADE, NO_GRADE = "no price", "no benchmark", "unknown grade", "no grade"
#: Every status of an action, in the order they are decided: the first that applies is the action's.
STATUSES: tuple[str, ...] = (NO_GRADE, UNKNOWN_GRADE, HELD, NO_PRICE, SUPERSEDED, PENDING, NO_BENCHMARK, SCORED)
WINDOW_END, NEXT_ACTION = "window end", "next action"

CALLS = Schema(
    "calls",
    columns(
        """
        ticker            text   Yahoo-style symbol
        firm              text   the research firm, its name's variants merged (ratings.firms)
        firm_as_given     text   the firm's name as the source wrote it
        graded_at         text   ISO timestamp (UTC) of the action
        action            text   Yahoo's action: 'up', 'down', 'init', 'main', 'reit'
        to_grade          text   the new grade in the firm's own words
        stance            text   'buy', 'hold' or 'sell' (ratings.grades); <NA> for a word not in the table
        status            text   one of STATUSES: 'scored', 'pending', 'hold', 'no price', ...
        horizon_months    count  the window's length in months
        entry_date        day    the first close after the action: where the call is entered
        entry_close       float  that close (adjusted)
        window_end        day    entry_date + horizon_months
        exit_date         day    where the call is left: the window's end or the firm's next action, the earlier
        exit_close        float  that close; NaN while pending
        closed_by         text   'window end' or 'next action'; <NA> while pending
        ticker_return     float  exit_close / entry_close - 1
        benchmark         text   the benchmark's symbol; <NA> where the data has none
        benchmark_return  float  the benchmark's return from entry_date to exit_date
        excess_return     float  ticker_return - benchmark_return
        call_return       float  ticker_return in the call's direction (a sell's is negated)
        call_excess       float  excess_return in the call's direction (a sell's is negated)
        scored            flag   a buy- or sell-type call whose window closed, with both returns
        success           flag   scored, and a buy that beat the benchmark or a sell that lagged it
        price_target      float  the firm's new price target with the action; NaN where none
        source            text   who published the action: 'Yahoo Finance'
        """
    ),
)

_RECORD_FIGURES = columns(
    """
    scored_calls   count  scored buy- and sell-type calls
    successes      count  of them, successes
    success_rate   float  successes / scored_calls
    success_low    float  lower bound of the Wilson 95% interval of the success rate
    success_high   float  upper bound of that interval
    mean_excess    float  mean excess return of the calls over the benchmark, in each call's direction
    median_excess  float  median of the same
    mean_return    float  mean return of the calls, in each call's direction
    buy_calls      count  scored buy-type calls
    sell_calls     count  scored sell-type calls
    pending        count  buy- and sell-type calls whose window has not closed by the last close
    first_call     text   ISO day of the first scored call
    last_call      text   ISO day of the last scored call
    """
)

FIRM_RECORD = Schema(
    "firm_record",
    (
        *columns(
            """
            rank            count  1 for the highest lower bound of the interval (see "Ranking")
            firm            text   the research firm
            tickers         text   the tickers of its scored calls, comma-separated
            horizon_months  count  the window's length in months
            """
        ),
        *_RECORD_FIGURES,
        *columns("benchmark  text  the benchmark's symbol"),
    ),
    key=("firm",),
)
#: The public CSV contract of ``ratings track-record``, in this order.
FIRM_CSV_COLUMNS: tuple[str, ...] = tuple(FIRM_RECORD.names)

TICKER_RECORD = Schema(
    "ticker_record",
    (*columns("ticker  text  Yahoo-style symbol\ncalls  text  'buy', 'sell' or 'all': which calls"), *_RECORD_FIGURES),
    key=("ticker", "calls"),
)


@dataclass(frozen=True)
class CloseSeries:
    """Daily closes of many tickers as one sorted array, for lookups by (ticker, day) in one call each."""

    keys: np.ndarray  # int64: the ticker's code in the high 32 bits, the day's number in the low
    closes: np.ndarray
    days: np.ndarray  # datetime64[D]
    codes: dict[str, int]

    @classmethod
    def of(cls, prices: pd.DataFrame) -> CloseSeries:
        rows = conform(prices, PRICES)
        rows = rows[rows["ticker"].notna() & np.isfinite(rows["close"]) & (rows["close"] > 0) & rows["date"].notna()]
        codes = {str(t): i for i, t in enumerate(sorted(rows["ticker"].unique()))}
        code = rows["ticker"].map(codes).to_numpy("int64")
        day = rows["date"].to_numpy("datetime64[D]")
        keys = _key(code, day.astype("int64"))
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], rows["close"].to_numpy("float64")[order], day[order], codes)

    def code(self, tickers: pd.Series) -> np.ndarray:
        return tickers.map(self.codes).fillna(-1).to_numpy("int64")

    def at_or_after(self, code: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Index of each ticker's first close on or after `day` (day numbers); -1 where there is none."""
        pos = np.searchsorted(self.keys, _key(code, day), side="left")
        return self._same_ticker(pos, code)

    def at_or_before(self, code: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Index of each ticker's last close on or before `day` (day numbers); -1 where there is none."""
        pos = np.searchsorted(self.keys, _key(code, day), side="right") - 1
        return self._same_ticker(pos, code)

    def _same_ticker(self, pos: np.ndarray, code: np.ndarray) -> np.ndarray:
        inside = (pos >= 0) & (pos < len(self.keys)) & (code >= 0)
        found = self.keys[np.clip(pos, 0, max(len(self.keys) - 1, 0))] >> 32 if len(self.keys) else pos
        return np.where(inside & (found == code), pos, -1)

    def day_number(self, index: np.ndarray) -> np.ndarray:
        """The day number of each close `index` points at; a huge number where it is -1 (no close)."""
        numbers = self.days.astype("int64")[np.clip(index, 0, None)] if len(self.days) else index
        return np.where(index >= 0, numbers, _NO_DAY)

    def close(self, index: np.ndarray) -> np.ndarray:
        values = self.closes[np.clip(index, 0, None)] if len(self.closes) else index.astype("float64")
        return np.where(index >= 0, values, np.nan)


_DAY_OFFSET = 1 << 30  # day numbers (days since 1970) made positive, so that they fit the low 32 bits
_NO_DAY = np.iinfo("int64").max // 4


def _key(code: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (code.astype("int64") << 32) | np.clip(day.astype("int64") + _DAY_OFFSET, 0, (1 << 32) - 1)


def _days(numbers: np.ndarray) -> pd.Series:
    """Day numbers as days; NaT for the no-day marker."""
    valid = numbers != _NO_DAY
    return pd.Series(np.where(valid, numbers, 0).astype("datetime64[D]")).where(valid).astype("datetime64[ns]")


def entry_day_numbers(graded_at: pd.Series) -> np.ndarray:
    """The first trading day whose close comes after each action (as a day number): its own day in New
    York before 16:00, else the next day; the no-day marker where the time is unknown."""
    when = pd.to_datetime(graded_at, utc=True, errors="coerce", format="ISO8601")
    local = when.dt.tz_convert(MARKET_TIMEZONE)
    day = local.dt.tz_localize(None).dt.normalize() + pd.to_timedelta(
        (local.dt.hour >= MARKET_CLOSE_HOUR).astype("int64"), unit="D"
    )
    numbers = day.to_numpy("datetime64[D]").astype("int64")
    return np.where(day.notna().to_numpy(), numbers, _NO_DAY)


def score_calls(
    actions: pd.DataFrame, closes: pd.DataFrame, *, benchmark: str | None, horizon_months: int = DEFAULT_HORIZON
) -> pd.DataFrame:
    """Every action of `actions` (``UPGRADES``) scored against `closes` (``PRICES``, adjusted): ``CALLS``.

    `benchmark` is a ticker of `closes` (None: no benchmark, so nothing is scored); the rules are the
    module's: entry at the first close after the action, exit at the window's end or the firm's next
    action on the ticker, whichever comes first, pending until the window closes.
    """
    rows = conform(actions, UPGRADES)
    rows = rows[rows["ticker"].notna() & rows["firm"].notna() & rows["graded_at"].notna()]
    rows = rows.assign(firm_as_given=rows["firm"], firm=canonical_firms(rows["firm"]))
    rows = rows.sort_values(["ticker", "firm", "graded_at"], kind="stable").reset_index(drop=True)
    series = CloseSeries.of(closes)
    code = series.code(rows["ticker"])
    day = entry_day_numbers(rows["graded_at"])

    first = series.at_or_after(code, day)  # the first close on or after the action's day, however late
    entry = np.where(series.day_number(first) - day <= MAX_ENTRY_GAP_DAYS, first, -1)
    entry_day = series.day_number(entry)
    same_desk = (rows["ticker"].shift(-1) == rows["ticker"]) & (rows["firm"].shift(-1) == rows["firm"])
    has_next = same_desk.fillna(False).to_numpy(bool)
    next_day = np.where(has_next, np.roll(day, -1), _NO_DAY)
    next_close = np.where(has_next, np.roll(first, -1), -1)

    window_end = _days(entry_day) + pd.DateOffset(months=horizon_months)
    end_day = np.where(entry >= 0, window_end.to_numpy("datetime64[D]").astype("int64"), _NO_DAY)
    last_day = series.day_number(series.at_or_before(code, np.full(len(rows), _NO_DAY)))
    by_next = has_next & (next_day <= end_day)
    exit_ = np.where(by_next, next_close, np.where(last_day >= end_day, series.at_or_before(code, end_day), -1))
    superseded = (entry >= 0) & by_next & (next_close == entry)
    closed = (entry >= 0) & (exit_ >= 0) & ~superseded

    entry_close, exit_close = series.close(entry), np.where(closed, series.close(exit_), np.nan)
    ticker_return = exit_close / entry_close - 1
    bench_return = _benchmark_return(series, benchmark, entry_day, np.where(closed, series.day_number(exit_), _NO_DAY))
    excess = ticker_return - bench_return

    stances = stance(rows["to_grade"])
    direction = stances.map({BUY: 1.0, SELL: -1.0}).astype("float64").to_numpy()
    conditions = [
        rows["to_grade"].isna().to_numpy(),
        stances.isna().to_numpy(),
        (stances == HOLD).fillna(False).to_numpy(bool),
        entry < 0,
        superseded,
        ~closed,
        np.isnan(excess),
    ]
    status = np.select(conditions, list(STATUSES[:-1]), default=SCORED)
    scored = status == SCORED
    out = rows.assign(
        stance=stances,
        status=status,
        horizon_months=horizon_months,
        entry_date=_days(entry_day),
        entry_close=entry_close,
        window_end=window_end.where(entry >= 0),
        exit_date=_days(np.where(closed, series.day_number(exit_), _NO_DAY)),
        exit_close=exit_close,
        closed_by=pd.Series(np.where(by_next, NEXT_ACTION, WINDOW_END)).where(closed),
        ticker_return=ticker_return,
        benchmark=pd.Series(benchmark if benchmark in series.codes else pd.NA, index=rows.index, dtype="string"),
        benchmark_return=bench_return,
        excess_return=excess,
        call_return=ticker_return * direction,
        call_excess=excess * direction,
        scored=scored,
        success=scored & (excess * np.nan_to_num(direction) > 0),
        price_target=rows["current_price_target"],
    )
    return conform(out, CALLS)


def _benchmark_return(series: CloseSeries, benchmark: str | None, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The benchmark's return between its last closes on or before `start` and `end` (each within a week)."""
    if benchmark not in series.codes:
        return np.full(len(start), np.nan)
    code = np.full(len(start), series.codes[str(benchmark)], dtype="int64")
    at_start, at_end = series.at_or_before(code, start), series.at_or_before(code, end)
    near = (start - series.day_number(at_start) <= MAX_ENTRY_GAP_DAYS) & (
        end - series.day_number(at_end) <= MAX_ENTRY_GAP_DAYS
    )
    known = near & (at_start >= 0) & (at_end >= 0) & (start != _NO_DAY) & (end != _NO_DAY)
    return np.where(known, series.close(at_end) / series.close(at_start) - 1, np.nan)


def scoring_closes(adjusted: pd.DataFrame, prices: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The closes to score with and their benchmark: the adjusted closes where the data has them (the
    bundle, with EW-SP500), else the daily closes (the store's), with SPY where they hold it; None: none."""
    closes = adjusted if not adjusted.empty else prices
    held = set(closes["ticker"].dropna())
    benchmark = next((b for b in (BUNDLE_BENCHMARK, MARKET_BENCHMARK) if b in held), None)
    return closes, benchmark


def wilson_interval(successes: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of successes / n (see "Success rate and its interval"); NaN where n is 0."""
    k, total = np.asarray(successes, dtype="float64"), np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / total
        shrink = 1 + z**2 / total
        centre = (p + z**2 / (2 * total)) / shrink
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / shrink
    usable = total > 0
    return np.where(usable, np.clip(centre - half, 0, 1), np.nan), np.where(
        usable, np.clip(centre + half, 0, 1), np.nan
    )


def _figures(calls: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The ``_RECORD_FIGURES`` of `calls` grouped by `keys`, one row per group with a scored call."""
    scored = calls[calls["scored"]].assign(
        is_buy=lambda f: f["stance"] == BUY,
        is_sell=lambda f: f["stance"] == SELL,
        day=lambda f: f["graded_at"].str[:10],
    )
    grouped = scored.groupby(keys, sort=False, observed=True, dropna=False)
    out = grouped.agg(
        scored_calls=("success", "size"), successes=("success", "sum"), mean_excess=("call_excess", "mean"),
        median_excess=("call_excess", "median"), mean_return=("call_return", "mean"), buy_calls=("is_buy", "sum"),
        sell_calls=("is_sell", "sum"), first_call=("day", "min"), last_call=("day", "max"),
    )  # fmt: skip
    waiting = calls[calls["status"] == PENDING].groupby(keys, observed=True, dropna=False).size()
    out["pending"] = waiting.reindex(out.index).fillna(0).astype("int64")
    out["success_rate"] = out["successes"] / out["scored_calls"]
    out["success_low"], out["success_high"] = wilson_interval(
        out["successes"].to_numpy(), out["scored_calls"].to_numpy()
    )
    return out.reset_index()


def firm_record(calls: pd.DataFrame, *, min_calls: int = DEFAULT_MIN_CALLS) -> pd.DataFrame:
    """Each firm's record over `calls` (``CALLS``), ranked (see "Ranking"): ``FIRM_RECORD``.

    Only firms with at least `min_calls` scored calls are kept; ``rank`` 1 is the best.
    """
    calls = conform(calls, CALLS)
    out = _figures(calls, ["firm"])
    out = out[out["scored_calls"] >= max(min_calls, 1)]
    tickers = calls[calls["scored"]].drop_duplicates(["firm", "ticker"]).sort_values("ticker")
    out["tickers"] = out["firm"].map(tickers.groupby("firm")["ticker"].agg(", ".join))
    out = out.sort_values(["success_low", "scored_calls", "firm"], ascending=[False, False, True], kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    horizons, benchmarks = calls["horizon_months"].dropna(), calls["benchmark"].dropna()
    out["horizon_months"] = horizons.iloc[0] if not horizons.empty else pd.NA
    out["benchmark"] = benchmarks.iloc[0] if not benchmarks.empty else pd.NA
    return conform(out.reset_index(drop=True), FIRM_RECORD)


def firm_ticker_record(calls: pd.DataFrame, *, min_calls: int = DEFAULT_MIN_CALLS) -> pd.DataFrame:
    """Each firm's record on each ticker: ``FIRM_RECORD`` with one row per firm and ticker, ranked likewise."""
    calls = conform(calls, CALLS)
    parts = [firm_record(group, min_calls=min_calls) for _, group in calls.groupby("ticker", sort=True)]
    if not parts:
        return FIRM_RECORD.empty()
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["success_low", "scored_calls", "firm", "tickers"], ascending=[False, False, True, True])
    out["rank"] = np.arange(1, len(out) + 1)
    return conform(out.reset_index(drop=True), FIRM_RECORD)


def ticker_record(calls: pd.DataFrame) -> pd.DataFrame:
    """How all firms' calls together have fared on each ticker: buy-type, sell-type and all (``TICKER_RECORD``)."""
    calls = conform(calls, CALLS)
    by_stance = _figures(calls, ["ticker", "stance"]).rename(columns={"stance": "calls"})
    together = _figures(calls, ["ticker"]).assign(calls="all")
    out = pd.concat([by_stance, together], ignore_index=True)
    order = {BUY: 0, SELL: 1, "all": 2}
    out = out.sort_values(["ticker", "calls"], key=lambda s: s.map(order) if s.name == "calls" else s)
    return conform(out.reset_index(drop=True), TICKER_RECORD)


def status_counts(calls: pd.DataFrame) -> dict[str, int]:
    """How many actions have each status, in the order of :data:`STATUSES` (absent ones left out)."""
    counted = calls["status"].value_counts()
    return {s: int(counted[s]) for s in STATUSES if s in counted.index}


def unpriced_tickers(calls: pd.DataFrame) -> list[str]:
    """Tickers with buy- or sell-type calls of which none has a price in the data (nothing to score them on)."""
    rated = calls[calls["stance"].isin([BUY, SELL])]
    priced = set(rated.loc[rated["status"] != NO_PRICE, "ticker"])
    return sorted(set(rated["ticker"]) - priced)


BEFORE_PRICES, AFTER_PRICES, NO_CLOSES, PRICE_GAP = (
    "before the first close", "after the last close", "no closes for the ticker", "a gap in the closes",
)  # fmt: skip


def unpriced_breakdown(calls: pd.DataFrame, closes: pd.DataFrame) -> dict[str, int]:
    """Why the actions without a price have none, counted: before or after the ticker's closes, none at all."""
    unpriced = calls[calls["status"] == NO_PRICE]
    span = conform(closes, PRICES).groupby("ticker")["date"].agg(["min", "max"])
    day = pd.to_datetime(unpriced["graded_at"], utc=True, format="ISO8601").dt.tz_localize(None).dt.normalize()
    spans = span.reindex(unpriced["ticker"].to_numpy()).set_axis(unpriced.index)  # NaT for a ticker without closes
    first, last = spans["min"], spans["max"]
    reason = np.select(
        [first.isna().to_numpy(), (day < first).to_numpy(bool), (day >= last).to_numpy(bool)],
        [NO_CLOSES, BEFORE_PRICES, AFTER_PRICES],
        default=PRICE_GAP,
    )
    counted = pd.Series(reason, dtype="object").value_counts()
    return {r: int(counted[r]) for r in (AFTER_PRICES, BEFORE_PRICES, NO_CLOSES, PRICE_GAP) if r in counted.index}
