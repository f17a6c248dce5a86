"""The ``ratings`` command line: fetch from Yahoo into the local store, print the consensus table, its
history and what changed, export charts and data, start the dashboard.

Every subcommand is one ``_cmd_*`` function registered in :func:`build_parser`; data is loaded only
through :func:`load_dataset`, whose ``--source`` is ``bundle`` (the bundled snapshot, the default),
``store`` (the local store's latest snapshot, ``--store PATH``; the default when ``--store`` is
given) or ``live`` (fetch those tickers from Yahoo into the store first, then read the store).

Output rules: stdout carries only data (a table, CSV or JSON, the written paths, or the summary
of ``ratings fetch``), so it can be piped into a parser; every warning and error is one
``ratings: ...`` line on stderr, and so is the fetch progress (a self-drawn bar when stderr is a
terminal, one line per ticker otherwise). No traceback reaches the user: :func:`main` turns every
failure into a message and an exit code:

* 0: everything asked for was shown (or some tickers were, and the others were named on stderr);
  for ``fetch``: at least one ticker was answered (a "no analyst coverage" answer counts: Yahoo
  answered, and the answer is recorded);
* 1: nothing could be shown or fetched (every ticker was unknown, malformed or failed), or the
  data could not be loaded (no bundle; no store yet);
* 2: a usage error, an export that needs Chrome without one, a path that cannot be written, or a
  ``--store`` file that is not a usable store (corrupt, someone else's, locked): it is left untouched;
* 130: interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import pandas as pd

from .. import sources
from ..core import COVERAGE_NONE, HISTORY_CLOSE_MAX_AGE, add_metrics, history_metrics, primary_rows, snapshot_days
from ..dataset import KINDS, DataError, Dataset
from ..formatting import (
    MISSING,
    count,
    dataset_warnings,
    dated,
    display_table,
    kind_name,
    label_text,
    money,
    money_range,
    percent,
    worded_changes,
)
from ..paths import PROJECT_ROOT, default_store_path
from ..schema import CONSENSUS_HISTORY, COUNT_COLUMNS, CSV_COLUMNS, conform
from ..store import StoreError
from ..tickers import parse_tickers

if TYPE_CHECKING:
    from ..refresh import RefreshOutcome
    from ..yahoo import LiveConfig, LiveResult

PROG = "ratings"
SOURCES: tuple[str, ...] = KINDS  # the --source choices
TABLE_FORMATS: tuple[str, ...] = ("table", "csv", "json")
#: Columns of ``ratings history``, in order: one row per snapshot day and source, oldest first.
HISTORY_COLUMNS: tuple[str, ...] = (
    "ticker", "as_of", "observed_at", "source", "consensus", "rating_mean",
    *COUNT_COLUMNS, "n_analysts", "currency", "price", "price_as_of", "price_source",
    "target_mean", "target_low", "target_high", "upside_mean",
)  # fmt: skip
EXPORT_FORMATS: tuple[str, ...] = ("png", "svg", "html", "csv")
NAME_WIDTH = 28  # company names are cut to keep a terminal row readable

EXIT_OK, EXIT_NOTHING_SHOWN, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class CommandError(Exception):
    """A failure to report as one ``ratings: <message>`` line with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_NOTHING_SHOWN) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ---------------------------------------------------------------------------------------- output


def _printable(text: str, limit: int = 40) -> str:
    """User text made safe for a terminal: control characters escaped, length capped."""
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _write(text: str, stream: TextIO | None) -> None:
    """Write text that survives a terminal whose encoding lacks '—' or '€' (replaced, not a crash)."""
    if stream is None:  # Python was started with that stream closed (`ratings table F >&-`)
        raise CommandError("standard output is closed: there is nowhere to print", EXIT_USAGE)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    stream.write(text.encode(encoding, errors="replace").decode(encoding))


def _say(message: str) -> None:
    """One line for the person at the terminal, on stderr so stdout stays clean for data."""
    if sys.stderr is not None:  # with stderr closed there is no one to tell
        _write(f"{PROG}: {message}\n", sys.stderr)


def _write_bytes(data: bytes, stream: TextIO | None) -> None:
    buffer = getattr(stream, "buffer", None)
    if stream is None or buffer is None:
        _write(data.decode("utf-8"), stream)
        return
    stream.flush()
    buffer.write(data)
    buffer.flush()


