"""Frame schemas: the columns every loader produces and every consumer may rely on.

Conventions for all frames:

* column names are ``snake_case``;
* ratios are fractions, never percents (an upside of +11.2% is ``0.112``);
* an unknown value is missing (``NaN`` for floats, ``<NA>`` for counts and text), never ``0``
  and never ``inf``;
* dates are ISO 8601 text (``"2026-07-02"``). A source that gives no day keeps its reduced
  precision (TipRanks' Ford record is ``"2026"``) rather than being given an invented day;
* prices and price targets of one row are in the row's ``currency``.

These frames cross module boundaries:

``CONSENSUS``
    One row per ticker and source snapshot, as a loader delivers it (before the core adds
    labels and upside). Loaders for the bundle, the local store and live Yahoo all produce it.
``CONSENSUS_TABLE``
    ``CONSENSUS`` plus what :func:`ratings.core.consensus_table` computes. Its first columns are
    the public CSV contract (:data:`CSV_COLUMNS`).
``CONSENSUS_HISTORY``
    ``CONSENSUS`` plus ``observed_at``: dated snapshots of one source's consensus, at most one
    per ticker, source and day (the last one seen that day).
``SNAPSHOTS``
    The same columns, every stored fetch (the local store keeps them all).
``TREND``
    Yahoo's recommendation trend: Strong Buy..Strong Sell counts for this month and the three before.
``UPGRADES``
    Analysts' upgrades, downgrades, initiations and price-target changes, one row per action.
``PRICES``
    Daily closes, one row per ticker and trading day.
``UNIVERSE``
    Names and sectors of the tickers the bundle knows.
``NAMES``
    Name and quote currency of each fetched ticker (the live loader's and the store's).
``ESTIMATES``, ``EPS_TREND``, ``EPS_REVISIONS``, ``SURPRISES``
    Yahoo's analysis tab, one row per ticker, period (or quarter) and fetch: see "Estimates" below.

Timestamps are UTC text to the second in one spelling, :data:`TIMESTAMP_FORMAT`
(``2026-07-02T14:03:11Z``), so that text order is time order; :func:`utc_text` writes any ISO
spelling that way. :class:`FetchLogEntry` is the record of one fetch (the store's fetch log).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from pandas.api.types import pandas_dtype

FLOAT = "float64"
COUNT = "Int64"  # nullable integer: a count that is unknown stays <NA>, not 0
TEXT = "string"
FLAG = "bool"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    description: str
    required: bool = True  # validate() insists on it; conform() adds it when absent


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def dtypes(self) -> dict[str, str]:
        return {c.name: c.dtype for c in self.columns}

    def empty(self) -> pd.DataFrame:
        """A frame with this schema's columns and dtypes and no rows."""
        return conform(pd.DataFrame(), self)


class SchemaError(ValueError):
    """A frame does not match its documented schema."""


#: The type words of a column table (see :func:`columns`) and the dtypes they stand for.
KINDS_OF_COLUMN: dict[str, str] = {"text": TEXT, "float": FLOAT, "count": COUNT, "flag": FLAG, "day": "datetime64[ns]"}


def columns(table: str) -> tuple[Column, ...]:
    """Columns from a data-dictionary table: one a line, ``name  type  description``.

    The type is one of :data:`KINDS_OF_COLUMN`; a type ending in ``?`` marks a column that may be
    absent (``validate`` does not insist on it; ``conform`` adds it).
    """
    found = []
    for line in table.strip().splitlines():
        name, kind, description = line.split(None, 2)
        found.append(Column(name, KINDS_OF_COLUMN[kind.rstrip("?")], description, required=not kind.endswith("?")))
    return tuple(found)


COUNT_COLUMNS = ("strong_buy", "buy", "hold", "sell", "strong_sell")

#: How every "no analyst coverage" reason of a fetch (and of the store's fetch log) begins.
NO_COVERAGE_REASON = "no analyst coverage"
TARGET_COLUMNS = ("target_mean", "target_median", "target_low", "target_high")

#: The one spelling of a timestamp: UTC to the second, fixed width, so that text order is time order.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: A full ISO day. A source that gives only a year ('2026') has no day, and is never given one.
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")

