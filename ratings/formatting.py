"""Numbers for people: percentages, currency symbols, thousands separators, and an em dash for unknown."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from .schema import COUNT_COLUMNS

MISSING = "—"

_SYMBOLS = {"USD": "$", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "CAD": "CA$", "AUD": "A$"}
_COUNT_NAMES = dict(zip(COUNT_COLUMNS, ("Strong Buy", "Buy", "Hold", "Sell", "Strong Sell"), strict=True))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value)) or math.isinf(float(value))
    except (TypeError, ValueError):
        return False


def percent(value: Any, *, digits: int = 1, signed: bool = True) -> str:
    """0.1116 -> '+11.2%'; NaN -> '—'."""
    if _is_missing(value):
        return MISSING
    return f"{float(value) * 100:{'+' if signed else ''},.{digits}f}%"


def money(value: Any, currency: Any = "USD", *, digits: int = 2) -> str:
    """14.901 'USD' -> '$14.90'; 22.6 'HKD' -> 'HK$22.60'; 1234.5 'GBp' -> '1,234.50p'."""
    if _is_missing(value):
        return MISSING
    # Round the decimal the source wrote (13.405 -> 13.41), not its binary neighbour 13.40499...
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    number = f"{rounded:,.{digits}f}"
    if _is_missing(currency):
        return number
    code = str(currency)
    if code == "GBp":  # London quotes in pence
        return f"{number}p"
    symbol = _SYMBOLS.get(code.upper())
    return f"{symbol}{number}" if symbol else f"{number} {code}"


def count(value: Any) -> str:
    """1234 -> '1,234'; <NA> -> '—'."""
    return MISSING if _is_missing(value) else f"{int(value):,}"


def money_range(low: Any, high: Any, currency: Any) -> str:
    """'$11.00 – $20.00', or '—' unless both ends are known."""
    if _is_missing(low) or _is_missing(high):
        return MISSING
    return f"{money(low, currency)} – {money(high, currency)}"


def counts_text(row: Mapping[Any, Any]) -> str:
    """'2 Buy · 11 Hold · 1 Sell' from the known counts; '' when the source gives none."""
    parts = [f"{int(row[c])} {_COUNT_NAMES[c]}" for c in COUNT_COLUMNS if not _is_missing(row.get(c))]
    return " · ".join(parts)


def label_text(row: Mapping[Any, Any]) -> str:
    """'Hold (2.71 of 5; 2 Buy · 11 Hold · 1 Sell)' or 'No consensus in the data'."""
    label = row.get("consensus")
    if _is_missing(label):
        return "No consensus in the data" if row.get("coverage") == "none" else "No rating"
    detail = [f"{float(row['rating_mean']):.2f} of 5"] if not _is_missing(row.get("rating_mean")) else []
    if counts := counts_text(row):
        detail.append(counts)
    return f"{label} ({'; '.join(detail)})" if detail else str(label)


def dated(value: Any) -> str:
    """An ISO date as text; reduced precision says so: '2026 (no day given)'."""
    if _is_missing(value) or value == "":
        return MISSING
    text = str(value)
    return f"{text} (no day given)" if len(text) == 4 else text


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The overview's human-readable table: one text column per figure, source and date beside it."""
    rows = table.to_dict("records")
    return pd.DataFrame(
        {
            "Ticker": table["ticker"],
            "Name": table["name"].fillna(MISSING),
            "Consensus": [label_text(r) for r in rows],
            "Analysts": [count(r["n_analysts"]) for r in rows],
            "Price": [money(r["price"], r["currency"]) for r in rows],
            "Price date": [
                dated(r["price_as_of"]) + (" (close)" if r["price_source"] == "close" else "") for r in rows
            ],
            "Mean target": [money(r["target_mean"], r["currency"]) for r in rows],
            "Upside": [percent(r["upside_mean"]) for r in rows],
            "Target range": [money_range(r["target_low"], r["target_high"], r["currency"]) for r in rows],
            "Upside range": [
                MISSING
                if _is_missing(r["upside_low"])
                else f"{percent(r['upside_low'])} to {percent(r['upside_high'])}"
                for r in rows
            ],
            "Source": table["source"].fillna(MISSING),
            "As of": [dated(v) for v in table["as_of"]],
        }
    )
