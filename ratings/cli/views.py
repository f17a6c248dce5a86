"""The command line's text views: the consensus table, a ticker's history, what moved and analysts'
estimates in fixed-width columns, the fetch's report lines, and JSON records.

Their cells come from :mod:`ratings.formatting`, as the dashboard's do; what a terminal adds is here:
user text escaped, the columns a terminal has room for, and the fixed-width layout.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import pandas as pd

from ..core import HISTORY_CLOSE_MAX_AGE, add_metrics
from ..dataset import Dataset
from ..formatting import (
    ESTIMATE_COLUMNS,
    MISSING,
    beat_rate_text,
    change_cells,
    currency_note,
    dated,
    display_table,
    estimate_cells,
    figure_cells,
    figure_texts,
    surprise_cells,
    utc_minute,
)
from ..schema import CONSENSUS_HISTORY, COUNT_COLUMNS, CSV_COLUMNS, conform
from .output import STATUS_WORDS, _printable

if TYPE_CHECKING:
    from ..refresh import RefreshOutcome

#: Columns of ``ratings history``, in order: one row per snapshot day and source, oldest first.
HISTORY_COLUMNS: tuple[str, ...] = (
    "ticker", "as_of", "observed_at", "source", "consensus", "rating_mean",
    *COUNT_COLUMNS, "n_analysts", "currency", "price", "price_as_of", "price_source",
    "target_mean", "target_low", "target_high", "upside_mean",
)  # fmt: skip
NAME_WIDTH = 28  # company names are cut to keep a terminal row readable

# ------------------------------------------------------------------------------------------ JSON


def _json_value(value: Any) -> Any:
    """A frame cell as JSON: None for every kind of missing (and for inf), plain Python otherwise."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value if isinstance(value, bool | int | str) else str(value)


def records(table: pd.DataFrame, columns: Sequence[str] = CSV_COLUMNS) -> list[dict[str, Any]]:
    """`columns` of `table` (the CSV contract by default) as JSON-ready records, keys in that order."""
    values = {name: table[name].tolist() for name in columns}
    return [{name: _json_value(values[name][i]) for name in columns} for i in range(len(table))]


