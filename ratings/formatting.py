"""Data in words for people: numbers (percentages, currency symbols, thousands separators, an em dash
for unknown), dates, labels, and the text cells that every view of them builds, dashboard and terminal alike."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pandas as pd

from .dataset import Dataset
from .schema import COUNT_COLUMNS

MISSING = "—"

_SYMBOLS = {"USD": "$", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "CAD": "CA$", "AUD": "A$"}
_COUNT_NAMES = dict(zip(COUNT_COLUMNS, ("Strong Buy", "Buy", "Hold", "Sell", "Strong Sell"), strict=True))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return math.isnan(float(value)) or math.isinf(float(value))
    except (TypeError, ValueError):
        return False


def percent(value: Any, *, digits: int = 1, signed: bool = True) -> str:
    """0.1116 -> '+11.2%'; NaN -> '—'. Halves round up, as in :func:`money`; a rounded zero has no sign."""
    if _is_missing(value):
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
    return values.map(lambda v: v if _is_missing(v) else float(_half_up(v, digits))).astype("float64")


def money(value: Any, currency: Any = "USD", *, digits: int = 2) -> str:
    """14.901 'USD' -> '$14.90'; 22.6 'HKD' -> 'HK$22.60'; 1234.5 'GBp' -> '1,234.50p'."""
    if _is_missing(value):
        return MISSING
    amount = _half_up(value, digits) + 0  # + 0: -0.0 becomes 0.0
    sign, number = ("-" if amount < 0 else ""), f"{abs(amount):,.{digits}f}"
    code = "" if _is_missing(currency) else str(currency).strip()
    if not code:
        return sign + number
    if code == "GBp":  # London quotes in pence
        return f"{sign}{number}p"
    symbol = _SYMBOLS.get(code.upper())
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"


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


# --- times, ages, analysts' actions and changes (the dashboard's live pages) ---------------------


def _utc(value: Any) -> pd.Timestamp | None:
    """`value` (ISO text, datetime, Timestamp; naive means UTC) as a UTC Timestamp; None if unknown."""
    if _is_missing(value) or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _text(value: Any) -> str:
    """A text cell: '—' for unknown or empty."""
    return MISSING if _is_missing(value) or value == "" else str(value)


def utc_minute(value: Any) -> str:
    """'2026-11-24T14:03:11Z' -> '2026-11-24 14:03 UTC'; unknown -> '—'."""
    stamp = _utc(value)
    return MISSING if stamp is None else stamp.strftime("%Y-%m-%d %H:%M UTC")


def age_text(then: Any, now: Any) -> str:
    """How old `then` is at `now`: 'less than a minute old', '12 min old', '3 h old', '2 days old'."""
    start, end = _utc(then), _utc(now)
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
    if _is_missing(action) or action == "":
        return MISSING
    return ACTION_WORDS.get(str(action).lower(), str(action))


def grade_change(before: Any, after: Any) -> str:
    """'Neutral → Buy', 'Buy' when there was no previous grade, '—' when neither is known."""
    known = [str(g) for g in (before, after) if not _is_missing(g) and g != ""]
    if not known:
        return MISSING
    if len(known) == 2 and known[0] != known[1]:
        return f"{known[0]} → {known[1]}"
    return known[-1]


def target_change(prior: Any, current: Any, currency: Any = None) -> str:
    """'$250.00 → $300.00 (+20.0%)', '$240.00 (no prior target)', '—' without a current target."""
    if _is_missing(current):
        return MISSING
    now_text = money(current, currency)
    if _is_missing(prior) or float(prior) <= 0:
        return f"{now_text} (no prior target)"
    return f"{money(prior, currency)} → {now_text} ({percent(float(current) / float(prior) - 1)})"


def upgrades_table(upgrades: pd.DataFrame, currency: Any = None) -> pd.DataFrame:
    """Analysts' actions (``UPGRADES``) as text for people, newest first.

    Targets are in `currency` (Yahoo quotes a firm's targets in the ticker's quote currency).
    """
    rows = upgrades.sort_values("graded_at", ascending=False, kind="stable").to_dict("records")
    return pd.DataFrame(
        {
            "Date": [dated(r["graded_at"][:10]) if isinstance(r["graded_at"], str) else MISSING for r in rows],
            "Firm": [_text(r["firm"]) for r in rows],
            "Action": [action_text(r["action"]) for r in rows],
            "Grade": [grade_change(r["from_grade"], r["to_grade"]) for r in rows],
            "Price target": [
                target_change(r.get("prior_price_target"), r.get("current_price_target"), currency) for r in rows
            ],
            "Target action": [_text(r.get("price_target_action")) for r in rows],
        },
        columns=["Date", "Firm", "Action", "Grade", "Price target", "Target action"],
    )


_CHANGE_WORDS = {
    "label": "Consensus label changed",
    "target raise": "Target raised",
    "target cut": "Target cut",
    "upgrade": "Upgrade",
    "downgrade": "Downgrade",
    "initiation": "Initiation",
}


def change_cells(rows: Sequence[Mapping[Any, Any]], text: Callable[[Any], str] = _text) -> dict[str, list[str]]:
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
                source if _is_missing(r["firm"]) else firm
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


def staleness_lines(
    failures: Mapping[str, str],
    *,
    attempted: int,
    refreshed_at: Any,
    data_from: Mapping[str, Any],
    now: Any,
) -> list[str]:
    """The staleness banner after a refresh that failed for some or all tickers; [] if none is stale.

    `failures` maps a ticker to why the refresh failed for it; `data_from` maps a ticker to when
    the data shown for it was fetched (missing: no data at all). A failed ticker whose data is
    newer than the refresh's start (fetched again since) is no longer stale and is left out. The first
    line says how old the data shown is; then the reasons, grouped; then the tickers grouped by the
    age of their data (unless no ticker has any, which the first line says already).
    """
    attempt = _utc(refreshed_at)
    stale: dict[str, pd.Timestamp | None] = {}
    for ticker in failures:
        fetched = _utc(data_from.get(ticker))
        # Same second counts as before: the timestamps have whole seconds, and the refresh wrote nothing.
        if fetched is None or attempt is None or fetched <= attempt:
            stale[ticker] = fetched
    if not stale:
        return []
    dates = [d for d in stale.values() if d is not None]
    everything = len(stale) >= attempted
    scope = f"all {attempted} tickers" if everything else f"{len(stale)} of {attempted} tickers"
    when = utc_minute(refreshed_at)
    if dates:
        oldest = min(dates)
        head = f"Data from {utc_minute(oldest)}, {age_text(oldest, now)}: the refresh of {when} failed for {scope}"
        head += ", so the last good data is shown." if len(dates) == len(stale) else "."
    else:
        head = f"No data: the refresh of {when} failed for {scope} and there is no earlier data."
    reasons = reasons_text({ticker: str(failures[ticker]) or "unknown reason" for ticker in stale})
    lines = [head, f"Refresh failed: {reasons}."]
    if len(stale) > 1 and dates:  # one ticker's age is the first line already, and so is "no data"
        ages = by_text(
            {t: f"data from {utc_minute(f)}, {age_text(f, now)}" if f else "no earlier data" for t, f in stale.items()}
        )
        lines += [f"{', '.join(ts)}: {age}" for age, ts in ages.items()]
    return lines


def by_text(said: Mapping[str, str]) -> dict[str, list[str]]:
    """{'A': 'x', 'B': 'y', 'C': 'x'} -> {'x': ['A', 'C'], 'y': ['B']}: tickers grouped by what is said
    of them, in first-seen order, so that a message names each reason once."""
    grouped: dict[str, list[str]] = {}
    for ticker, text in said.items():
        grouped.setdefault(text, []).append(ticker)
    return grouped


def reasons_text(reasons: Mapping[str, str]) -> str:
    """{'A': 'x', 'B': 'y', 'C': 'x'} -> 'x (A, C); y (B)'."""
    return "; ".join(f"{reason} ({', '.join(tickers)})" for reason, tickers in by_text(reasons).items())


# --- a dataset described: its name, label and load warnings --------------------------------------


def kind_name(kind: str) -> str:
    """'the bundled snapshot' or 'the local store' (live data is read from the store), for sentences."""
    return "the bundled snapshot" if kind == "bundle" else "the local store"


def dataset_label(data: Dataset) -> str:
    """'Bundled snapshot (consensus as of 2026-07-02)' or 'Local store (PATH, last snapshot 2026-07-02 09:30 UTC)'."""
    if data.kind == "bundle":
        return f"Bundled snapshot (consensus as of {data.as_of or 'unknown'})"
    newest = f"last snapshot {utc_minute(data.as_of)}" if data.as_of else "no snapshot yet"
    return f"Local store ({data.location}, {newest})"


def dataset_warnings(data: Dataset) -> list[str]:
    """What a person should know about the loaded data: an empty store, a last fetch that failed."""
    if data.kind == "bundle":
        return []
    lines: list[str] = []
    if data.consensus.empty:
        lines.append(f"The local store {data.location} holds no consensus yet: run `ratings fetch TICKER...`.")
    entry = data.last_fetch
    if entry is not None and entry.failed:
        reasons = reasons_text(entry.reasons)  # the failures' reasons, and "no analyst coverage" ones
        found_none = f", and found no analyst coverage for {entry.no_coverage}" if entry.no_coverage else ""
        lines.append(
            f"The last fetch ({utc_minute(entry.finished_at)}) failed for {entry.failed} of "
            f"{len(entry.tickers)} tickers{found_none}" + (f": {reasons}" if reasons else "") + "."
        )
    return lines


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
