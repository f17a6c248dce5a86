"""Analysts' estimates in words: periods, EPS and revenue figures in their currency, revisions, surprises, beat rates.

The cells every view of ``ratings.estimates.ESTIMATES_TABLE`` and of a ticker's earnings surprises
builds (the dashboard's and the terminal's alike), and the sentences around them. Every amount is
written in its row's currency, the company's financial currency, which the words name where it is
not the quote currency: the two are never mixed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .values import MISSING, count, dated, is_missing, money, money_range, percent

#: Yahoo's estimate periods in words.
PERIOD_WORDS: dict[str, str] = {"0q": "This quarter", "+1q": "Next quarter", "0y": "This year", "+1y": "Next year"}

#: The figures every view of an estimates row shows, in this order.
ESTIMATE_COLUMNS: tuple[str, ...] = (
    "Period", "EPS estimate", "EPS range", "Analysts", "EPS growth",
    "Revenue estimate", "Revenue growth", "30-day revision", "90-day revision", "Net revisions (30 days)",
    "EPS dispersion",
)  # fmt: skip
#: The figures every view of a reported quarter shows, in this order.
SURPRISE_COLUMNS: tuple[str, ...] = ("Quarter", "EPS estimate", "EPS actual", "Difference", "Surprise", "Beat")

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"))
_LAST_DIGIT = re.compile(r"(\d)(?!.*\d)")


def period_text(period: Any, end_date: Any = None) -> str:
    """'This quarter (to 2025-03-31)'; a period Yahoo may add later is shown as it came."""
    if is_missing(period) or period == "":
        return MISSING
    words = PERIOD_WORDS.get(str(period), str(period))
    return f"{words} (to {end_date})" if not is_missing(end_date) and end_date != "" else words


def amount_text(value: Any, currency: Any) -> str:
    """A large amount (a revenue) shortened: 94076168920 'USD' -> '$94.08B'; 48641200 'CAD' -> '48.64M CAD'."""
    if is_missing(value):
        return MISSING
    for scale, suffix in _SCALES:
        if abs(float(value)) >= scale:
            return _LAST_DIGIT.sub(rf"\g<1>{suffix}", money(float(value) / scale, currency), count=1)
    return money(value, currency)


def revisions_text(row: Mapping[Any, Any]) -> str:
    """'-63.0% (3 up, 20 down)': the net revisions over 30 days and the counts behind them."""
    net = row.get("net_revisions_30d")
    up, down = row.get("up_30d"), row.get("down_30d")
    if is_missing(up) or is_missing(down):
        return MISSING
    return f"{percent(net)} ({count(up)} up, {count(down)} down)"


def estimate_texts(row: Mapping[Any, Any]) -> dict[str, str]:
    """One estimates row (``ESTIMATES_TABLE``) as text, by ``ESTIMATE_COLUMNS``."""
    currency = row.get("currency")
    return {
        "Period": period_text(row.get("period"), row.get("end_date")),
        "EPS estimate": money(row.get("eps_mean"), currency),
        "EPS range": money_range(row.get("eps_low"), row.get("eps_high"), currency),
        "Analysts": count(row.get("eps_analysts")),
        "EPS growth": percent(row.get("eps_growth")),
        "Revenue estimate": amount_text(row.get("revenue_mean"), currency),
        "Revenue growth": percent(row.get("revenue_growth")),
        "30-day revision": percent(row.get("revision_30d")),
        "90-day revision": percent(row.get("revision_90d")),
        "Net revisions (30 days)": revisions_text(row),
        "EPS dispersion": percent(row.get("eps_dispersion"), signed=False),
    }


def estimate_cells(rows: Sequence[Mapping[Any, Any]]) -> dict[str, list[str]]:
    """The figures of estimates rows as text columns (``ESTIMATE_COLUMNS``)."""
    texts = [estimate_texts(row) for row in rows]
    return {name: [text[name] for text in texts] for name in ESTIMATE_COLUMNS}


def beat_word(estimate: Any, actual: Any) -> str:
    """'beat', 'missed' or 'met' the estimate; '—' unless both are known."""
    if is_missing(estimate) or is_missing(actual):
        return MISSING
    return "beat" if actual > estimate else ("missed" if actual < estimate else "met")


def surprise_cells(rows: Sequence[Mapping[Any, Any]]) -> dict[str, list[str]]:
    """Reported quarters (``SURPRISES`` rows) as text columns (``SURPRISE_COLUMNS``), each in its currency."""
    texts = [
        {
            "Quarter": dated(row.get("quarter")),
            "EPS estimate": money(row.get("eps_estimate"), row.get("currency")),
            "EPS actual": money(row.get("eps_actual"), row.get("currency")),
            "Difference": money(row.get("eps_difference"), row.get("currency")),
            "Surprise": percent(row.get("surprise")),
            "Beat": beat_word(row.get("eps_estimate"), row.get("eps_actual")),
        }
        for row in rows
    ]
    return {name: [text[name] for text in texts] for name in SURPRISE_COLUMNS}


def beat_rate_text(row: Mapping[Any, Any]) -> str:
    """'beat the EPS estimate in 3 of 4 reported quarters (75.0%, 2023-12-31 to 2024-09-30)'."""
    judged = row.get("beat_quarters")
    if judged is None or is_missing(judged):
        return "no earnings history recorded"
    quarters = int(judged)
    if quarters == 0:
        return "no reported quarter with both an estimate and an actual"
    span = f"{row.get('first_quarter')} to {row.get('last_quarter')}" if quarters > 1 else row.get("last_quarter")
    plural = "s" if quarters != 1 else ""
    return (
        f"beat the EPS estimate in {count(row.get('beats'))} of {count(quarters)} reported quarter{plural}"
        f" ({percent(row.get('beat_rate'), signed=False)}, {span})"
    )


def currency_note(currency: Any, quote_currency: Any = None) -> str:
    """Which currency the estimates are in: 'in CNY, the company's reporting currency (its price is in USD)'."""
    if is_missing(currency) or currency == "":
        return "in a currency Yahoo did not name"
    if is_missing(quote_currency) or quote_currency == "" or quote_currency == currency:
        return f"in {currency}"
    return f"in {currency}, the company's reporting currency (its price is in {quote_currency})"


def no_estimates_text(ticker: str, where: str, *, no_coverage: bool = False) -> str:
    """'SPY: the local store has no estimates for it (Yahoo: no analyst coverage)'."""
    why = " (Yahoo: no analyst coverage)" if no_coverage else ""
    return f"{ticker}: {where} has no estimates for it{why}"


__all__ = [
    "ESTIMATE_COLUMNS",
    "PERIOD_WORDS",
    "SURPRISE_COLUMNS",
    "amount_text",
    "beat_rate_text",
    "beat_word",
    "currency_note",
    "estimate_cells",
    "estimate_texts",
    "no_estimates_text",
    "period_text",
    "revisions_text",
    "surprise_cells",
]