def json_text(table: pd.DataFrame, columns: Sequence[str] = CSV_COLUMNS) -> str:
    # allow_nan=False: a NaN that slipped through is a bug to raise, not invalid JSON to print.
    return json.dumps(records(table, columns), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# ---------------------------------------------------------------------------------------- layout

TERMINAL_COLUMNS = [
    "Ticker", "Name", "Source", "As of", "Consensus", "Analysts", "Price", "Price date",
    "Mean target", "Upside", "Target range",
]  # fmt: skip

_RIGHT_ALIGNED = frozenset(
    {"Analysts", "Price", "Mean target", "Upside"}
    | {"EPS estimate", "EPS growth", "Revenue estimate", "Revenue growth", "30-day revision", "90-day revision"}
    | {"EPS dispersion", "EPS actual", "Difference", "Surprise"}
)


def fixed_width(frame: pd.DataFrame) -> str:
    """Text columns laid out with a header, a rule and two spaces between columns.

    Every cell is made safe for a terminal first: a name from the data holding an escape sequence is
    shown escaped, never run by the terminal.
    """
    frame = frame.map(lambda v: _printable(str(v), limit=10_000))
    widths = {str(c): max([len(str(c)), *(len(v) for v in frame[c])]) for c in frame.columns}

    def line(cells: dict[str, str]) -> str:
        aligned = (cells[c].rjust(w) if c in _RIGHT_ALIGNED else cells[c].ljust(w) for c, w in widths.items())
        return "  ".join(aligned).rstrip()

    header = line({c: c for c in widths})
    rule = "  ".join("-" * w for w in widths.values())
    body = [line({str(c): str(v) for c, v in row.items()}) for row in frame.to_dict("records")]
    return "\n".join([header, rule, *body]) + "\n"


def _cell(value: Any) -> str:
    """A cell of user text: '—' for unknown, else escaped and cut to 40 characters."""
    return MISSING if value is None or value is pd.NA or pd.isna(value) else _printable(str(value), 40)


def _observed(value: Any) -> str:
    """'2021-02-01T05:15:00Z' -> '2021-02-01 05:15'."""
    if value is None or value is pd.NA or pd.isna(value):
        return MISSING
    return str(value).replace("T", " ")[:16]


# ------------------------------------------------------------------------------- ratings table


def terminal_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The overview's table (``formatting.display_table``) in a terminal's column order, names cut."""
    shown = display_table(table)
    shown["Name"] = [name if name == MISSING else _printable(name, NAME_WIDTH) for name in shown["Name"]]
    return shown[TERMINAL_COLUMNS].reset_index(drop=True)


def sources_footer(table: pd.DataFrame, dataset: Dataset) -> str:
    """One line naming each source of the shown rows with its as-of date, and where prices came from."""
    parts: list[str] = []
    for source_id in table["source_id"].dropna().drop_duplicates():
        info = dataset.sources.get(str(source_id), {})
        shown = table.loc[table["source_id"] == source_id]
        provider = info.get("provider") or shown["source"].iloc[0]
        as_of = info.get("as_of") or shown["as_of"].iloc[0]
        parts.append(_printable(f"{provider} as of {dated(as_of)}", limit=200))  # names from the data, escaped
    text = "Sources: " + ("; ".join(parts) if parts else "none (no analyst consensus in the data)") + "."
    if (table["price_source"] == "close").any():
        text += " '(close)': no price quoted with the consensus, so the latest close in the data is used."
    return text + " Upside = target / price - 1.\n"


def table_text(table: pd.DataFrame, dataset: Dataset) -> str:
    """``ratings table`` for a terminal: the rows, then the sources they came from."""
    return fixed_width(terminal_frame(table)) + "\n" + sources_footer(table, dataset)


# ----------------------------------------------------------------------------- ratings history


def history_terminal_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A ticker's history as text cells: when and from whom, then the overview's figures; a price taken
    from a close is marked beside the price, since each snapshot may be priced by a different close."""
    rows = cast(list[dict[str, Any]], frame.to_dict("records"))
    return pd.DataFrame(
        {
            "As of": [dated(r["as_of"]) for r in rows],
            "Observed (UTC)": [_observed(r["observed_at"]) for r in rows],
            "Source": [MISSING if pd.isna(r["source"]) else str(r["source"]) for r in rows],
            **figure_cells(rows, close_mark="Price"),
        }
    )


def history_text(frame: pd.DataFrame) -> str:
    """``ratings history`` for a terminal: the rows, then a note on how the upside was priced."""
    note = "Upside = mean target / price - 1."
    if (frame["price_source"] == "close").any():
        note += " '(close)': no price quoted with that snapshot, so the latest close on or before its day is used."
    if (frame["price"].isna() & frame["target_mean"].notna()).any():
        note += f" No price: no close in the data within {HISTORY_CLOSE_MAX_AGE.days} days before that snapshot."
    return fixed_width(history_terminal_frame(frame)) + "\n" + note + "\n"


# ----------------------------------------------------------------------------- ratings changes

_KIND_TEXT = {"label": "label change"}  # the other kinds read as they are: 'target raise', 'upgrade'...


def changes_terminal_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """What moved (``worded_changes``) as text cells, every field of user text escaped."""
    rows = cast(list[dict[str, Any]], frame.to_dict("records"))
    cells = change_cells(rows, _cell)
    return pd.DataFrame(
        {
            "Date": [_cell(r["date"]) for r in rows],
            "Ticker": [_cell(r["ticker"]) for r in rows],
            "Change": [_KIND_TEXT.get(str(r["kind"]), _cell(r["kind"])) for r in rows],
            "Source": cells["source"],
            "Firm": cells["firm"],
            "Before": cells["before"],
            "After": cells["after"],
            "Move": cells["change"],
            "Since": [_observed(r["since"]) for r in rows],
        }
    )


# ---------------------------------------------------------------------------- ratings estimates

ESTIMATES_NOTE = (
    "Revision: the mean EPS estimate's move since 30 / 90 days ago. Net revisions: (analysts who raised "
    "their EPS estimate - those who lowered it) / analysts, over 30 days. Dispersion: (highest - lowest "
    "estimate) / |mean|."
)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def estimates_text(table: pd.DataFrame, dataset: Dataset) -> str:
    """``ratings estimates`` for a terminal: per ticker, a heading naming the currency and the fetch, its
    periods' figures, its reported quarters, then how the figures are computed."""
    blocks: list[str] = []
    for ticker, rows in table.groupby("ticker", sort=False):
        first = _rows(rows)[0]
        quote = dataset.consensus.loc[dataset.consensus["ticker"] == ticker, "currency"].dropna()
        unit = currency_note(first["currency"], quote.iloc[0] if not quote.empty else None)
        name = dataset.universe.loc[dataset.universe["ticker"] == ticker, "name"].dropna()
        named = f"{ticker} ({_printable(str(name.iloc[0]), NAME_WIDTH)})" if not name.empty else str(ticker)
        parts = [
            _printable(f"{named}: estimates {unit}, fetched {utc_minute(first['observed_at'])}", 300),
            fixed_width(pd.DataFrame(estimate_cells(_rows(rows)), columns=list(ESTIMATE_COLUMNS))),
            f"Earnings surprises: {beat_rate_text(first)}.",
        ]
        quarters = dataset.estimates_for(str(ticker)).surprises
        if not quarters.empty:
            parts.append(fixed_width(pd.DataFrame(surprise_cells(_rows(quarters)))))
        blocks.append("\n".join(part.rstrip("\n") for part in parts))
    return "\n\n".join([*blocks, ESTIMATES_NOTE]) + "\n"


# ------------------------------------------------------------------------------- ratings fetch


class FetchReport(NamedTuple):
    """A fetch in words: each failure and warning (`problems`), and a line per answered ticker
    followed by what was stored (`summary`)."""

    problems: list[str]
    summary: list[str]


def _snapshot_text(row: dict[str, Any]) -> str:
    """'Yahoo Finance 2025-02-24: Buy (2.07 of 5; 7 Strong Buy · ...), 40 analysts, mean target $252.23, ...'."""
    figures = figure_texts(row)
    parts = [
        figures["Consensus"],
        f"{figures['Analysts']} analysts",
        f"mean target {figures['Mean target']}",
        f"price {figures['Price']}",
        f"upside {figures['Upside']}",
    ]
    return f"{row['source']} {dated(row['as_of'])}: " + ", ".join(parts)


def fetch_report(outcome: RefreshOutcome) -> FetchReport:
    """What `outcome` fetched and stored, as the lines ``ratings fetch`` prints."""
    batch = outcome.batch
    answered = [r for r in batch.results if r.status != "failed"]
    problems = [f"{_printable(r.ticker, 20)}: failed: {_printable(r.reason, 300)}" for r in batch.failed]
    problems += [f"{_printable(r.ticker, 20)}: warning: {_printable(w, 300)}" for r in answered for w in r.warnings]

    snapshots = add_metrics(conform(batch.snapshots, CONSENSUS_HISTORY))
    rows = {str(r["ticker"]): r for r in cast(list[dict[str, Any]], snapshots.to_dict("records"))}
    width = max((len(r.ticker) for r in answered), default=0)
    summary: list[str] = []
    for result in answered:
        row = rows.get(result.ticker)
        detail = _snapshot_text(row) if result.status == "ok" and row is not None else result.reason
        if result.from_cache:
            detail += f" (from the cache: fetched {result.observed_at})"
        word = STATUS_WORDS[result.status]
        summary.append(f"{_printable(result.ticker, 20).ljust(width)}  {word.ljust(19)}  {_printable(detail, 400)}")

    where = _printable(str(outcome.store_path), 200)
    written = outcome.written
    if written is None:
        stored = f"Nothing stored in {where} (the attempt is in its fetch log)."
    else:
        new, known = written.snapshots.inserted, written.snapshots.already_present
        stored = f"Stored {new} new snapshot{'s' if new != 1 else ''} in {where}"
        stored += f" ({known} already there)." if known else "."
    summary.append(f"{batch.summary()}. {stored}")
    return FetchReport(problems, summary)