# ------------------------------------------------------------------------------------------ data


def store_path_of(args: argparse.Namespace) -> Path:
    """``--store PATH``, else :func:`ratings.paths.default_store_path` (``$RATINGS_STORE``)."""
    given: Path | None = getattr(args, "store", None)
    return given.expanduser() if given is not None else default_store_path()


def chosen_source(args: argparse.Namespace) -> str:
    """``--source``; without it, ``store`` when ``--store PATH`` names one, else ``bundle``: a store
    given on the command line is the one to read (``ratings history AAPL --store S``)."""
    source: str | None = getattr(args, "source", None)
    if source is not None:
        return source
    return "store" if getattr(args, "store", None) is not None else "bundle"


def load_dataset(args: argparse.Namespace) -> Dataset:
    """The dataset chosen by ``--source``; its load warnings go to stderr.

    ``live`` first fetches ``args.tickers`` into the store (progress and summary on stderr), then
    reads the store like ``store``; a fetch that fails keeps whatever the store already had.
    Raises DataError (StoreError for a store file that is not usable) or CommandError.
    """
    source = chosen_source(args)
    if source not in SOURCES:  # argparse restricts the choices; this guards a caller that builds args by hand
        raise CommandError(f"unknown data source {source!r} (choose from {', '.join(SOURCES)})", EXIT_USAGE)
    path = store_path_of(args)
    if source == "live":
        symbols = fetchable_tickers(args.tickers, quiet=True)  # resolve_tickers names the bad ones
        if symbols:
            outcome = fetch_into_store(symbols, args, path, summary=_say)
            if not outcome.anything_fetched:
                _say("warning: nothing could be fetched; showing what the store already holds")
    if source != "bundle" and not path.exists():
        raise CommandError(
            f"no store at {_printable(str(path), 200)}: run `ratings fetch TICKER...` first", EXIT_NOTHING_SHOWN
        )
    dataset = sources.load(source, store_path=path)
    for warning in dataset_warnings(dataset):
        _say(f"warning: {warning}")
    return dataset


def _parsed_tickers(raw: Sequence[str], known: frozenset[str] | None, *, quiet: bool = False) -> list[str]:
    if not quiet:
        for item in raw:
            if not item.strip():
                _say("'': empty ticker symbol")
    parsed = parse_tickers(list(raw), known=known)
    if not quiet:
        for symbol, reason in parsed.invalid.items():
            _say(f"{_printable(symbol)}: {reason}")
    return parsed.valid


def resolve_tickers(raw: Sequence[str], dataset: Dataset) -> list[str]:
    """The usable tickers of `raw`, in order; one stderr line naming each rejected one and why."""
    return _parsed_tickers(raw, dataset.known_tickers)


def _table_for(args: argparse.Namespace) -> tuple[Dataset, list[str], pd.DataFrame]:
    """Load, resolve the tickers and build the table; CommandError (exit 1) when no ticker is left."""
    dataset = load_dataset(args)
    tickers = resolve_tickers(args.tickers, dataset)
    if not tickers:
        raise CommandError("no ticker to show", EXIT_NOTHING_SHOWN)
    table = dataset.table(tickers)
    if getattr(args, "primary", False):
        table = primary_rows(table)
    uncovered = table[table["coverage"] == COVERAGE_NONE].drop_duplicates("ticker")
    priced = uncovered["price"].notna()
    where = kind_name(dataset.kind)
    for ticker in uncovered.loc[priced, "ticker"]:
        _say(f"{ticker}: {where} has no analyst consensus for it (showing its latest close only)")
    bare = uncovered.loc[~priced, "ticker"].tolist()
    for ticker in bare:
        _say(f"{ticker}: {where} has no analyst consensus and no price for it")
    if len(bare) == table["ticker"].nunique():  # every row would be empty: nothing to show
        hint = " (fetch them with `ratings fetch TICKER...`)" if dataset.kind != "bundle" else ""
        raise CommandError(f"nothing to show: no data for {', '.join(bare)} in {where}{hint}", EXIT_NOTHING_SHOWN)
    return dataset, tickers, table


# --------------------------------------------------------------------------------------- formats


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


