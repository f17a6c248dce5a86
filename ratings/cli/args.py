"""The command line's grammar: the argument types (each refusing a bad value with argparse's usage
error), the option groups several subcommands share, and :func:`build_parser`, which ties each
subcommand to its ``_cmd_*`` function."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from datetime import date
from importlib import metadata
from pathlib import Path

from ..paths import store_target
from . import track_record
from .commands import (
    _cmd_changes,
    _cmd_dashboard,
    _cmd_estimates,
    _cmd_export,
    _cmd_fetch,
    _cmd_history,
    _cmd_table,
)
from .data import SOURCES
from .fetching import add_schedule_options, whole_number
from .output import PROG

TABLE_FORMATS: tuple[str, ...] = ("table", "csv", "json")
EXPORT_FORMATS: tuple[str, ...] = ("png", "svg", "html", "csv")


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
    return whole_number(text, minimum=1)


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
        type=store_target,
        default=None,
        metavar="PATH|URL",
        help="the store: a SQLite file, or a PostgreSQL URL postgresql://USER@HOST:PORT/DB "
        "(default: $RATINGS_STORE, else a file in your data folder)",
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


def _add_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Callable[[argparse.Namespace], int],
    parents: Sequence[argparse.ArgumentParser],
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    """Subcommand `name`, run by `handler`, with the shared option groups `parents`; `summary` is its line
    in ``ratings --help``, `description` heads its own ``--help``."""
    command = commands.add_parser(name, parents=list(parents), help=summary, description=description)
    command.set_defaults(handler=handler)
    return command


def _add_format(command: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    """``--format``, the first of `choices` by default."""
    command.add_argument("--format", choices=choices, default=choices[0], help="default: %(default)s")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Wall Street analyst consensus and the upside implied by price targets.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    store_options, fetch_options = _store_options(), _fetch_options()
    data_options = [_source_options("+"), store_options, fetch_options]

    fetch = _add_command(
        commands, "fetch", _cmd_fetch, [store_options, fetch_options],
        "fetch tickers from Yahoo into the local store",
        "Fetch the tickers' consensus, recommendation trend, upgrades and prices from Yahoo and append "
        "them to the local store as a dated snapshot. Exits 1 only when no ticker could be fetched "
        "(a ticker without analyst coverage counts as fetched: Yahoo answered). With --universe or "
        "--from-file: a scheduled fetch, resumable, under a daily budget (its exit codes: README).",
    )  # fmt: skip
    fetch.add_argument("tickers", nargs="*", metavar="TICKER", help="Yahoo ticker symbols, e.g. AAPL VOD.L 1810.HK")
    add_schedule_options(fetch)

    table = _add_command(
        commands, "table", _cmd_table, data_options, "print consensus and implied upside",
        "Print the consensus and implied upside of the tickers: every source, primary first.",
    )  # fmt: skip
    _add_format(table, TABLE_FORMATS)
    table.add_argument("--primary", action="store_true", help="one row per ticker: the primary source's")

    history = _add_command(
        commands, "history", _cmd_history, [_source_options(1), store_options, fetch_options],
        "print the stored consensus history of a ticker",
        "Print one row per snapshot day and source, oldest first: consensus, counts, price, targets and upside.",
    )  # fmt: skip
    _add_format(history, TABLE_FORMATS)

    changes = _add_command(
        commands, "changes", _cmd_changes, data_options, "print what moved since the previous snapshot",
        "Print label changes, mean-target raises and cuts, and analysts' upgrades, downgrades, "
        "initiations and target moves since each ticker's previous snapshot (or since --since).",
    )  # fmt: skip
    changes.add_argument(
        "--since", type=_iso_day, default=None, metavar="DATE", help="compare with the last snapshot on or before DATE"
    )
    _add_format(changes, TABLE_FORMATS)

    estimates = _add_command(
        commands, "estimates", _cmd_estimates, data_options, "print analysts' EPS and revenue estimates",
        "Print each ticker's EPS and revenue estimates for this and next quarter and year (its latest fetch), "
        "how they moved over 30 and 90 days, the analysts' revisions, how far apart they are, and how often "
        "the company beat the EPS estimate. Amounts are in the company's reporting currency, named on each row.",
    )  # fmt: skip
    _add_format(estimates, TABLE_FORMATS)

    track_record.register(commands, [_source_options("*"), store_options, fetch_options])  # its own module

    export = _add_command(
        commands, "export", _cmd_export, data_options, "write charts or the CSV to a folder",
        "Write the upside chart and each ticker's price-and-targets chart, or the CSV, to --out.",
    )  # fmt: skip
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write to (created)")
    _add_format(export, EXPORT_FORMATS)

    dashboard = _add_command(
        commands, "dashboard", _cmd_dashboard, [], "start the dashboard on localhost", "Start the Streamlit dashboard."
    )
    dashboard.add_argument("--port", type=_port, default=None, help="port (default: streamlit's, 8501)")
    return parser
