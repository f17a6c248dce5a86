"""Analysts' track record in words: success rates with their intervals, excess returns, each call's outcome,
what could not be scored and why, price targets against the prices that followed, the bias-aware upside, and
(for the Methodology page) one set of counts under the three label schemes side by side.

The cells every view of ``ratings.track_record``'s frames builds (the dashboard's and the terminal's
alike), and the sentences around them. Rates are whole percents with their 95% interval beside them;
returns are signed percents; counts have thousands separators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..label_schemes import SCHEME_NAMES, SCHEMES, scheme_labels
from ..targets import MIN_MATURED_TARGETS, PUBLISHED_FIGURES, PUBLISHED_GAP, PUBLISHED_SOURCE, BiasAwareUpside
from ..track_record import BUY, NO_PRICE, PENDING, SCORED, SELL, STATUSES
from .values import MISSING, count, counts_text, is_missing, percent

#: The figures every view of a firm's record shows, in this order (``FIRM_RECORD`` in words).
FIRM_COLUMNS: tuple[str, ...] = (
    "Rank", "Firm", "Tickers", "Scored calls", "Success rate", "95% interval", "Mean excess", "Median excess",
    "Buy / sell calls", "Pending", "Calls from – to",
)  # fmt: skip
#: The figures of each call in a firm's drill-down, in this order (``CALLS`` in words).
CALL_COLUMNS: tuple[str, ...] = (
    "Date", "Ticker", "Grade", "Reads as", "Entered", "Left", "Left at", "Return", "Benchmark", "Excess", "Outcome",
)  # fmt: skip

#: Each status of an action in words, for a person.
ACTION_STATUS_WORDS: dict[str, str] = {
    SCORED: "scored",
    PENDING: "pending: the window has not closed by the last close",
    "hold": "hold-type: not scored, closes the firm's previous call",
    NO_PRICE: "no price in the data",
    "superseded": "replaced by the firm at the same close",
    "no benchmark": "no benchmark close for its dates",
    "unknown grade": "a grade word not in the table",
    "no grade": "no grade given",
}
STANCE_WORDS: dict[str, str] = {BUY: "buy-type", "hold": "hold-type", SELL: "sell-type"}


def rate_text(value: Any) -> str:
    """0.818 -> '82%'; unknown -> '—'."""
    return percent(value, digits=0, signed=False)


def interval_text(low: Any, high: Any) -> str:
    """'61%–93%'; '—' unless both ends are known."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{rate_text(low)}–{rate_text(high)}"


def success_text(successes: Any, n: Any, rate: Any, low: Any, high: Any) -> str:
    """'18 of 22 (82%; 95% interval 61%–93%)'; 'no scored call' for none."""
    if is_missing(n) or int(n) == 0:
        return "no scored call"
    return f"{count(successes)} of {count(n)} ({rate_text(rate)}; 95% interval {interval_text(low, high)})"


def horizon_text(months: Any) -> str:
    """12 -> '12 months'."""
    return MISSING if is_missing(months) else f"{int(months)} month{'s' if int(months) != 1 else ''}"


def _span(first: Any, last: Any) -> str:
    if is_missing(first):
        return MISSING
    return str(first) if first == last else f"{first} – {last}"


def firm_cells(rows: Sequence[Mapping[Any, Any]]) -> dict[str, list[str]]:
    """``FIRM_RECORD`` rows as text cells, by :data:`FIRM_COLUMNS`."""
    return {
        "Rank": [count(r["rank"]) for r in rows],
        "Firm": [MISSING if is_missing(r["firm"]) else str(r["firm"]) for r in rows],
        "Tickers": [MISSING if is_missing(r["tickers"]) else str(r["tickers"]) for r in rows],
        "Scored calls": [count(r["scored_calls"]) for r in rows],
        "Success rate": [rate_text(r["success_rate"]) for r in rows],
        "95% interval": [interval_text(r["success_low"], r["success_high"]) for r in rows],
        "Mean excess": [percent(r["mean_excess"]) for r in rows],
        "Median excess": [percent(r["median_excess"]) for r in rows],
        "Buy / sell calls": [f"{count(r['buy_calls'])} / {count(r['sell_calls'])}" for r in rows],
        "Pending": [count(r["pending"]) for r in rows],
        "Calls from – to": [_span(r["first_call"], r["last_call"]) for r in rows],
    }