def _print_frame(frame: pd.DataFrame, columns: Sequence[str], fmt: str, people: Callable[[], str]) -> None:
    """`frame`'s `columns` as formula-safe CSV or JSON (null for unknown), or `people()` for a terminal."""
    if fmt == "csv":
        from ..export import csv_bytes

        _write_bytes(csv_bytes(frame[list(columns)].reset_index(drop=True)), sys.stdout)
    elif fmt == "json":
        _write(json_text(frame, columns), sys.stdout)
    else:
        _write(people(), sys.stdout)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def terminal_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The overview's table (``formatting.display_table``) in a terminal's column order, names cut."""
    shown = display_table(table)
    shown["Name"] = [name if name == MISSING else _cut(name, NAME_WIDTH) for name in shown["Name"]]
    return shown[TERMINAL_COLUMNS].reset_index(drop=True)


TERMINAL_COLUMNS = [
    "Ticker", "Name", "Source", "As of", "Consensus", "Analysts", "Price", "Price date",
    "Mean target", "Upside", "Target range",
]  # fmt: skip


_RIGHT_ALIGNED = frozenset({"Analysts", "Price", "Mean target", "Upside"})


def fixed_width(frame: pd.DataFrame) -> str:
    """Text columns laid out with a header, a rule and two spaces between columns."""
    widths = {str(c): max([len(str(c)), *(len(v) for v in frame[c])]) for c in frame.columns}

    def line(cells: dict[str, str]) -> str:
        aligned = (cells[c].rjust(w) if c in _RIGHT_ALIGNED else cells[c].ljust(w) for c, w in widths.items())
        return "  ".join(aligned).rstrip()

    header = line({c: c for c in widths})
    rule = "  ".join("-" * w for w in widths.values())
    body = [line({str(c): str(v) for c, v in row.items()}) for row in frame.to_dict("records")]
    return "\n".join([header, rule, *body]) + "\n"


def sources_footer(table: pd.DataFrame, dataset: Dataset) -> str:
    """One line naming each source of the shown rows with its as-of date, and where prices came from."""
    parts: list[str] = []
    for source_id in table["source_id"].dropna().drop_duplicates():
        info = dataset.sources.get(str(source_id), {})
        shown = table.loc[table["source_id"] == source_id]
        provider = info.get("provider") or shown["source"].iloc[0]
        as_of = info.get("as_of") or shown["as_of"].iloc[0]
        parts.append(f"{provider} as of {dated(as_of)}")
    text = "Sources: " + ("; ".join(parts) if parts else "none (no analyst consensus in the data)") + "."
    if (table["price_source"] == "close").any():
        text += " '(close)': no price quoted with the consensus, so the latest close in the data is used."
    return text + " Upside = target / price - 1.\n"


# -------------------------------------------------------------------------------------- commands


def _cmd_table(args: argparse.Namespace) -> int:
    dataset, _, table = _table_for(args)
    if args.format == "csv":
        from ..export import contract_frame, csv_bytes

        _write_bytes(csv_bytes(contract_frame(table)), sys.stdout)
    elif args.format == "json":
        _write(json_text(table), sys.stdout)
    else:
        _write(fixed_width(terminal_frame(table)) + "\n" + sources_footer(table, dataset), sys.stdout)
    return EXIT_OK


# ------------------------------------------------------------------------------------- fetching

_STATUS_WORDS = {"ok": "fetched", "no_coverage": "no analyst coverage", "failed": "failed"}


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """A fetch's progress on `stream` (stderr): a bar redrawn in place on a terminal, else a line per ticker.

    Called as ``progress(done, total, result)`` (:data:`ratings.yahoo.ProgressCallback`);
    :meth:`close` ends the bar's line. Nothing here needs a dependency: ``\\r`` and padding.
    """

    def __init__(self, stream: TextIO, *, tty: bool | None = None, width: int = 24) -> None:
        self.stream = stream
        self.tty = _is_tty(stream) if tty is None else tty
        self.width = width
        self._shown = 0  # characters of the bar's line now on screen

    def _draw(self, line: str) -> None:
        # Pad over what the previous (longer) line left on screen.
        _write("\r" + line.ljust(self._shown), self.stream)
        self._shown = len(line)
        self.stream.flush()

    def _bar(self, done: int, total: int) -> str:
        filled = self.width * done // total if total > 0 else self.width
        return f"[{'#' * filled}{' ' * (self.width - filled)}] {done}/{total}"

    def start(self, total: int) -> None:
        if self.tty:
            self._draw(f"{self._bar(0, total)} asking Yahoo…")

    def __call__(self, done: int, total: int, result: LiveResult) -> None:
        status = _STATUS_WORDS.get(result.status, result.status) + (" (cached)" if result.from_cache else "")
        ticker = _printable(result.ticker, 20)
        if self.tty:
            self._draw(f"{self._bar(done, total)} {ticker} {status}")
        else:
            _write(f"{PROG}: {done}/{total} {ticker} {status}\n", self.stream)

    def close(self) -> None:
        if self.tty and self._shown:
            _write("\n", self.stream)
            self.stream.flush()
            self._shown = 0


def fetchable_tickers(raw: Sequence[str], *, quiet: bool = False) -> list[str]:
    """The well-formed symbols of `raw`, in order: any symbol may be asked of Yahoo, known or not.

    Each malformed one is named on stderr, as ``table`` names them (unless `quiet`).
    """
    return _parsed_tickers(raw, known=None, quiet=quiet)


def live_config(args: argparse.Namespace) -> LiveConfig:
    """The live loader's settings from ``--workers``, ``--rate`` and ``--budget`` (defaults otherwise)."""
    from ..yahoo import LiveConfig

    settings: dict[str, Any] = {}
    if (workers := getattr(args, "workers", None)) is not None:
        settings["max_workers"] = workers
    if (rate := getattr(args, "rate", None)) is not None:
        settings["requests_per_second"] = rate or None  # 0: no limit
    if (budget := getattr(args, "budget", None)) is not None:
        settings["budget_s"] = budget
    return LiveConfig(**settings)