_CONSENSUS_COLUMNS = columns(
    """
    ticker         text   Yahoo-style symbol, upper case: F, BRK-B, 1810.HK
    source         text   who published the figures: 'Yahoo Finance', 'TipRanks', 'finviz'
    as_of          text   ISO date of the consensus; reduced precision ('2026') when the source gives no day
    currency       text   ISO currency of price and targets; 'GBp' means pence
    price          float  share price quoted by the source with its consensus; NaN if it quoted none
    price_as_of    text   ISO date of `price`
    target_mean    float  mean analyst price target
    target_median  float  median analyst price target
    target_low     float  lowest analyst price target
    target_high    float  highest analyst price target
    n_analysts     count  analysts behind the targets or ratings
    strong_buy     count  Strong Buy ratings; <NA> if the source does not count them separately
    buy            count  Buy ratings
    hold           count  Hold ratings
    sell           count  Sell ratings
    strong_sell    count  Strong Sell ratings; <NA> if the source does not count them separately
    rating_mean    float  mean rating on the 1 (Strong Buy) to 5 (Strong Sell) scale, as the source reports it
    source_label   text   the consensus label the source itself published, in this project's words
    source_id      text   key of the source in data/manifest.json, or 'yfinance' / 'store' for live data
    note           text?  free text about the record from its source
    """
)

CONSENSUS = Schema("consensus", _CONSENSUS_COLUMNS, key=("ticker", "source_id"))

#: The public CSV contract, in this order. Do not reorder or rename: scripts depend on it.
CSV_COLUMNS: tuple[str, ...] = (
    "ticker", "source", "as_of", "currency", "price", "price_as_of",
    "target_mean", "target_median", "target_low", "target_high", "n_analysts",
    "strong_buy", "buy", "hold", "sell", "strong_sell",
    "rating_mean", "consensus", "upside_mean", "upside_low", "upside_high",
)  # fmt: skip

_COMPUTED = columns(
    """
    consensus          text   consensus label from the 1-5 rating mean: Strong Buy, Buy, Hold, Sell, Strong Sell
    upside_mean        float  target_mean / price - 1
    upside_low         float  target_low / price - 1
    upside_high        float  target_high / price - 1
    upside_median      float  target_median / price - 1
    target_dispersion  float  (target_high - target_low) / target_mean: spread of targets
    rating_basis       text   'reported' (the source's own mean) or 'counts' (computed from the counts)
    price_source       text   'source' (quoted with the consensus) or 'close' (latest bundled close)
    coverage           text   'targets', 'rating only' or 'none' (no consensus for this ticker)
    is_primary         flag   the row the overview uses for this ticker (see ratings.core.PRIMARY_RULE)
    name               text   company name, where known
    """
)
_BY_NAME = {c.name: c for c in (*_CONSENSUS_COLUMNS, *_COMPUTED)}

CONSENSUS_TABLE = Schema(
    "consensus_table",
    tuple(_BY_NAME[n] for n in CSV_COLUMNS)
    + tuple(c for c in _COMPUTED if c.name not in CSV_COLUMNS)
    + tuple(c for c in _CONSENSUS_COLUMNS if c.name not in CSV_COLUMNS),
    key=("ticker", "source_id"),
)

CONSENSUS_HISTORY = Schema(
    "consensus_history",
    (
        *_CONSENSUS_COLUMNS,
        Column("observed_at", TEXT, "ISO timestamp (UTC) when this snapshot of the consensus was taken"),
    ),
    key=("ticker", "source_id", "as_of"),
)

#: Every stored fetch of a source's consensus: CONSENSUS_HISTORY's columns, any number per day.
SNAPSHOTS = Schema("snapshots", CONSENSUS_HISTORY.columns, key=("ticker", "source_id", "observed_at"))

TREND = Schema(
    "trend",
    columns(
        """
        ticker       text   Yahoo-style symbol
        period       text   Yahoo's period: '0m' this month, '-1m' last month, ...
        month        text   the calendar month the period stands for, 'YYYY-MM', relative to observed_at
        strong_buy   count  Strong Buy ratings that month
        buy          count  Buy ratings that month
        hold         count  Hold ratings that month
        sell         count  Sell ratings that month
        strong_sell  count  Strong Sell ratings that month
        observed_at  text   ISO timestamp (UTC) of the fetch that returned this trend
        """
    ),
    key=("ticker", "observed_at", "period"),
)

UPGRADES = Schema(
    "upgrades",
    columns(
        """
        ticker                text   Yahoo-style symbol
        graded_at             text   ISO timestamp (UTC) of the analyst action
        firm                  text   the research firm
        action                text   Yahoo's action: 'up', 'down', 'init', 'main' (maintained), 'reit' (reiterated)
        from_grade            text   previous rating in the firm's own words; <NA> if none
        to_grade              text   new rating in the firm's own words
        price_target_action   text   Yahoo's priceTargetAction ('Raises', 'Lowers', ...), where given
        prior_price_target    float  the firm's previous price target; NaN where Yahoo sends 0 (none)
        current_price_target  float  the firm's new price target; NaN where Yahoo sends 0 (none)
        source                text   who published the record: 'Yahoo Finance'
        """
    ),
    key=("ticker", "graded_at", "firm", "action"),
)

