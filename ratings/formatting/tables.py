"""Tables in words: the text cells every view of the data builds (dashboard and terminal alike),
the overview's table, analysts' actions, what moved."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from .values import (
    MISSING,
    as_of_text,
    count,
    counts_text,
    dated,
    is_missing,
    label_short,
    label_text,
    money,
    money_range,
    percent,
    text_or_missing,
    utc_minute,
)

#: The figures every view of a consensus row shows, in this order: the overview, a ticker's history, a fetch.
FIGURE_COLUMNS: tuple[str, ...] = (
    "Consensus", "Analysts", "Price", "Price date", "Mean target", "Upside", "Target range",
)  # fmt: skip
CLOSE_MARK = " (close)"  # beside a price taken from a close, not quoted with the consensus


def figure_texts(row: Mapping[Any, Any]) -> dict[str, str]:
    """One consensus row's figures as text, by ``FIGURE_COLUMNS``: label, analysts, price, targets, upside."""
    currency = row["currency"]
    return {
        "Consensus": label_text(row),
        "Analysts": count(row["n_analysts"]),
        "Price": money(row["price"], currency),
        "Price date": dated(row["price_as_of"]),
        "Mean target": money(row["target_mean"], currency),
        "Upside": percent(row["upside_mean"]),
        "Target range": money_range(row["target_low"], row["target_high"], currency),
    }


def figure_cells(rows: Sequence[Mapping[Any, Any]], *, close_mark: str = "Price date") -> dict[str, list[str]]:
    """The figures of `rows` as text columns (``FIGURE_COLUMNS``). A price taken from a close
    (``price_source`` 'close') gets ``CLOSE_MARK`` in column `close_mark`: beside its date in the
    overview, where one close prices the latest consensus; beside the price in a history."""
    texts = [figure_texts(row) for row in rows]
    for text, row in zip(texts, rows, strict=True):
        if row["price_source"] == "close":
            text[close_mark] += CLOSE_MARK
    return {name: [text[name] for text in texts] for name in FIGURE_COLUMNS}


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The overview's human-readable table: one text column per figure, source and date beside it."""
    rows = table.to_dict("records")
    return pd.DataFrame(
        {
            "Ticker": table["ticker"],
            "Name": table["name"].fillna(MISSING),
            **figure_cells(rows),
            "Upside range": [_upside_range(r) for r in rows],
            "Source": table["source"].fillna(MISSING),
            "As of": [dated(v) for v in table["as_of"]],
        }
    )


#: The overview's key figures, in this order: the first four fit a phone's width, all of them a laptop's.
OVERVIEW_KEY_COLUMNS: tuple[str, ...] = (
    "Ticker", "Consensus", "Upside", "Mean target", "Analysts", "Price", "As of", "Source",
)  # fmt: skip
#: The overview's details, behind a toggle: what the key figures stand on.
OVERVIEW_DETAIL_COLUMNS: tuple[str, ...] = (
    "Name", "Ratings", "Median target", "Upside (median)", "Target range", "Upside range", "Price date",
)  # fmt: skip


def overview_table(
    table: pd.DataFrame, *, consensus_days: pd.Series, price_days: pd.Series, stale: pd.Series, stale_price: pd.Series
) -> pd.DataFrame:
    """The overview's table: the key figures (``OVERVIEW_KEY_COLUMNS``), then the details.

    `consensus_days` and `price_days` are each row's age in days (NaN without a day), `stale` and
    `stale_price` whether it is past its threshold (:mod:`ratings.core`): both say so in the cell.
    """
    rows = table.to_dict("records")
    upside = [percent(r["upside_mean"]) for r in rows]
    return pd.DataFrame(
        {
            "Ticker": table["ticker"].to_numpy(),
            "Consensus": [label_short(r) for r in rows],
            "Upside": upside,
            "Mean target": [money(r["target_mean"], r["currency"]) for r in rows],
            "Analysts": [count(r["n_analysts"]) for r in rows],
            "Price": [
                money(r["price"], r["currency"]) + (CLOSE_MARK if r["price_source"] == "close" else "") for r in rows
            ],
            "As of": [
                as_of_text(v, d, is_stale=s) for v, d, s in zip(table["as_of"], consensus_days, stale, strict=True)
            ],
            "Source": table["source"].fillna(MISSING).to_numpy(),
            "Name": table["name"].fillna(MISSING).to_numpy(),
            "Ratings": [counts_text(r) or MISSING for r in rows],
            "Median target": [money(r["target_median"], r["currency"]) for r in rows],
            "Upside (median)": [percent(r["upside_median"]) for r in rows],
            "Target range": [money_range(r["target_low"], r["target_high"], r["currency"]) for r in rows],
            "Upside range": [_upside_range(r) for r in rows],
            "Price date": [
                as_of_text(v, d, is_stale=s)
                for v, d, s in zip(table["price_as_of"], price_days, stale_price, strict=True)
            ],
        },
        columns=[*OVERVIEW_KEY_COLUMNS, *OVERVIEW_DETAIL_COLUMNS],
    )


def _upside_range(row: Mapping[Any, Any]) -> str:
    if is_missing(row["upside_low"]):
        return MISSING
    return f"{percent(row['upside_low'])} to {percent(row['upside_high'])}"


#: Yahoo's analyst actions in words.
ACTION_WORDS: dict[str, str] = {
    "up": "Upgrade",
    "down": "Downgrade",
    "init": "Initiation",
    "main": "Maintained",
    "reit": "Reiterated",
}


