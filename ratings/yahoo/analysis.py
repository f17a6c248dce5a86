"""Yahoo's analysis tab in this project's columns: quoteSummary's ``earningsTrend`` and ``earningsHistory``.

One answer (both modules, one request: :func:`ratings.yahoo.boundary.analysis_answer`) becomes the
columns of ``ESTIMATES``, ``EPS_TREND``, ``EPS_REVISIONS`` and ``SURPRISES`` (:mod:`ratings.schema`),
through name maps from Yahoo's field names, each value validated by its column's kind
(:data:`ratings.yahoo.parse.KIND_OF`). Yahoo answers these modules with ``{"raw": ..., "fmt": ...}``
objects even when asked for ``formatted=false``, and with ``{}`` for a figure it does not have:
:func:`unwrap` keeps the raw value (a plain value, should Yahoo ever send one, is taken as it is).

Rules of their own:

* A period no analyst covers comes with ``numberOfAnalysts`` 0, every figure 0 and no currency: its
  figures are unknown, not 0. So the EPS figures of a period count only when its EPS has analysts,
  the revenue figures only when its revenue has, and the EPS trend and revisions (zeros too, then)
  only when its EPS has.
* A lowest estimate above the highest drops both.
* One row, one currency: the one Yahoo names for the figures (``earningsCurrency``, ...), its
  financial currency. Where a period's EPS and revenue name different currencies, the revenue
  figures are left out. A currency other than the quote's is kept as it is (never converted) and said.
* A row whose figures are all unknown records nothing and is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..schema import NO_ESTIMATES_REASON
from .models import Frames
from .parse import Record, as_columns, mapped

#: The two quoteSummary modules of the analysis tab.
TREND_MODULE, HISTORY_MODULE = "earningsTrend", "earningsHistory"

# ---------------------------------------------------------------------------------------------
# Name maps: Yahoo's field names (inside each period's blocks) to our columns

#: A period of earningsTrend, outside its blocks.
PERIOD_FIELDS = {"period": "period", "endDate": "end_date"}
#: Its ``earningsEstimate`` block to ESTIMATES' EPS columns.
EPS_FIELDS = {
    "avg": "eps_mean",
    "low": "eps_low",
    "high": "eps_high",
    "numberOfAnalysts": "eps_analysts",
    "yearAgoEps": "eps_year_ago",
    "growth": "eps_growth",
    "earningsCurrency": "currency",
}
#: Its ``revenueEstimate`` block to ESTIMATES' revenue columns.
REVENUE_FIELDS = {
    "avg": "revenue_mean",
    "low": "revenue_low",
    "high": "revenue_high",
    "numberOfAnalysts": "revenue_analysts",
    "yearAgoRevenue": "revenue_year_ago",
    "growth": "revenue_growth",
    "revenueCurrency": "currency",
}
#: Its ``epsTrend`` block to EPS_TREND.
EPS_TREND_FIELDS = {
    "current": "eps_current",
    "7daysAgo": "eps_7d_ago",
    "30daysAgo": "eps_30d_ago",
    "60daysAgo": "eps_60d_ago",
    "90daysAgo": "eps_90d_ago",
    "epsTrendCurrency": "currency",
}
#: Its ``epsRevisions`` block to EPS_REVISIONS. Yahoo spells one key ``downLast7Days``; both spellings are read.
EPS_REVISION_FIELDS = {
    "upLast7days": "up_7d",
    "downLast7Days": "down_7d",
    "downLast7days": "down_7d",
    "upLast30days": "up_30d",
    "downLast30days": "down_30d",
    "epsRevisionsCurrency": "currency",
}
#: A quarter of earningsHistory to SURPRISES (``quarter`` is a Unix time; its day is kept).
SURPRISE_FIELDS = {
    "quarter": "quarter",
    "period": "period",
    "epsEstimate": "eps_estimate",
    "epsActual": "eps_actual",
    "epsDifference": "eps_difference",
    "surprisePercent": "surprise",
    "currency": "currency",
}


def unwrap(value: object) -> object:
    """Yahoo's ``{"raw": 1.6, "fmt": "1.60"}`` as ``1.6``; ``{}`` (no figure) as None; anything else as it is."""
    return value.get("raw") if isinstance(value, Mapping) else value


def _block(record: Mapping[Any, Any], name: str, fields: dict[str, str]) -> dict[str, Any]:
    block = record.get(name)
    values = {key: unwrap(value) for key, value in block.items()} if isinstance(block, Mapping) else {}
    return mapped(values, fields)


# ---------------------------------------------------------------------------------------------
# Extract


@dataclass(frozen=True)
class AnalysisAnswer:
    """The analysis tab as Yahoo sent it: one record per period and per reported quarter."""

    periods: list[Record]
    quarters: list[Record]


def extract_analysis(answer: object) -> AnalysisAnswer:
    """The two modules' records from Yahoo's quoteSummary answer; an absent or broken module has none."""
    summary = answer.get("quoteSummary") if isinstance(answer, Mapping) else None
    found = summary.get("result") if isinstance(summary, Mapping) else None
    result = found[0] if isinstance(found, list) and found else None
    modules = result if isinstance(result, Mapping) else {}

    def records(module: str, key: str) -> list[Record]:
        body = modules.get(module)
        rows = body.get(key) if isinstance(body, Mapping) else None
        return [dict(row) for row in rows if isinstance(row, Mapping)] if isinstance(rows, list) else []

    return AnalysisAnswer(records(TREND_MODULE, "trend"), records(HISTORY_MODULE, "history"))


