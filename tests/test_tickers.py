"""Parsing and validating what users type as tickers."""

from __future__ import annotations

import pytest

from ratings.tickers import MAX_TICKERS, NOT_A_SYMBOL, WATCHLIST, is_valid_symbol, normalize, parse_tickers

KNOWN = frozenset({"F", "TSLA", "BRK-B", "1810.HK", "VOD.L", "BT-A.L"})


@pytest.mark.parametrize(
    "symbol",
    ["F", "TSLA", "BRK-B", "1810.HK", "1211.HK", "VOD.L", "^GSPC", "EURUSD=X", "BTC-USD", "M&M.NS", "BT-A.L",
     "DX-Y.NYB", "0700.HK", "7203.T", "SAP.DE", *WATCHLIST],
)  # fmt: skip
def test_real_symbol_shapes_are_valid(symbol: str) -> None:
    assert is_valid_symbol(symbol)


@pytest.mark.parametrize(
    "symbol",
    ["", "=1+1", "<SCRIPT>", "A B", "TOO-LONG-SYMBOL-1", "-", "^", "F;DROP", "Ä", "'F'", ".HK", "&F", "F\n", "\nF"],
)
def test_malformed_symbols_are_rejected(symbol: str) -> None:
    assert not is_valid_symbol(symbol)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" f ", "F"),
        ("brk.b", "BRK-B"),
        ("BRK-B", "BRK-B"),
        ("vod.l", "VOD.L"),
        ("1810.hk", "1810.HK"),
        ("xyz.b", "XYZ.B"),
        ("bt.a.l", "BT-A.L"),  # the class dash, the exchange dot kept
        ("bt-a.l", "BT-A.L"),
    ],
)
def test_normalize_uses_yahoo_spelling_only_for_known_share_classes(raw: str, expected: str) -> None:
    assert normalize(raw, KNOWN) == expected


@pytest.mark.parametrize(
    ("text", "valid", "invalid"),
    [
        ("F, TSLA", ["F", "TSLA"], []),
        ("f tsla;1810.hk\nF", ["F", "TSLA", "1810.HK"], []),  # any separator; duplicates dropped
        ("F, ZZZZ", ["F"], ["ZZZZ"]),
        ("=1+1, F", ["F"], ["=1+1"]),
        ("<script>alert(1)</script>", [], ["<script>alert(1)</script>"]),
        ("", [], []),
        (" , ;; ", [], []),
    ],
)
def test_parse_tickers_keeps_good_and_names_bad(text: str, valid: list[str], invalid: list[str]) -> None:
    parsed = parse_tickers(text, known=KNOWN)
    assert parsed.valid == valid
    assert list(parsed.invalid) == invalid
    assert len(parsed.messages()) == len(invalid)


def test_unknown_is_only_checked_against_a_known_set() -> None:
    assert parse_tickers("ZZZZ").valid == ["ZZZZ"]
    assert parse_tickers("ZZZZ", known=KNOWN).invalid == {"ZZZZ": "unknown ticker: not in the data"}


def test_parse_accepts_a_list_of_strings() -> None:
    assert parse_tickers(["F", "tsla, brk.b"], known=KNOWN).valid == ["F", "TSLA", "BRK-B"]


@pytest.mark.parametrize(("extra", "named"), [(1, f"T{MAX_TICKERS}"), (3, f"T{MAX_TICKERS} and 2 more")])
def test_too_many_tickers_are_named_in_one_message_not_silently_dropped(extra: int, named: str) -> None:
    symbols = [f"T{i}" for i in range(MAX_TICKERS + extra)] + ["T0", f"T{MAX_TICKERS}"]  # repeats count once
    parsed = parse_tickers(symbols)
    assert parsed.valid == symbols[:MAX_TICKERS]
    assert parsed.invalid == {named: f"left out: too many tickers (at most {MAX_TICKERS:,})"}


def test_an_absurdly_long_bad_input_is_truncated_in_the_message() -> None:
    parsed = parse_tickers("=" * 5000)
    assert parsed.valid == [] and parsed.invalid == {"=" * 40: NOT_A_SYMBOL}