def outcome_text(row: Mapping[Any, Any]) -> str:
    """'Success', 'Miss', or why the call is not scored ('Pending', 'Not scored: hold-type ...')."""
    status = row.get("status")
    if status == SCORED:
        return "Success" if bool(row.get("success")) else "Miss"
    if status == PENDING:
        return "Pending"
    return f"Not scored: {ACTION_STATUS_WORDS.get(str(status), str(status))}"


def _day(value: Any) -> str:
    return MISSING if is_missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def call_cells(rows: Sequence[Mapping[Any, Any]]) -> dict[str, list[str]]:
    """``CALLS`` rows as text cells, by :data:`CALL_COLUMNS`: when, what, where it was entered and left, how it did."""
    return {
        "Date": [str(r["graded_at"])[:10] for r in rows],
        "Ticker": [str(r["ticker"]) for r in rows],
        "Grade": [MISSING if is_missing(r["to_grade"]) else str(r["to_grade"]) for r in rows],
        "Reads as": [STANCE_WORDS.get(str(r["stance"]), "not in the table") for r in rows],
        "Entered": [_day(r["entry_date"]) for r in rows],
        "Left": [_day(r["exit_date"]) for r in rows],
        "Left at": [MISSING if is_missing(r["closed_by"]) else str(r["closed_by"]) for r in rows],
        "Return": [percent(r["ticker_return"]) for r in rows],
        "Benchmark": [percent(r["benchmark_return"]) for r in rows],
        "Excess": [percent(r["call_excess"]) for r in rows],
        "Outcome": [outcome_text(r) for r in rows],
    }


def status_lines(counts: Mapping[str, int], unpriced: Mapping[str, int], unknown: Mapping[str, int]) -> list[str]:
    """What became of every action, one sentence each: scored, pending, not scored and why, unknown words named."""
    total = sum(counts.values())
    lines = [f"{count(total)} actions: {count(counts.get(SCORED, 0))} scored, {count(counts.get(PENDING, 0))} pending."]
    for status in STATUSES:
        n = counts.get(status, 0)
        if status in (SCORED, PENDING) or not n:
            continue
        line = f"{count(n)} {ACTION_STATUS_WORDS[status]}"
        if status == NO_PRICE and unpriced:
            line += " (" + ", ".join(f"{count(v)} {k}" for k, v in unpriced.items()) + ")"
        lines.append(line + ".")
    if unknown:
        named = ", ".join(f"'{word}' ({count(n)})" for word, n in unknown.items())
        lines.append(f"Grade words not in the table, so not scored: {named}.")
    return lines


def scoring_text(months: Any, benchmark: Any, first: Any, last: Any, sources: str) -> str:
    """How the calls were scored, in one sentence naming the closes' source and dates."""
    against = f"against {benchmark}" if not is_missing(benchmark) else "with no benchmark in the data (nothing scored)"
    return (
        f"Each buy- or sell-type call is scored over {horizon_text(months)} (or until the firm's next action on the "
        f"ticker) {against}, on closes from {_day(first)} to {_day(last)} ({sources})."
    )


