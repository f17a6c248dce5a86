"""The firms' own grade words read as buy, hold or sell: one documented table, and nothing guessed.

Every research firm has its own scale: Morgan Stanley writes Overweight / Equal-Weight / Underweight,
Oppenheimer Outperform / Perform / Underperform, Susquehanna Positive / Neutral / Negative, CRT Capital
Buy / Fair Value / Sell. :data:`GRADE_STANCES` says which of the three stances each word takes; a word
is matched whatever its case, hyphens or spacing ("Equal-Weight", "Equal-weight" and "equal weight" are
one word). A word the table does not hold has no stance: it is named (:func:`unknown_grades`), never
guessed from its look, and its action is not scored.
"""

from __future__ import annotations

import re

import pandas as pd

BUY, HOLD, SELL = "buy", "hold", "sell"
STANCES: tuple[str, ...] = (BUY, HOLD, SELL)

#: Each stance and the grade words that take it, as firms write them.
GRADE_STANCES: dict[str, tuple[str, ...]] = {
    BUY: (
        "Strong Buy", "Buy", "Conviction Buy", "Top Pick", "Long-Term Buy", "Speculative Buy", "Moderate Buy",
        "Outperform", "Outperformer", "Strong Outperform", "Market Outperform", "Sector Outperform",
        "Overweight", "Sector Overweight", "Positive", "Accumulate", "Add",
    ),
    HOLD: (
        "Hold", "Neutral", "Market Perform", "Sector Perform", "Perform", "Peer Perform", "In-Line",
        "Equal-Weight", "Sector Weight", "Market Weight", "Peer Weight", "Fair Value", "Sector Neutral", "Mixed",
    ),
    SELL: (
        "Strong Sell", "Sell", "Moderate Sell", "Underperform", "Underperformer", "Market Underperform",
        "Sector Underperform", "Underweight", "Sector Underweight", "Reduce", "Negative",
    ),
}  # fmt: skip

_SEPARATORS = re.compile(r"[\s\-_/]+")


def grade_key(word: str) -> str:
    """The form a grade word is matched in: case folded, hyphens and runs of spaces as one space."""
    return _SEPARATORS.sub(" ", word).strip().casefold()


_STANCE_OF: dict[str, str] = {grade_key(word): stance for stance, words in GRADE_STANCES.items() for word in words}


def stance(grades: pd.Series) -> pd.Series:
    """buy, hold or sell for each grade word; <NA> for a missing word or one the table does not hold."""
    words = grades.astype("string")
    # Worked out once per distinct word (a few dozen), then mapped onto every row.
    distinct = words.dropna().unique()
    found = {word: _STANCE_OF.get(grade_key(str(word))) for word in distinct}
    return words.map(found).astype("string")


def unknown_grades(grades: pd.Series) -> dict[str, int]:
    """Every grade word (as written) that the table does not hold, with how often it occurs, most often first."""
    written = grades.astype("string").dropna()
    unknown = written[stance(written).isna()]
    counted = unknown.value_counts()
    return {str(word): int(n) for word, n in sorted(counted.items(), key=lambda item: (-item[1], str(item[0])))}


def grade_table() -> pd.DataFrame:
    """The table as rows (stance, grade), for the Methodology page and the command line's help."""
    rows = [(stance_, word) for stance_, words in GRADE_STANCES.items() for word in words]
    return pd.DataFrame(rows, columns=["stance", "grade"]).astype("string")