def fetch_into_store(
    symbols: list[str], args: argparse.Namespace, path: Path, *, summary: Callable[[str], None]
) -> RefreshOutcome:
    """Fetch `symbols` live into the store at `path` (:func:`ratings.refresh.refresh`), with progress.

    The progress goes to stderr; the summary's lines go to `summary` (stdout for ``ratings fetch``,
    stderr when data follows on stdout); failures and warnings always to stderr. Raises
    StoreError, before any request, for a store file that is not usable.
    """
    from ..refresh import refresh

    progress = Progress(sys.stderr)
    progress.start(len(symbols))
    try:
        outcome = refresh(
            symbols,
            store_path=path,
            config=live_config(args),
            force=bool(getattr(args, "force", False)),
            on_progress=progress,
        )
    finally:
        progress.close()
    report_fetch(outcome, summary)
    return outcome


def _snapshot_text(row: dict[str, Any]) -> str:
    """'Yahoo Finance 2025-02-24: Buy (2.07 of 5; 7 Strong Buy · ...), 40 analysts, mean target $252.23, ...'."""
    parts = [
        label_text(row),
        f"{count(row['n_analysts'])} analysts",
        f"mean target {money(row['target_mean'], row['currency'])}",
        f"price {money(row['price'], row['currency'])}",
        f"upside {percent(row['upside_mean'])}",
    ]
    return f"{row['source']} {dated(row['as_of'])}: " + ", ".join(parts)


def report_fetch(outcome: RefreshOutcome, summary: Callable[[str], None]) -> None:
    """One line per answered ticker and a count line to `summary`; each failure and warning on stderr."""
    batch = outcome.batch
    answered = [r for r in batch.results if r.status != "failed"]
    for result in batch.failed:
        _say(f"{_printable(result.ticker, 20)}: failed: {_printable(result.reason, 300)}")
    for result in answered:
        for warning in result.warnings:
            _say(f"{_printable(result.ticker, 20)}: warning: {_printable(warning, 300)}")

    snapshots = add_metrics(conform(batch.snapshots, CONSENSUS_HISTORY))
    rows = {str(r["ticker"]): r for r in cast(list[dict[str, Any]], snapshots.to_dict("records"))}
    width = max((len(r.ticker) for r in answered), default=0)
    for result in answered:
        row = rows.get(result.ticker)
        detail = _snapshot_text(row) if result.status == "ok" and row is not None else result.reason
        if result.from_cache:
            detail += f" (from the cache: fetched {result.observed_at})"
        word = _STATUS_WORDS[result.status]
        summary(f"{_printable(result.ticker, 20).ljust(width)}  {word.ljust(19)}  {_printable(detail, 400)}")

    where = _printable(str(outcome.store_path), 200)
    written = outcome.written
    if written is None:
        stored = f"Nothing stored in {where} (the attempt is in its fetch log)."
    else:
        new, known = written.snapshots.inserted, written.snapshots.already_present
        stored = f"Stored {new} new snapshot{'s' if new != 1 else ''} in {where}"
        stored += f" ({known} already there)." if known else "."
    summary(f"{batch.summary()}. {stored}")