PRICES = Schema(
    "prices",
    columns(
        """
        ticker     text   Yahoo-style symbol
        date       day    trading day, in the exchange's own calendar
        close      float  closing price in `currency`
        currency   text   ISO currency of `close`
        source_id  text   key of the price series' source in data/manifest.json
        """
    ),
    key=("ticker", "date"),
)

UNIVERSE = Schema(
    "universe",
    columns(
        """
        ticker         text   Yahoo-style symbol
        name           text   company name
        sector         text   sector: GICS for S&P 500 members, finviz's scheme otherwise
        industry       text   GICS sub-industry or finviz industry
        sector_scheme  text   'GICS' or 'finviz'
        in_sp500       flag   member of the S&P 500 on the constituents list's date
        in_watchlist   flag   member of the default watchlist
        """
    ),
    key=("ticker",),
)

NAMES = Schema(
    "names",
    columns(
        """
        ticker      text   Yahoo-style symbol
        name        text   company name as Yahoo gives it; <NA> if it gave none
        currency    text   Yahoo's quote currency ('GBp' means pence); <NA> if unknown
        updated_at  text?  ISO timestamp (UTC) of the fetch that last set the row (the store's)
        """
    ),
    key=("ticker",),
)


# ---------------------------------------------------------------------------------------------
# Estimates: Yahoo's analysis tab (quoteSummary earningsTrend and earningsHistory)
#
# One row per ticker, period (Yahoo's '0q' this quarter, '+1q' next quarter, '0y' this fiscal year,
# '+1y' next fiscal year) or reported quarter, and fetch: the store keeps every fetch as a dated snapshot.
# Amounts are in the row's `currency`, the one Yahoo names for the estimates: the company's *financial*
# (reporting) currency, which can differ from the quote currency of its price and targets (BEKE quotes
# in USD, reports in CNY; a London listing quotes in GBp, reports in GBP). The two are never mixed or
# converted. A period Yahoo fills with zeros because no analyst covers it has unknown figures, not 0.

#: How a fetch names a ticker Yahoo has no estimates for (its warning begins so).
NO_ESTIMATES_REASON = "no estimates"


def _estimate_schema(name: str, key: str, table: str) -> Schema:
    """A schema of the analysis tab: ticker and `key` first, then `table`'s columns, currency and observed_at."""
    shared = columns(
        f"""
        ticker       text   Yahoo-style symbol
        {key}
        {table}
        currency     text   the currency Yahoo names for these figures (its financial currency); <NA> if none
        observed_at  text   ISO timestamp (UTC) of the fetch that returned the row
        """
    )
    return Schema(name, shared, key=("ticker", "observed_at", shared[1].name))


_PERIOD = "period       text   Yahoo's period: '0q' this quarter, '+1q' next quarter, '0y' this year, '+1y' next year"

ESTIMATES = _estimate_schema(
    "estimates",
    _PERIOD,
    """end_date          text   ISO day the period ends (Yahoo's endDate); <NA> if Yahoo gave none
    eps_mean          float  mean EPS estimate of the analysts, per share
    eps_low           float  lowest EPS estimate
    eps_high          float  highest EPS estimate
    eps_analysts      count  analysts behind the EPS estimates; <NA> when none (then every eps_ figure is unknown)
    eps_year_ago      float  EPS of the same period a year before
    eps_growth        float  eps_mean against eps_year_ago, as Yahoo reports it (a fraction: 0.051 is +5.1%)
    revenue_mean      float  mean revenue estimate
    revenue_low       float  lowest revenue estimate
    revenue_high      float  highest revenue estimate
    revenue_analysts  count  analysts behind the revenue estimates; <NA> when none (revenue_ figures unknown)
    revenue_year_ago  float  revenue of the same period a year before
    revenue_growth    float  revenue_mean against revenue_year_ago, as Yahoo reports it (a fraction)""",
)
EPS_TREND = _estimate_schema(
    "eps_trend",
    _PERIOD,
    """eps_current  float  the mean EPS estimate now
    eps_7d_ago   float  the mean EPS estimate 7 days before the fetch
    eps_30d_ago  float  the mean EPS estimate 30 days before the fetch
    eps_60d_ago  float  the mean EPS estimate 60 days before the fetch
    eps_90d_ago  float  the mean EPS estimate 90 days before the fetch""",
)
EPS_REVISIONS = _estimate_schema(
    "eps_revisions",
    _PERIOD,
    """up_7d     count  analysts who raised their EPS estimate in the last 7 days
    down_7d   count  analysts who lowered their EPS estimate in the last 7 days
    up_30d    count  analysts who raised their EPS estimate in the last 30 days
    down_30d  count  analysts who lowered their EPS estimate in the last 30 days""",
)
SURPRISES = _estimate_schema(
    "surprises",
    "quarter  text   ISO day the reported fiscal quarter ended",
    """period          text   Yahoo's period relative to the fetch: '-1q' the last reported quarter, ... '-4q'
    eps_estimate    float  mean EPS estimate before the report
    eps_actual      float  the EPS reported
    eps_difference  float  eps_actual - eps_estimate, as Yahoo reports it
    surprise        float  eps_difference / |eps_estimate|, as Yahoo reports it (a fraction: 0.0205 is +2.05%)""",
)