# ---------------------------------------------------------------------------------------------
# Transform

_ESTIMATE_FIGURES = tuple(c for c in (*EPS_FIELDS.values(), *REVENUE_FIELDS.values()) if c != "currency")


def _blank(row: dict[str, Any]) -> dict[str, Any]:
    return dict.fromkeys(row)


def _ordered(where: str, row: dict[str, Any], figure: str, notes: list[str]) -> None:
    """Drop both ends of an estimate range (`figure`: eps, revenue) whose low is above its high."""
    low, high = row[f"{figure}_low"], row[f"{figure}_high"]
    if low is not None and high is not None and low > high:
        words = "EPS" if figure == "eps" else figure
        notes.append(
            f"Yahoo's lowest {words} estimate for {where} ({low:g}) is above its highest ({high:g}): both left out"
        )
        row[f"{figure}_low"] = row[f"{figure}_high"] = None


def _period_rows(
    symbol: str, head: dict[str, Any], record: Record, observed_at: str, notes: list[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
    """One period's ESTIMATES, EPS_TREND and EPS_REVISIONS rows (None where it has nothing); `head` is
    its period and end date."""
    eps = _block(record, "earningsEstimate", EPS_FIELDS)
    revenue = _block(record, "revenueEstimate", REVENUE_FIELDS)
    # numberOfAnalysts 0 (unknown, by its kind) comes with zeros for every figure: none of them is data.
    eps = eps if eps["eps_analysts"] is not None else _blank(eps)
    revenue = revenue if revenue["revenue_analysts"] is not None else _blank(revenue)
    _ordered(f"{symbol} {head['period']}", eps, "eps", notes)
    _ordered(f"{symbol} {head['period']}", revenue, "revenue", notes)
    eps_currency, revenue_currency = eps.pop("currency"), revenue.pop("currency")
    if eps_currency and revenue_currency and eps_currency != revenue_currency:
        notes.append(
            f"{symbol} {head['period']}: Yahoo gives EPS in {eps_currency} and revenue in {revenue_currency}: "
            "revenue figures left out (one row, one currency)"
        )
        revenue = _blank(revenue)
    key = {"ticker": symbol, "period": head["period"]}
    stamp = {"observed_at": observed_at}
    figures = {**eps, **revenue}
    estimate = None
    if any(figures[c] is not None for c in _ESTIMATE_FIGURES):
        estimate = {
            **key,
            "end_date": head["end_date"],
            **figures,
            "currency": eps_currency or revenue_currency,
            **stamp,
        }
    if eps["eps_analysts"] is None:  # no EPS analysts: the trend and revisions are Yahoo's zeros as well
        return estimate, None, None
    trend = _block(record, "epsTrend", EPS_TREND_FIELDS)
    revisions = _block(record, "epsRevisions", EPS_REVISION_FIELDS)
    known = [any(v is not None for c, v in row.items() if c != "currency") for row in (trend, revisions)]
    return (
        estimate,
        ({**key, **trend, **stamp} if known[0] else None),
        ({**key, **revisions, **stamp} if known[1] else None),
    )


def transform_analysis(
    symbol: str, answer: AnalysisAnswer, observed_at: str, quote_currency: str | None
) -> tuple[Frames, list[str]]:
    """The analysis tab's frames for one ticker, and what looked wrong or absent (for its warnings)."""
    notes: list[str] = []
    estimates: list[dict[str, Any]] = []
    trends: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in answer.periods:
        head = mapped(record, PERIOD_FIELDS)
        if head["period"] is None or head["period"] in seen:
            continue
        seen.add(head["period"])
        estimate, trend, revision = _period_rows(symbol, head, record, observed_at, notes)
        for rows, row in ((estimates, estimate), (trends, trend), (revisions, revision)):
            if row is not None:
                rows.append(row)

    surprises: list[dict[str, Any]] = []
    quarters: set[str] = set()
    for record in answer.quarters:
        row = mapped({key: unwrap(value) for key, value in record.items()}, SURPRISE_FIELDS)
        quarter = row["quarter"]
        if quarter is None or quarter in quarters or (row["eps_estimate"] is None and row["eps_actual"] is None):
            continue
        quarters.add(quarter)
        surprises.append({"ticker": symbol, **row, "observed_at": observed_at})

    if not estimates:
        also = "" if surprises else " and no earnings history"
        notes.append(f"{NO_ESTIMATES_REASON}: Yahoo sent no EPS or revenue estimates for {symbol}{also}")
    elif not surprises:
        notes.append(f"Yahoo sent no earnings history for {symbol}: its earnings surprises are unknown")
    currencies = sorted({r["currency"] for r in (*estimates, *surprises) if r["currency"]})
    if quote_currency and currencies and currencies != [quote_currency]:
        notes.append(
            f"{symbol}'s estimates are in {', '.join(currencies)} (Yahoo's financial currency), its price in "
            f"{quote_currency}: each row names its currency, nothing is converted"
        )
    frames: Frames = {
        "estimates": as_columns(estimates),
        "eps_trend": as_columns(trends),
        "eps_revisions": as_columns(revisions),
        "surprises": as_columns(surprises),
    }
    return frames, notes