def _cmd_fetch(args: argparse.Namespace) -> int:
    symbols = fetchable_tickers(args.tickers)
    if not symbols:
        raise CommandError("no ticker to fetch", EXIT_NOTHING_SHOWN)
    outcome = fetch_into_store(symbols, args, store_path_of(args), summary=lambda line: _write(line + "\n", sys.stdout))
    if not outcome.anything_fetched:
        raise CommandError("nothing was fetched: every ticker failed (the store keeps what it had)")
    return EXIT_OK


# -------------------------------------------------------------------------------------- history


def history_frame(dataset: Dataset, ticker: str) -> pd.DataFrame:
    """The stored history of `ticker`: one row per snapshot day and source, oldest first, with metrics.

    A snapshot that quoted no price is priced as on the Ticker page's history chart: from a close on
    or before its day, at most a week older (``price_source`` 'close'); else its upside is unknown.
    """
    rows = history_metrics(dataset.history[dataset.history["ticker"] == ticker], dataset.prices).drop(columns="day")
    rows["_when"] = rows["observed_at"].fillna(rows["as_of"])
    return rows.sort_values(["_when", "source"], kind="stable").drop(columns="_when").reset_index(drop=True)


def _observed(value: Any) -> str:
    """'2021-02-01T05:15:00Z' -> '2021-02-01 05:15'."""
    if value is None or value is pd.NA or pd.isna(value):
        return MISSING
    return str(value).replace("T", " ")[:16]


def history_terminal_frame(frame: pd.DataFrame) -> pd.DataFrame:
    rows = cast(list[dict[str, Any]], frame.to_dict("records"))
    return pd.DataFrame(
        {
            "As of": [dated(r["as_of"]) for r in rows],
            "Observed (UTC)": [_observed(r["observed_at"]) for r in rows],
            "Source": [MISSING if pd.isna(r["source"]) else str(r["source"]) for r in rows],
            "Consensus": [label_text(r) for r in rows],
            "Analysts": [count(r["n_analysts"]) for r in rows],
            "Price": [
                money(r["price"], r["currency"]) + (" (close)" if r["price_source"] == "close" else "") for r in rows
            ],
            "Price date": [dated(r["price_as_of"]) for r in rows],
            "Mean target": [money(r["target_mean"], r["currency"]) for r in rows],
            "Upside": [percent(r["upside_mean"]) for r in rows],
            "Target range": [money_range(r["target_low"], r["target_high"], r["currency"]) for r in rows],
        }
    )


def _cmd_history(args: argparse.Namespace) -> int:
    dataset = load_dataset(args)
    tickers = resolve_tickers(args.tickers, dataset)
    if not tickers:
        raise CommandError("no ticker to show", EXIT_NOTHING_SHOWN)
    ticker = tickers[0]
    if len(tickers) > 1:
        _say(f"history shows one ticker at a time: showing {ticker}, not {', '.join(tickers[1:])}")
    frame = history_frame(dataset, ticker)
    if frame.empty:
        where = kind_name(dataset.kind)
        have = sorted(set(dataset.history["ticker"]))
        hint = f" (it has history for {', '.join(have[:12])}{'…' if len(have) > 12 else ''})" if have else ""
        raise CommandError(f"{ticker}: no history in {where}{hint}", EXIT_NOTHING_SHOWN)

    def people() -> str:
        note = "Upside = mean target / price - 1."
        if (frame["price_source"] == "close").any():
            note += " '(close)': no price quoted with that snapshot, so the latest close on or before its day is used."
        if (frame["price"].isna() & frame["target_mean"].notna()).any():
            note += f" No price: no close in the data within {HISTORY_CLOSE_MAX_AGE.days} days before that snapshot."
        return fixed_width(history_terminal_frame(frame)) + "\n" + note + "\n"

    _print_frame(frame, HISTORY_COLUMNS, args.format, people)
    return EXIT_OK