@dataclass(frozen=True)
class FetchLogEntry:
    """One fetch: when, which tickers, how many fetched / without analyst coverage / failed, and why.

    ``reasons`` maps a ticker to the reason it was not fetched (or had no coverage).
    """

    started_at: str
    finished_at: str
    tickers: tuple[str, ...]
    ok: int
    no_coverage: int
    failed: int
    reasons: Mapping[str, str] = field(default_factory=dict)
    id: int | None = None


def is_day(value: object) -> bool:
    """Whether `value` is a full ISO day ('2026-07-02'), not a year or a timestamp."""
    return isinstance(value, str) and bool(DAY_PATTERN.fullmatch(value))


def day_mask(values: pd.Series) -> pd.Series:
    """True where `values` is a full ISO day; a boolean Series even on an empty frame."""
    return values.astype("string").str.fullmatch(DAY_PATTERN.pattern).fillna(False).astype(bool)


def utc_now() -> str:
    """The current time in :data:`TIMESTAMP_FORMAT`: ``2026-07-02T14:03:11Z``."""
    return datetime.now(UTC).strftime(TIMESTAMP_FORMAT)


def utc_text(value: object) -> str:
    """`value` (ISO text, datetime, Timestamp; naive means UTC) in :data:`TIMESTAMP_FORMAT`."""
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    if pd.isna(stamp):
        raise ValueError(f"not a timestamp: {value!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime(TIMESTAMP_FORMAT)


def conform(frame: pd.DataFrame, schema: Schema, *, keep_extra: bool = False) -> pd.DataFrame:
    """Return `frame` with the schema's columns in order and cast to the schema's dtypes.

    A column the frame lacks is added as all-missing: a source that does not publish a median
    target has an unknown median, not a broken frame. Extra columns are dropped unless `keep_extra`.
    """
    out = pd.DataFrame(index=frame.index)
    for col in schema.columns:
        values = frame[col.name] if col.name in frame.columns else pd.Series(pd.NA, index=frame.index)
        out[col.name] = _cast(values, col)
    if keep_extra:
        for name in frame.columns:
            if name not in out.columns:
                out[name] = frame[name]
    return out


def _cast(values: pd.Series, col: Column) -> pd.Series:
    dtype = pandas_dtype(col.dtype)
    if col.dtype in (FLOAT, COUNT):
        numeric = pd.to_numeric(values, errors="coerce")
        if col.dtype == COUNT:
            # A fractional "count" is a broken record, not a rounding problem: make it unknown.
            numeric = numeric.where(numeric.isna() | (numeric == numeric.round()))
        return numeric.astype(dtype)
    if col.dtype == FLAG:
        return values.fillna(False).astype(dtype)
    if col.dtype.startswith("datetime64"):
        return pd.to_datetime(values).astype(dtype)
    return values.astype(dtype)


def validate(frame: pd.DataFrame, schema: Schema) -> None:
    """Raise :class:`SchemaError` listing every way `frame` breaks `schema`."""
    problems: list[str] = []
    for col in schema.columns:
        if col.name not in frame.columns:
            if col.required:
                problems.append(f"missing column {col.name!r}")
            continue
        actual = str(frame[col.name].dtype)
        if actual != col.dtype:
            problems.append(f"column {col.name!r} is {actual}, expected {col.dtype}")
        elif col.dtype == FLOAT and frame[col.name].isin([float("inf"), float("-inf")]).any():
            problems.append(f"column {col.name!r} holds inf")
        elif col.dtype == COUNT and (frame[col.name].dropna() < 0).any():
            problems.append(f"column {col.name!r} holds a negative count")
    if schema.key and set(schema.key) <= set(frame.columns) and frame.duplicated(list(schema.key)).any():
        dupes = frame.loc[frame.duplicated(list(schema.key), keep=False), list(schema.key)]
        problems.append(f"duplicate key {schema.key}: {dupes.head(3).to_dict('records')}")
    if problems:
        raise SchemaError(f"{schema.name}: " + "; ".join(problems))
