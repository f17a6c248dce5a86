"""The subcommands, one ``_cmd_*`` function each (registered in :func:`ratings.cli.args.build_parser`):
each takes the parsed arguments, prints its data on stdout and returns the exit code, or raises
CommandError for :func:`ratings.cli.main` to report."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from ..core import coverage_partition, primary_rows, snapshot_days
from ..dataset import Dataset
from ..estimates import ESTIMATES_CSV_COLUMNS
from ..formatting import kind_name, no_estimates_text, worded_changes
from ..paths import PROJECT_ROOT
from ..schema import CONSENSUS_HISTORY, conform
from .data import fetchable_tickers, history_frame, load_dataset, resolve_tickers, store_path_of
from .errors import EXIT_NOTHING_SHOWN, EXIT_OK, EXIT_USAGE, CommandError
from .fetching import fetch_into_store, is_scheduled, scheduled_fetch
from .output import _os_error_text, _printable, _say, _write, _write_bytes
from .views import (
    HISTORY_COLUMNS,
    changes_terminal_frame,
    estimates_text,
    fixed_width,
    history_text,
    json_text,
    table_text,
)


def _dataset_and_tickers(args: argparse.Namespace) -> tuple[Dataset, list[str]]:
    """Load the data and resolve the tickers; CommandError (exit 1) when no ticker is left."""
    dataset = load_dataset(args)
    tickers = resolve_tickers(args.tickers, dataset)
    if not tickers:
        raise CommandError("no ticker to show", EXIT_NOTHING_SHOWN)
    return dataset, tickers


def _table_for(args: argparse.Namespace) -> tuple[Dataset, list[str], pd.DataFrame]:
    """Load, resolve the tickers and build the table; CommandError (exit 1) when no ticker is left,
    or when no ticker has any data to show."""
    dataset, tickers = _dataset_and_tickers(args)
    table = dataset.table(tickers)
    if getattr(args, "primary", False):
        table = primary_rows(table)
    uncovered = coverage_partition(table).none
    priced = set(table.loc[table["price"].notna(), "ticker"])
    where = kind_name(dataset.kind)
    for ticker in (t for t in uncovered if t in priced):
        _say(f"{ticker}: {where} has no analyst consensus for it (showing its latest close only)")
    bare = [t for t in uncovered if t not in priced]
    for ticker in bare:
        _say(f"{ticker}: {where} has no analyst consensus and no price for it")
    if len(bare) == table["ticker"].nunique():  # every row would be empty: nothing to show
        hint = " (fetch them with `ratings fetch TICKER...`)" if dataset.kind != "bundle" else ""
        raise CommandError(f"nothing to show: no data for {', '.join(bare)} in {where}{hint}", EXIT_NOTHING_SHOWN)
    return dataset, tickers, table


def _print_frame(frame: pd.DataFrame, columns: Sequence[str], fmt: str, people: Callable[[], str]) -> None:
    """`frame`'s `columns` as formula-safe CSV or JSON (null for unknown), or `people()` for a terminal."""
    if fmt == "csv":
        from ..export import csv_bytes

        _write_bytes(csv_bytes(frame[list(columns)].reset_index(drop=True)), sys.stdout)
    elif fmt == "json":
        _write(json_text(frame, columns), sys.stdout)
    else:
        _write(people(), sys.stdout)


def _cmd_table(args: argparse.Namespace) -> int:
    dataset, _, table = _table_for(args)
    if args.format == "csv":
        from ..export import contract_frame, csv_bytes

        _write_bytes(csv_bytes(contract_frame(table)), sys.stdout)
    elif args.format == "json":
        _write(json_text(table), sys.stdout)
    else:
        _write(table_text(table, dataset), sys.stdout)
    return EXIT_OK


def _cmd_fetch(args: argparse.Namespace) -> int:
    if is_scheduled(args):
        return scheduled_fetch(args, store_path_of(args))
    if not args.tickers:
        raise CommandError("usage: ratings fetch TICKER... (or --universe sp500, or --from-file PATH)", EXIT_USAGE)
    symbols = fetchable_tickers(args.tickers)
    if not symbols:
        raise CommandError("no ticker to fetch", EXIT_NOTHING_SHOWN)
    outcome = fetch_into_store(symbols, args, store_path_of(args), summary=lambda line: _write(line + "\n", sys.stdout))
    if not outcome.anything_fetched:
        raise CommandError("nothing was fetched: every ticker failed (the store keeps what it had)")
    return EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    dataset, tickers = _dataset_and_tickers(args)
    ticker = tickers[0]
    if len(tickers) > 1:
        _say(f"history shows one ticker at a time: showing {ticker}, not {', '.join(tickers[1:])}")
    frame = history_frame(dataset, ticker)
    if frame.empty:
        where = kind_name(dataset.kind)
        have = sorted(set(dataset.history["ticker"]))
        hint = f" (it has history for {', '.join(have[:12])}{'…' if len(have) > 12 else ''})" if have else ""
        raise CommandError(f"{ticker}: no history in {where}{hint}", EXIT_NOTHING_SHOWN)
    _print_frame(frame, HISTORY_COLUMNS, args.format, lambda: history_text(frame))
    return EXIT_OK


def _cmd_changes(args: argparse.Namespace) -> int:
    from ..changes import CHANGES, changes

    dataset, tickers = _dataset_and_tickers(args)
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


def _cmd_estimates(args: argparse.Namespace) -> int:
    dataset, tickers = _dataset_and_tickers(args)
    table = dataset.estimates_table(tickers)
    shown = set(table["ticker"])
    where = kind_name(dataset.kind)
    for ticker in (t for t in tickers if t not in shown):
        _say(no_estimates_text(_printable(ticker, 20), where, no_coverage=ticker in dataset.no_coverage))
    if not shown:
        hint = " (fetch them with `ratings fetch TICKER...`)" if dataset.kind == "bundle" else ""
        raise CommandError(f"nothing to show: no estimates for {', '.join(tickers)} in {where}{hint}")
    _print_frame(table, ESTIMATES_CSV_COLUMNS, args.format, lambda: estimates_text(table, dataset))
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