# -------------------------------------------------------------------------------------- changes

_KIND_TEXT = {"label": "label change"}


def changes_terminal_frame(frame: pd.DataFrame) -> pd.DataFrame:
    rows = cast(list[dict[str, Any]], frame.to_dict("records"))

    def text(value: Any) -> str:
        return MISSING if value is None or value is pd.NA or pd.isna(value) else _printable(str(value), 40)

    return pd.DataFrame(
        {
            "Date": [text(r["date"]) for r in rows],
            "Ticker": [text(r["ticker"]) for r in rows],
            "Change": [_KIND_TEXT.get(str(r["kind"]), text(r["kind"])) for r in rows],
            "Source": [text(r["source"]) for r in rows],
            "Firm": [text(r["firm"]) for r in rows],
            "Before": [text(r["before"]) for r in rows],
            "After": [text(r["after"]) for r in rows],
            "Move": [percent(r["change"]) for r in rows],
            "Since": [_observed(r["since"]) for r in rows],
        }
    )


def _cmd_changes(args: argparse.Namespace) -> int:
    from ..changes import CHANGES, changes

    dataset = load_dataset(args)
    tickers = resolve_tickers(args.tickers, dataset)
    if not tickers:
        raise CommandError("no ticker to show", EXIT_NOTHING_SHOWN)
    frame = worded_changes(changes(dataset.history, dataset.upgrades, tickers, since=args.since))
    shown = dataset.history[dataset.history["ticker"].isin(tickers)]
    snapshots = shown.groupby(["ticker", "source"]).size().groupby(level="ticker").max()
    first_day = snapshot_days(conform(shown, CONSENSUS_HISTORY)).groupby(shown["ticker"].to_numpy()).min()
    comparable: list[str] = []
    for ticker in tickers:
        n = int(snapshots.get(ticker, 0))
        if n == 0:
            _say(f"{ticker}: no snapshot in the data, nothing to compare")
        elif args.since is None and n == 1:
            _say(f"{ticker}: one snapshot only, nothing to compare it with yet")
        elif args.since is not None and first_day[ticker] > pd.Timestamp(args.since):
            _say(f"{ticker}: no snapshot on or before {args.since} (the first is of {first_day[ticker]:%Y-%m-%d})")
        else:
            comparable.append(ticker)
    if not comparable:
        raise CommandError("nothing to compare: no ticker has a snapshot to compare with", EXIT_NOTHING_SHOWN)
    if frame.empty and args.format == "table":
        _say("nothing moved " + (f"since {args.since}" if args.since else "since the previous snapshot"))
        return EXIT_OK
    _print_frame(frame, CHANGES.names, args.format, lambda: fixed_width(changes_terminal_frame(frame)))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from .. import export

    fmt: str = args.format
    # Checked before loading anything: without a browser there is nothing this command can do.
    if fmt in ("png", "svg") and not export.static_export_available():
        raise CommandError(
            f"{fmt.upper()} export needs Chrome or Chromium and none was found: install it "
            "(e.g. `apt install chromium`) or use --format html or --format csv",
            EXIT_USAGE,
        )
    try:
        dataset, tickers, table = _table_for(args)
        written = _export_files(dataset, tickers, table, args.out, fmt)
    except (export.ExportUnavailable, export.ExportFailed) as exc:  # the browser failed mid-way
        raise CommandError(f"{exc} Here: use --format html or --format csv.", EXIT_USAGE) from None
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename) == Path(args.out):
            exc.filename = None  # named once already: "cannot write to DIR: Not a directory"
        where = _printable(str(args.out), 200)
        raise CommandError(f"cannot write to {where}: {_os_error_text(exc)}", EXIT_USAGE) from None
    for path in written:
        _write(f"{path}\n", sys.stdout)
    return EXIT_OK


