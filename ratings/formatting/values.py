"""Single values in words: money with its currency, percentages, counts, dates and ages; an em dash for unknown."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pandas as pd

from ..schema import COUNT_COLUMNS

MISSING = "—"

_SYMBOLS = {"USD": "$", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "CAD": "CA$", "AUD": "A$"}
_COUNT_NAMES = dict(zip(COUNT_COLUMNS, ("Strong Buy", "Buy", "Hold", "Sell", "Strong Sell"), strict=True))


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return math.isnan(float(value)) or math.isinf(float(value))
    except (TypeError, ValueError):
        return False


def percent(value: Any, *, digits: int = 1, signed: bool = True) -> str:
    """0.1116 -> '+11.2%'; NaN -> '—'. Halves round up, as in :func:`money`; a rounded zero has no sign."""
    if is_missing(value):
        return MISSING
    shown = _half_up(value, digits, scale=2) + 0  # + 0: -0.0 becomes 0.0
    return f"{shown:{'+' if signed else ''},.{digits}f}%"


def _half_up(value: Any, digits: int, *, scale: int = 0) -> Decimal:
    # Round the decimal the source wrote (13.405 -> 13.41), not its binary neighbour 13.40499...
    # `scale` shifts the point first (2: a fraction as a percentage), exactly.
    written = Decimal(repr(float(value))).scaleb(scale)
    try:
        return written.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than a Decimal holds (1e28 and up): no half to round
        return written


def rounded_for_display(values: pd.Series, digits: int = 2) -> pd.Series:
    """`values` rounded as :func:`money` rounds them, still numbers (NaN stays NaN): for a data
    grid that formats and sorts numbers itself, so that it shows the same figures as the text."""
    return values.map(lambda v: v if is_missing(v) else float(_half_up(v, digits))).astype("float64")


def money(value: Any, currency: Any = "USD", *, digits: int = 2) -> str:
    """14.901 'USD' -> '$14.90'; 22.6 'HKD' -> 'HK$22.60'; 1234.5 'GBp' -> '1,234.50p'."""
    if is_missing(value):
        return MISSING
    amount = _half_up(value, digits) + 0  # + 0: -0.0 becomes 0.0
    sign, number = ("-" if amount < 0 else ""), f"{abs(amount):,.{digits}f}"
    code = "" if is_missing(currency) else str(currency).strip()
    if not code:
        return sign + number
    if code == "GBp":  # London quotes in pence
        return f"{sign}{number}p"
    symbol = _SYMBOLS.get(code.upper())
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"


def count(value: Any) -> str:
    """1234 -> '1,234'; <NA> -> '—'."""
    return MISSING if is_missing(value) else f"{int(value):,}"


def money_range(low: Any, high: Any, currency: Any) -> str:
    """'$11.00 – $20.00', or '—' unless both ends are known."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{money(low, currency)} – {money(high, currency)}"


def counts_text(row: Mapping[Any, Any]) -> str:
    """'2 Buy · 11 Hold · 1 Sell' from the known counts; '' when the source gives none."""
    parts = [f"{int(row[c])} {_COUNT_NAMES[c]}" for c in COUNT_COLUMNS if not is_missing(row.get(c))]
    return " · ".join(parts)


def label_text(row: Mapping[Any, Any]) -> str:
    """'Hold (2.71 of 5; 2 Buy · 11 Hold · 1 Sell)' or 'No consensus in the data'."""
    label = row.get("consensus")
    if is_missing(label):
        return "No consensus in the data" if row.get("coverage") == "none" else "No rating"
    detail = [f"{float(row['rating_mean']):.2f} of 5"] if not is_missing(row.get("rating_mean")) else []
    if counts := counts_text(row):
        detail.append(counts)
    return f"{label} ({'; '.join(detail)})" if detail else str(label)


def label_short(row: Mapping[Any, Any]) -> str:
    """'Hold · 2.71' (the label and its 1-5 mean, for a narrow column) or 'No consensus in the data'."""
    text = label_text(row)
    if is_missing(row.get("consensus")) or is_missing(row.get("rating_mean")):
        return text.split(" (", 1)[0]
    return f"{row['consensus']} · {float(row['rating_mean']):.2f}"


def ago_text(days: Any) -> str:
    """Whole days of age in words: 'today', 'yesterday', '12 days ago', '3 weeks ago', '5 months ago',
    '2 years ago'; '' when unknown (a date without a day)."""
    if is_missing(days):
        return ""
    n = int(days)
    if n < 0:
        return "dated in the future"
    if n <= 1:
        return ("today", "yesterday")[n]
    for limit, unit, size in ((14, "day", 1), (60, "week", 7), (730, "month", 30.44), (10**9, "year", 365.25)):
        if n < limit:
            amount = max(1, round(n / size))
            return f"{amount} {unit}{'s' if amount != 1 else ''} ago"
    return ""  # unreachable: the last limit holds every age


#: Beside a figure older than its kind of data allows (:data:`ratings.core.STALE_AFTER`).
STALE_MARK = "⚠"


def as_of_text(value: Any, days: Any, *, is_stale: bool = False) -> str:
    """'2026-07-02 · 5 months ago', with ``STALE_MARK`` first when stale; a year-only date says so."""
    ago = ago_text(days)
    text = f"{dated(value)} · {ago}" if ago else dated(value)
    return f"{STALE_MARK} {text}" if is_stale and text != MISSING else text


def dated(value: Any) -> str:
    """An ISO date as text; reduced precision says so: '2026 (no day given)'."""
    if is_missing(value) or value == "":
        return MISSING
    text = str(value)
    return f"{text} (no day given)" if len(text) == 4 else text


def as_utc(value: Any) -> pd.Timestamp | None:
    """`value` (ISO text, datetime, Timestamp; naive means UTC) as a UTC Timestamp; None if unknown."""
    if is_missing(value) or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def text_or_missing(value: Any) -> str:
    """A text cell: '—' for unknown or empty."""
    return MISSING if is_missing(value) or value == "" else str(value)


def utc_minute(value: Any) -> str:
    """'2026-11-24T14:03:11Z' -> '2026-11-24 14:03 UTC'; unknown -> '—'."""
    stamp = as_utc(value)
    return MISSING if stamp is None else stamp.strftime("%Y-%m-%d %H:%M UTC")


def age_text(then: Any, now: Any) -> str:
    """How old `then` is at `now`: 'less than a minute old', '12 min old', '3 h old', '2 days old'."""
    start, end = as_utc(then), as_utc(now)
    if start is None or end is None:
        return "of unknown age"
    minutes = int((end - start).total_seconds() // 60)
    if minutes < -5:
        return "dated in the future (a clock is wrong)"
    if minutes < 1:
        return "less than a minute old"  # includes a clock a little ahead of ours
    if minutes < 60:
        return f"{minutes} min old"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h old"
    return f"{hours // 24} days old"


__all__ = [
    "MISSING",
    "STALE_MARK",
    "age_text",
    "ago_text",
    "as_of_text",
    "as_utc",
    "count",
    "counts_text",
    "dated",
    "is_missing",
    "label_short",
    "label_text",
    "money",
    "money_range",
    "percent",
    "rounded_for_display",
    "text_or_missing",
    "utc_minute",
]