def action_text(action: Any) -> str:
    """'up' -> 'Upgrade'; an action Yahoo may add later is shown as it came."""
    if is_missing(action) or action == "":
        return MISSING
    return ACTION_WORDS.get(str(action).lower(), str(action))


def grade_change(before: Any, after: Any) -> str:
    """'Neutral → Buy', 'Buy' when there was no previous grade, '—' when neither is known."""
    known = [str(g) for g in (before, after) if not is_missing(g) and g != ""]
    if not known:
        return MISSING
    if len(known) == 2 and known[0] != known[1]:
        return f"{known[0]} → {known[1]}"
    return known[-1]


def target_change(prior: Any, current: Any, currency: Any = None) -> str:
    """'$250.00 → $300.00 (+20.0%)', '$240.00 (no prior target)', '—' without a current target."""
    if is_missing(current):
        return MISSING
    now_text = money(current, currency)
    if is_missing(prior) or float(prior) <= 0:
        return f"{now_text} (no prior target)"
    return f"{money(prior, currency)} → {now_text} ({percent(float(current) / float(prior) - 1)})"


def upgrades_table(upgrades: pd.DataFrame, currency: Any = None) -> pd.DataFrame:
    """Analysts' actions (``UPGRADES``) as text for people, newest first.

    Targets are in `currency` (Yahoo quotes a firm's targets in the ticker's quote currency). Where
    no action has a price target (Yahoo's answers before 2025 carry none), the two target columns
    are left out rather than shown empty.
    """
    rows = upgrades.sort_values("graded_at", ascending=False, kind="stable").to_dict("records")
    targets = ("prior_price_target", "current_price_target", "price_target_action")
    with_targets = any(not is_missing(r.get(c)) for r in rows for c in targets)
    columns = ["Date", "Firm", "Action", "Grade", *(["Price target", "Target action"] if with_targets else [])]
    return pd.DataFrame(
        {
            "Date": [dated(r["graded_at"][:10]) if isinstance(r["graded_at"], str) else MISSING for r in rows],
            "Firm": [text_or_missing(r["firm"]) for r in rows],
            "Action": [action_text(r["action"]) for r in rows],
            "Grade": [grade_change(r["from_grade"], r["to_grade"]) for r in rows],
            "Price target": [
                target_change(r.get("prior_price_target"), r.get("current_price_target"), currency) for r in rows
            ],
            "Target action": [text_or_missing(r.get("price_target_action")) for r in rows],
        },
        columns=columns,
    )


_CHANGE_WORDS = {
    "label": "Consensus label changed",
    "target raise": "Target raised",
    "target cut": "Target cut",
    "upgrade": "Upgrade",
    "downgrade": "Downgrade",
    "initiation": "Initiation",
}


def change_cells(
    rows: Sequence[Mapping[Any, Any]], text: Callable[[Any], str] = text_or_missing
) -> dict[str, list[str]]:
    """The cells every view of what moved (``ratings.changes.CHANGES`` rows) shows alike, by field:
    ``source``, ``firm``, ``before`` and ``after`` as `text` writes a cell ('—' for unknown), and
    ``change``, a target's move, as a signed percentage. A view words the kind and the dates itself."""
    cells = {field: [text(r[field]) for r in rows] for field in ("source", "firm", "before", "after")}
    cells["change"] = [percent(r["change"]) for r in rows]
    return cells


def changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """What moved (``ratings.changes.CHANGES``) as text for people, in the frame's order.

    Targets arrive already written in their currency: :func:`worded_changes` does that.
    """
    rows = changes.to_dict("records")
    cells = change_cells(rows)
    return pd.DataFrame(
        {
            "Date": [dated(r["date"]) for r in rows],
            "Ticker": [str(r["ticker"]) for r in rows],
            "What": [_CHANGE_WORDS.get(str(r["kind"]), str(r["kind"])) for r in rows],
            "By": [
                source if is_missing(r["firm"]) else firm
                for r, firm, source in zip(rows, cells["firm"], cells["source"], strict=True)
            ],
            "Before": cells["before"],
            "After": cells["after"],
            "Change": cells["change"],
            "Since": [utc_minute(r["since"]) if len(str(r["since"])) > 10 else dated(r["since"]) for r in rows],
            "Source": cells["source"],
        },
        columns=["Date", "Ticker", "What", "By", "Before", "After", "Change", "Since", "Source"],
    )


def worded_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """A ``CHANGES`` frame with each target move's ``before`` and ``after`` written in its currency.

    The frame from :func:`ratings.changes.changes` carries the targets as numbers; labels and
    grades are words already and are left as they are.
    """
    out = changes.copy()
    moves = out["kind"].isin(["target raise", "target cut"]).fillna(False).astype(bool)
    for text, number, unit in (("before", "target_before", "currency_before"), ("after", "target_after", "currency")):
        written = [money(v, c) for v, c in zip(out.loc[moves, number], out.loc[moves, unit], strict=True)]
        out[text] = out[text].astype("string")
        out.loc[moves, text] = written
    return out


__all__ = [
    "ACTION_WORDS",
    "CLOSE_MARK",
    "FIGURE_COLUMNS",
    "OVERVIEW_DETAIL_COLUMNS",
    "OVERVIEW_KEY_COLUMNS",
    "action_text",
    "change_cells",
    "changes_table",
    "display_table",
    "figure_cells",
    "figure_texts",
    "grade_change",
    "overview_table",
    "target_change",
    "upgrades_table",
    "worded_changes",
]