def _export_files(dataset: Dataset, tickers: list[str], table: pd.DataFrame, out: Path, fmt: str) -> list[Path]:
    """Write the CSV, or the upside chart and one price-and-targets chart per ticker; the paths written."""
    from ..export import bundle_as_of, contract_frame, export_filename, write_csv, write_figure

    as_of = bundle_as_of(table)
    if out.exists() and not out.is_dir():
        raise CommandError(f"cannot write to {_printable(str(out), 200)}: it is a file, not a folder", EXIT_USAGE)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return [write_csv(contract_frame(table), out / export_filename("consensus", tickers, as_of, "csv"))]

    from ..charts import price_target_chart, upside_chart

    written = [write_figure(upside_chart(table), out / export_filename("upside", tickers, as_of, fmt), fmt)]
    for ticker in tickers:
        figure = price_target_chart(
            table[table["ticker"] == ticker].reset_index(drop=True),
            prices=dataset.prices_for(ticker),
            history=dataset.history_for(ticker),
            ticker=ticker,
        )
        path = out / export_filename("price-targets", [ticker], as_of, fmt)
        written.append(write_figure(figure, path, fmt))
    return written


def dashboard_command(port: int | None = None, project_root: Path | None = None) -> list[str]:
    """The ``streamlit run`` command line: bound to localhost, headless, no usage statistics."""
    root = project_root or PROJECT_ROOT
    command = [
        sys.executable, "-m", "streamlit", "run", str(root / "app.py"),
        "--server.address", "localhost",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    if port is not None:
        command += ["--server.port", str(port)]
    return command


def _cmd_dashboard(args: argparse.Namespace) -> int:
    root = PROJECT_ROOT
    if not (root / "app.py").is_file():
        raise CommandError(
            f"the dashboard's app.py is not at {root / 'app.py'}: this installation has the package only. "
            "Run 'ratings dashboard' from a clone of the project installed with 'pip install -e .'",
            EXIT_NOTHING_SHOWN,
        )
    if args.port is not None and not _port_is_free(args.port):
        # Streamlit would say so in its own log format; without --port it picks the next free port itself.
        raise CommandError(f"port {args.port} is in use on localhost: choose another with --port", EXIT_USAGE)
    command = dashboard_command(args.port, root)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    # Streamlit takes over this process, so Ctrl-C, `kill` and a service manager reach the server itself
    # (a child would outlive a killed wrapper). From the project root it finds pages/ and .streamlit/.
    os.chdir(root)
    os.execv(command[0], command)  # noqa: S606
    return EXIT_OK  # only a test's stand-in for execv returns


def _port_is_free(port: int) -> bool:
    """Whether a server could listen on localhost:`port` now (SO_REUSEADDR, as Tornado binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("localhost", port))
        except OSError:
            return False
    return True


# ---------------------------------------------------------------------------------------- parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {port}")
    return port


def _version() -> str:
    try:
        return metadata.version("analyst-ratings")
    except metadata.PackageNotFoundError:
        return "unknown"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _number(text: str, *, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise argparse.ArgumentTypeError(f"must be {'>= 0' if allow_zero else '> 0'}, not {text}")
    return value


def _rate(text: str) -> float:
    return _number(text, allow_zero=True)


def _seconds(text: str) -> float:
    return _number(text, allow_zero=False)


def _iso_day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _store_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--store",
        type=Path,
        default=None,
        metavar="PATH",
        help="the local store's SQLite file (default: $RATINGS_STORE, else one in your data folder)",
    )
    return options


def _fetch_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("fetching from Yahoo (ratings fetch, --source live)")
    group.add_argument("--force", action="store_true", help="ask Yahoo again even for tickers fetched minutes ago")
    group.add_argument("--workers", type=_positive_int, default=None, metavar="N", help="tickers fetched at once")
    group.add_argument(
        "--rate", type=_rate, default=None, metavar="R", help="requests per second at most (0: no limit)"
    )
    group.add_argument(
        "--budget", type=_seconds, default=None, metavar="SECONDS", help="time allowed for the whole fetch"
    )
    return options


def _source_options(nargs: str | int) -> argparse.ArgumentParser:
    """--source and the tickers: shared by every command that reads data; a new source is one more choice."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--source",
        choices=SOURCES,
        default=None,
        help="bundle: the bundled snapshot; store: the local store's latest fetch; "
        "live: fetch from Yahoo into the store, then read it (default: store with --store PATH, else bundle)",
    )
    options.add_argument("tickers", nargs=nargs, metavar="TICKER", help="ticker symbols, e.g. F TSLA 1810.HK")
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Wall Street analyst consensus and the upside implied by price targets.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    store_options, fetch_options = _store_options(), _fetch_options()
    data_options = [_source_options("+"), store_options, fetch_options]

    fetch = commands.add_parser(
        "fetch",
        parents=[store_options, fetch_options],
        help="fetch tickers from Yahoo into the local store",
        description="Fetch the tickers' consensus, recommendation trend, upgrades and prices from Yahoo and append "
        "them to the local store as a dated snapshot. Exits 1 only when no ticker could be fetched "
        "(a ticker without analyst coverage counts as fetched: Yahoo answered).",
    )
    fetch.add_argument("tickers", nargs="+", metavar="TICKER", help="Yahoo ticker symbols, e.g. AAPL VOD.L 1810.HK")
    fetch.set_defaults(handler=_cmd_fetch)

    table = commands.add_parser(
        "table",
        parents=data_options,
        help="print consensus and implied upside",
        description="Print the consensus and implied upside of the tickers: every source, primary first.",
    )
    table.add_argument("--format", choices=TABLE_FORMATS, default="table", help="default: %(default)s")
    table.add_argument("--primary", action="store_true", help="one row per ticker: the primary source's")
    table.set_defaults(handler=_cmd_table)

    history = commands.add_parser(
        "history",
        parents=[_source_options(1), store_options, fetch_options],
        help="print the stored consensus history of a ticker",
        description="Print one row per snapshot day and source, oldest first: consensus, counts, price, "
        "targets and upside.",
    )
    history.add_argument("--format", choices=TABLE_FORMATS, default="table", help="default: %(default)s")
    history.set_defaults(handler=_cmd_history)

    changes = commands.add_parser(
        "changes",
        parents=data_options,
        help="print what moved since the previous snapshot",
        description="Print label changes, mean-target raises and cuts, and analysts' upgrades, downgrades, "
        "initiations and target moves since each ticker's previous snapshot (or since --since).",
    )
    changes.add_argument(
        "--since", type=_iso_day, default=None, metavar="DATE", help="compare with the last snapshot on or before DATE"
    )
    changes.add_argument("--format", choices=TABLE_FORMATS, default="table", help="default: %(default)s")
    changes.set_defaults(handler=_cmd_changes)

    export = commands.add_parser(
        "export",
        parents=data_options,
        help="write charts or the CSV to a folder",
        description="Write the upside chart and each ticker's price-and-targets chart, or the CSV, to --out.",
    )
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write to (created)")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="png", help="default: %(default)s")
    export.set_defaults(handler=_cmd_export)

    dashboard = commands.add_parser(
        "dashboard", help="start the dashboard on localhost", description="Start the Streamlit dashboard."
    )
    dashboard.add_argument("--port", type=_port, default=None, help="port (default: streamlit's, 8501)")
    dashboard.set_defaults(handler=_cmd_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script passes it to the shell)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: argparse has printed them
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except CommandError as exc:
        _say(str(exc))
        return exc.exit_code
    except StoreError as exc:  # the --store file is not usable: refused, and left as it was
        _say(str(exc))
        return EXIT_USAGE
    except DataError as exc:
        _say(str(exc))
        return EXIT_NOTHING_SHOWN
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: nothing left to say, and nowhere to say it.
        _silence_stdout()
        return EXIT_NOTHING_SHOWN
    except OSError as exc:
        _say(_os_error_text(exc))
        return EXIT_USAGE
    except Exception as exc:  # a bug: still a message, never a traceback
        _say(f"unexpected error ({type(exc).__name__}): {exc}")
        return EXIT_NOTHING_SHOWN


def _os_error_text(exc: OSError) -> str:
    """'/tmp/x: Not a directory' rather than '[Errno 20] Not a directory: '/tmp/x''."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{_printable(str(exc.filename), 200)}: {reason}" if exc.filename else reason


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