def target_text(row: Mapping[Any, Any]) -> str:
    """A ``TARGET_RECORD`` row in words: matured targets met at the end and within, the mean gap, pending."""
    matured, pending = int(row.get("matured") or 0), int(row.get("pending") or 0)
    if matured == 0:
        return f"No price target has matured yet (12 months after it) in the data; {count(pending)} pending."
    met_end = success_text(row["met_end"], matured, row["met_end_rate"], row["met_end_low"], row["met_end_high"])
    within = success_text(
        row["met_within"], matured, row["met_within_rate"], row["met_within_low"], row["met_within_high"]
    )
    return (
        f"Of {count(matured)} matured targets, met at the end of 12 months: {met_end}; at some time within them: "
        f"{within}. Implied exceeded realised returns by {points_text(row['mean_gap'])} on average (median "
        f"{points_text(row['median_gap'])}). {count(pending)} pending."
    )


def points_text(value: Any) -> str:
    """0.153 -> '+15.3 points'; unknown -> '—'."""
    return MISSING if is_missing(value) else percent(value).replace("%", " points")


def no_targets_text(where: str) -> str:
    """Why no target can be checked: the data has none."""
    return (
        f"{where[:1].upper()}{where[1:]} has no price targets with its analysts' actions (Yahoo's recording of "
        "2025-02-24 carries none), so no target can be checked here; the published figures are below."
    )


def bias_aware_text(result: BiasAwareUpside, ticker: str) -> str:
    """A raw implied upside beside the historical gap, its basis named; never worded as a forecast."""
    gap = result.gap
    if gap.basis == "published":
        held = f"{count(gap.matured)} matured price targets" if gap.matured else "no matured price target"
        basis = (
            f"about {PUBLISHED_GAP * 100:.0f} points, the published figure ({PUBLISHED_SOURCE}): the data has "
            f"{held}, fewer than the {MIN_MATURED_TARGETS} needed to use its own"
        )
    else:
        basis = f"{points_text(gap.gap)} on average in this data ({gap.source})"
    if is_missing(result.implied):
        return (
            f"{ticker}: no implied upside in the data. Historically, implied target returns exceeded realised ones by "
            f"{basis}."
        )
    return (
        f"{ticker}: implied upside {percent(result.implied)} (mean target / price − 1). Historically, implied target "
        f"returns exceeded realised ones by {basis}; the same gap would leave {percent(result.less_gap)}. "
        "This measures how optimistic targets have been; it is not a forecast."
    )


def published_table() -> pd.DataFrame:
    """The published figures the page and the methodology quote, with their studies and periods."""
    return pd.DataFrame(
        {
            "Measure": [f.measure for f in PUBLISHED_FIGURES],
            "Published figure": [f.value for f in PUBLISHED_FIGURES],
            "Study": [f.study for f in PUBLISHED_FIGURES],
            "Data": [f.data for f in PUBLISHED_FIGURES],
        }
    )


#: The top of each scheme's scale, for '2.33 of 5'.
_SCALE_TOP = {"yahoo": 5, "tipranks": 3, "marketbeat": 4}


def label_schemes_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of counts (``CONSENSUS`` count columns) in words: the counts, each scheme's label and mean, a flip."""
    labelled = scheme_labels(frame)
    records = frame.to_dict("records")
    out = {"Counts": [counts_text(r) or MISSING for r in records]}
    for scheme in SCHEMES:
        out[SCHEME_NAMES[scheme]] = [
            MISSING if is_missing(label) else f"{label} · {mean:.2f} of {_SCALE_TOP[scheme]}"
            for label, mean in zip(labelled[scheme], labelled[f"{scheme}_mean"], strict=True)
        ]
    out["Label flips"] = ["yes" if flip else "no" for flip in labelled["flips"]]
    return pd.DataFrame(out)


__all__ = [
    "ACTION_STATUS_WORDS",
    "CALL_COLUMNS",
    "FIRM_COLUMNS",
    "STANCE_WORDS",
    "bias_aware_text",
    "call_cells",
    "firm_cells",
    "horizon_text",
    "interval_text",
    "label_schemes_table",
    "no_targets_text",
    "outcome_text",
    "points_text",
    "published_table",
    "rate_text",
    "scoring_text",
    "status_lines",
    "success_text",
    "target_text",
]
