"""Yahoo's answers in this project's columns: what yfinance handed back, then the schemas' columns.

Two steps per ticker:

:func:`extract`
    yfinance's objects (the info dict, the trend and upgrades frames, the price history, the chart's
    metadata) as Yahoo's raw answers: records keyed by Yahoo's own field names.
:func:`transform`
    Those records as schema columns, through name maps from Yahoo's field names to ours (as OpenBB's
    yfinance providers do), each column validated by its kind: a value that is not plausible for its
    kind becomes unknown (None), never a wrong number. So an impossible price, count or date is
    unknown, and so is Yahoo's 0 for "no target". Two rules span columns: a lowest target above the
    highest drops both, and a quote in GBP against a history in GBp (or the reverse) leaves the
    currency unknown.

Columns are plain lists (cheap per ticker, JSON-ready for the result cache); :func:`assemble` turns
a batch's columns into typed frames once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from ..core import YAHOO_KEY_LABELS
from ..schema import COUNT_COLUMNS, TARGET_COLUMNS, TIMESTAMP_FORMAT, Schema, conform, is_day, utc_text
from .models import Columns, Frames

SOURCE = "Yahoo Finance"
SOURCE_ID = "yfinance"

#: Yahoo's recommendationKey in this project's words (shared with the bundle builder).
YAHOO_LABELS = YAHOO_KEY_LABELS

# ---------------------------------------------------------------------------------------------
# Name maps: Yahoo's field names to our columns

#: yfinance's ``info`` (quoteSummary's financialData and kin, and the quote) to SNAPSHOTS. Where two
#: fields map to one column the first valid one wins: the current price, else the regular market price.
CONSENSUS_FIELDS = {
    "currentPrice": "price",
    "regularMarketPrice": "price",
    "targetMeanPrice": "target_mean",
    "targetMedianPrice": "target_median",
    "targetLowPrice": "target_low",
    "targetHighPrice": "target_high",
    "numberOfAnalystOpinions": "n_analysts",
    "recommendationMean": "rating_mean",
    "recommendationKey": "source_label",
}
#: quoteSummary's recommendationTrend (yfinance's ``recommendations``) to TREND.
TREND_FIELDS = {
    "period": "period",
    "strongBuy": "strong_buy",
    "buy": "buy",
    "hold": "hold",
    "sell": "sell",
    "strongSell": "strong_sell",
}
#: quoteSummary's upgradeDowngradeHistory (yfinance's ``upgrades_downgrades``) to UPGRADES.
UPGRADE_FIELDS = {
    "Firm": "firm",
    "Action": "action",
    "FromGrade": "from_grade",
    "ToGrade": "to_grade",
    "priceTargetAction": "price_target_action",
    "priorPriceTarget": "prior_price_target",  # Yahoo's 0 means "no target"
    "currentPriceTarget": "current_price_target",
}
#: The price history (yfinance's ``history``) to PRICES.
PRICE_FIELDS = {"Close": "close"}

Record = dict[Hashable, Any]  # one row of a Yahoo answer, keyed by Yahoo's field names

#: Where :func:`extract` puts an upgrade's date (yfinance's index) and a close's day (the history's index).
GRADE_DATE = "GradeDate"
DAY = "Date"
_NAME_KEYS = ("longName", "shortName", "displayName")

# ---------------------------------------------------------------------------------------------
# Kinds: what a plausible value of a column is

#: price: a positive, finite number below a billion (Yahoo's 0 means "none"); rating: a price-like number
#: on the 1 (Strong Buy) to 5 (Strong Sell) scale; count: a whole number from 0 to 100,000; analysts: a
#: count above 0 (0 analysts is "no coverage"); label: a recommendationKey we have words for; text: not blank.
#: For the analysis tab: per_share: an EPS, any finite number under a billion either way (a loss is negative,
#: break-even 0); amount: a revenue, finite, from 0 to 1e18 (a trillion trillions: any currency's revenue);
#: fraction: a growth or surprise, finite, within ±10,000 (1,000,000%); day: an ISO day from 1990 to 2100,
#: or a Unix time in seconds that falls on one (Yahoo's quarter).
Kind = Literal["price", "count", "analysts", "rating", "label", "text", "per_share", "amount", "fraction", "day"]

_COLUMNS_OF_KIND: dict[Kind, tuple[str, ...]] = {
    "price": ("price", *TARGET_COLUMNS, "prior_price_target", "current_price_target", "close"),
    "count": (*COUNT_COLUMNS, "up_7d", "down_7d", "up_30d", "down_30d"),
    "analysts": ("n_analysts", "eps_analysts", "revenue_analysts"),
    "rating": ("rating_mean",),
    "label": ("source_label",),
    "text": ("period", "firm", "action", "from_grade", "to_grade", "price_target_action", "currency"),
    "per_share": (
        *("eps_mean", "eps_low", "eps_high", "eps_year_ago"),
        *("eps_current", "eps_7d_ago", "eps_30d_ago", "eps_60d_ago", "eps_90d_ago"),
        *("eps_estimate", "eps_actual", "eps_difference"),
    ),
    "amount": ("revenue_mean", "revenue_low", "revenue_high", "revenue_year_ago"),
    "fraction": ("eps_growth", "revenue_growth", "surprise"),
    "day": ("end_date", "quarter"),
}
#: The kind of every column a name map leads to.
KIND_OF: dict[str, Kind] = {column: kind for kind, columns in _COLUMNS_OF_KIND.items() for column in columns}

# Beyond these, a price or a count is a broken answer, not data: no share trades at a billion (in any
# unit, pence included), and no ticker has a hundred thousand analysts.
_MAX_PRICE = 1e9
_MAX_COUNT = 100_000
#: The figures of the analysis tab that may be negative or 0, and the range a plausible one falls in.
_RANGES: dict[Kind, tuple[float, float]] = {"per_share": (-1e9, 1e9), "amount": (0, 1e18), "fraction": (-1e4, 1e4)}
_DAYS = (pd.Timestamp("1990-01-01"), pd.Timestamp("2100-01-01"))


def _valid(kind: Kind, value: object) -> Any:
    """`value` as a value of `kind` (a label in this project's words) if it is plausible, else None: unknown."""
    if kind == "price":
        return _price(value)
    if kind == "rating":
        rating = _price(value)
        return rating if rating is not None and 1 <= rating <= 5 else None
    if kind == "label":
        key = _text(value)
        return YAHOO_LABELS.get(key.lower()) if key else None
    if kind == "analysts":
        return _count(value) or None
    if kind == "count":
        return _count(value)
    if kind in _RANGES:
        number, (low, high) = _finite(value), _RANGES[kind]
        return number if number is not None and low <= number < high else None
    if kind == "day":
        return _day(value)
    return _text(value)


def _finite(value: object) -> float | None:
    """`value` as a finite float, else None (True is not a number here)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _price(value: object) -> float | None:
    """A positive, finite, plausible number, else None: Yahoo's 0 (and absent) price or target means "none"."""
    number = _finite(value)
    return number if number is not None and 0 < number < _MAX_PRICE else None


def _count(value: object) -> int | None:
    """A plausible whole number >= 0, else None."""
    number = _finite(value)
    return int(number) if number is not None and 0 <= number <= _MAX_COUNT and number.is_integer() else None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _day(value: object) -> str | None:
    """An ISO day ('2025-03-31'), or a Unix time in seconds (Yahoo's quarter) as its UTC day; else None."""
    seconds = None if isinstance(value, str) else _finite(value)
    try:
        if seconds is not None:
            day = pd.Timestamp(seconds, unit="s")
        elif (text := _text(value)) is not None and is_day(text):
            day = pd.Timestamp(text)
        else:
            return None
    except (ValueError, OverflowError):  # pandas' OutOfBoundsDatetime is a ValueError
        return None
    return day.strftime("%Y-%m-%d") if _DAYS[0] <= day < _DAYS[1] else None


def mapped(record: Mapping[Any, Any], fields: dict[str, str]) -> dict[str, Any]:
    """`record`'s `fields` under our column names, each validated by its column's kind. Where two of
    Yahoo's fields map to one column, the first with a valid value wins."""
    row: dict[str, Any] = {}
    for theirs, ours in fields.items():
        if row.get(ours) is None:
            row[ours] = _valid(KIND_OF[ours], record.get(theirs))
    return row


# ---------------------------------------------------------------------------------------------
# Extract


@dataclass(frozen=True)
class Answers:
    """One ticker's raw answers, in Yahoo's field names."""

    info: dict[str, Any]  # quoteSummary's modules and the quote, as yfinance merges them
    trend: list[Record]  # one record per period
    upgrades: list[Record]  # one record per analyst action, its date (UTC) under GRADE_DATE
    prices: list[Record]  # one record per row of the price history, its day under DAY
    chart: dict[str, Any]  # the price chart's metadata: currency, longName, shortName


def extract(info: dict[str, Any], trend: object, upgrades: object, history: object, chart: dict[str, Any]) -> Answers:
    """yfinance's answers (its frames, or whatever it returned for a part that failed) as records."""
    return Answers(info, _trend_records(trend), _upgrade_records(upgrades), _price_records(history), chart)


def _trend_records(rows: object) -> list[Record]:
    if not isinstance(rows, pd.DataFrame) or rows.empty or "period" not in rows.columns:
        return []
    return rows.to_dict("records")


def _upgrade_records(rows: object) -> list[Record]:
    if not isinstance(rows, pd.DataFrame) or rows.empty:
        return []
    when = pd.DatetimeIndex(pd.to_datetime(rows.index, errors="coerce"))
    if when.tz is not None:
        when = when.tz_convert("UTC").tz_localize(None)
    return [record | {GRADE_DATE: graded} for record, graded in zip(rows.to_dict("records"), when, strict=True)]


def _price_records(history: object) -> list[Record]:
    if not isinstance(history, pd.DataFrame) or history.empty or "Close" not in history.columns:
        return []
    dates = pd.DatetimeIndex(history.index)
    if dates.tz is not None:
        dates = dates.tz_localize(None)  # the exchange's own calendar day
    days = dates.strftime("%Y-%m-%d")
    return [{DAY: day, "Close": close} for day, close in zip(days, history["Close"].tolist(), strict=True)]


# ---------------------------------------------------------------------------------------------
# Transform


@dataclass(frozen=True)
class Parsed:
    """What :func:`transform` made of one ticker's answers."""

    frames: Frames
    snapshot: dict[str, Any]  # the one snapshot row (also in frames), before anyone judges its coverage
    observed_at: str
    notes: tuple[str, ...]  # what looked wrong in the answers, for LiveResult.warnings


def transform(symbol: str, answers: Answers, observed: datetime) -> Parsed:
    """`answers` as schema columns. `observed` (UTC, to the second) dates the snapshot and the trend's months."""
    observed_at = utc_text(observed)
    notes: list[str] = []
    currency, chart_currency = _currencies(symbol, answers, notes)
    trend = _trend(symbol, answers.trend, observed, observed_at)
    snapshot = _snapshot(symbol, answers.info, _current_counts(trend), observed_at, currency)
    low, high = snapshot["target_low"], snapshot["target_high"]
    if low is not None and high is not None and low > high:
        notes.append(f"Yahoo's lowest target ({low:g}) is above its highest ({high:g}): both left out")
        snapshot["target_low"] = snapshot["target_high"] = None
    sources = (answers.info, answers.chart)
    name = next((n for key in _NAME_KEYS for source in sources if (n := _text(source.get(key)))), None)
    frames: Frames = {
        "snapshots": {key: [value] for key, value in snapshot.items()},
        "trend": trend,
        "upgrades": _upgrades(symbol, answers.upgrades, observed),
        "prices": _prices(symbol, answers.prices, chart_currency),
        "names": {"ticker": [symbol], "name": [name], "currency": [currency]},
    }
    return Parsed(frames, snapshot, observed_at, tuple(notes))


def has_consensus(snapshot: dict[str, Any]) -> bool:
    """Whether a snapshot row holds any price target, rating or count."""
    return any(snapshot[f] is not None for f in (*TARGET_COLUMNS, "rating_mean", "n_analysts", *COUNT_COLUMNS))


def _currencies(symbol: str, answers: Answers, notes: list[str]) -> tuple[str | None, str | None]:
    """The quote currency (the snapshot's and the name's) and the price history's; None where unknown."""
    quote_currency, chart_currency = _text(answers.info.get("currency")), _text(answers.chart.get("currency"))
    currency = quote_currency or chart_currency
    chart_currency = chart_currency or currency
    if currency and chart_currency != currency:
        notes.append(f"Yahoo quotes {symbol} in {currency} but its price history in {chart_currency}")
        if chart_currency and chart_currency.upper() == currency.upper():
            # GBP against GBp: pounds or pence, a factor of 100 either way. Unknown beats wrong.
            notes.append(f"{symbol}'s currency is left unknown: pounds or pence cannot be told apart")
            currency = chart_currency = None
    return currency, chart_currency


def _snapshot(
    symbol: str, info: dict[str, Any], counts: dict[str, int | None], observed_at: str, currency: str | None
) -> dict[str, Any]:
    consensus = mapped(info, CONSENSUS_FIELDS)
    as_of = observed_at[:10]
    return {
        "ticker": symbol,
        "source": SOURCE,
        "as_of": as_of,
        "currency": currency,
        "price": consensus["price"],
        "price_as_of": as_of if consensus["price"] is not None else None,
        **{column: consensus[column] for column in (*TARGET_COLUMNS, "n_analysts")},
        **counts,
        "rating_mean": consensus["rating_mean"],
        "source_label": consensus["source_label"],
        "source_id": SOURCE_ID,
        "observed_at": observed_at,
    }


_PERIOD = re.compile(r"^([+-]?\d+)m$")


def _trend(symbol: str, records: list[Record], observed: datetime, observed_at: str) -> Columns:
    this_month = pd.Period(observed.strftime("%Y-%m"), freq="M")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in records:
        row = mapped(record, TREND_FIELDS)
        period, counts = row["period"], {c: row[c] for c in COUNT_COLUMNS}
        # A period whose counts are all zero (or absent) is Yahoo saying "no ratings": unknown, not 0.
        if period is None or period in seen or not any(counts.values()):
            continue
        seen.add(period)
        match = _PERIOD.match(period)
        month = (this_month + int(match.group(1))).strftime("%Y-%m") if match else None
        rows.append({"ticker": symbol, "period": period, "month": month, **counts, "observed_at": observed_at})
    return as_columns(rows)


def _current_counts(trend: Columns) -> dict[str, int | None]:
    periods = trend.get("period", [])
    if "0m" not in periods:
        return {c: None for c in COUNT_COLUMNS}
    row = periods.index("0m")
    return {c: trend[c][row] for c in COUNT_COLUMNS}


#: An analyst action dated before this (Yahoo's epoch 0, say) or after the fetch is a broken date.
_FIRST_GRADE = pd.Timestamp("1990-01-01")


def _upgrades(symbol: str, records: list[Record], observed: datetime) -> Columns:
    # A date in milliseconds read as seconds lands in the year 57000: dropped, like one without a date.
    latest = pd.Timestamp(observed).tz_convert("UTC").tz_localize(None) + pd.Timedelta(days=1)
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for record in records:
        graded = record[GRADE_DATE]
        graded_at = graded.strftime(TIMESTAMP_FORMAT) if _FIRST_GRADE <= graded <= latest else None
        row = mapped(record, UPGRADE_FIELDS)
        firm, action = row["firm"], row["action"]
        # A row without a date, firm or action records nothing that could be stored or shown: dropped.
        if graded_at is None or firm is None or action is None or (graded_at, firm, action) in seen:
            continue
        seen.add((graded_at, firm, action))
        rows.append({"ticker": symbol, "graded_at": graded_at, **row, "source": SOURCE})
    return as_columns(rows)


def _prices(symbol: str, records: list[Record], currency: str | None) -> Columns:
    closes: dict[str, float] = {}  # by day; the last row of a day wins
    for record in records:
        if (close := mapped(record, PRICE_FIELDS)["close"]) is not None:
            closes[record[DAY]] = close
    rows = [
        {"ticker": symbol, "date": day, "close": close, "currency": currency, "source_id": SOURCE_ID}
        for day, close in closes.items()
    ]
    return as_columns(rows)


def as_columns(rows: list[dict[str, Any]]) -> Columns:
    """`rows` column by column; no rows, no columns (the ticker has no such frame)."""
    return {name: [row[name] for row in rows] for name in rows[0]} if rows else {}


def assemble(parts: list[Columns], schema: Schema) -> pd.DataFrame:
    """One frame of `schema` from many tickers' columns (one conversion for the whole batch)."""
    merged: dict[str, list[Any]] = {name: [] for name in schema.names}
    for part in parts:
        length = len(next(iter(part.values()), []))
        for name, values in merged.items():
            values.extend(part.get(name) or [None] * length)
    frame = pd.DataFrame(merged)
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
        frame = frame[frame["date"].notna()].reset_index(drop=True)
    return conform(frame, schema)
