"""Ticker symbols: parsing what a user typed, validating it, and the default watchlist.

Symbols follow Yahoo's spelling, because Yahoo is the live source: share classes with a dash
(``BRK-B``), exchange suffixes with a dot (``1810.HK``, ``VOD.L``). ``BRK.B`` is ambiguous in
general (``.L`` is also an exchange) so it is only rewritten to ``BRK-B`` when the dashed form is
a ticker we know.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

#: The default watchlist: EV makers and peers.
WATCHLIST: tuple[str, ...] = ("F", "TSLA", "NVDA", "PSNY", "LOT", "1810.HK", "1211.HK", "BYDDF")

MAX_TICKERS = 600  # the S&P 500 universe fits; a pasted novel does not

# Letters, digits and the punctuation Yahoo uses (^GSPC, EURUSD=X, BTC-USD, 1810.HK, M&M.NS), 1-15
# chars, starting with a letter, digit or caret (so never with a spreadsheet's = + - @).
_SYMBOL = re.compile(r"[A-Z0-9^][A-Z0-9.\-=^&]{0,14}")
_SEPARATORS = re.compile(r"[\s,;]+")
#: Why a malformed symbol is refused, in every message that refuses one.
NOT_A_SYMBOL = "not a ticker symbol (letters, digits and . - ^ = & only, at most 15)"


@dataclass(frozen=True)
class ParsedTickers:
    """Result of :func:`parse_tickers`: the usable symbols and a reason for each rejected one."""

    valid: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)

    def messages(self) -> list[str]:
        return [f"{raw}: {reason}" for raw, reason in self.invalid.items()]


def normalize(raw: str, known: Collection[str] = ()) -> str:
    """Upper-case and trim a symbol; map ``BRK.B`` to ``BRK-B`` when only the latter is known."""
    symbol = raw.strip().upper()
    if known and symbol not in known and "." in symbol:
        # Every dot a class dash (BRK.B -> BRK-B), or all but an exchange suffix (BT.A.L -> BT-A.L).
        head, _, suffix = symbol.rpartition(".")
        for dashed in (symbol.replace(".", "-"), f"{head.replace('.', '-')}.{suffix}"):
            if dashed in known:
                return dashed
    return symbol


def is_valid_symbol(symbol: str) -> bool:
    """True when `symbol` is shaped like a Yahoo ticker (it may still not exist)."""
    return bool(_SYMBOL.fullmatch(symbol)) and any(ch.isalnum() for ch in symbol)


def parse_tickers(text: str | Iterable[str], known: Collection[str] | None = None) -> ParsedTickers:
    """Split user input into symbols, keep the good ones in order, name the bad ones.

    `text` is either a string (separated by commas, semicolons or whitespace) or an iterable
    of strings. With `known`, a well-formed symbol that is not in it is rejected as unknown;
    without, only malformed symbols are rejected. Duplicates are dropped silently.
    """
    parts = _SEPARATORS.split(text) if isinstance(text, str) else [p for t in text for p in _SEPARATORS.split(t)]
    valid: list[str] = []
    invalid: dict[str, str] = {}
    overflow: list[str] = []
    for raw in parts:
        if not raw.strip():
            continue
        symbol = normalize(raw, known or ())
        if not is_valid_symbol(symbol):
            invalid[raw.strip()[:40]] = NOT_A_SYMBOL
        elif known is not None and symbol not in known:
            invalid[symbol] = "unknown ticker: not in the data"
        elif symbol not in valid:
            if len(valid) >= MAX_TICKERS:
                if symbol not in overflow:
                    overflow.append(symbol)
                continue
            valid.append(symbol)
    if overflow:  # one message for the lot, not one line per ticker left out
        named = overflow[0] if len(overflow) == 1 else f"{overflow[0]} and {len(overflow) - 1:,} more"
        invalid[named] = f"left out: too many tickers (at most {MAX_TICKERS:,})"
    return ParsedTickers(valid, invalid)
