"""The ``ratings`` command line: print the consensus table, export charts and data, start the dashboard.

Every subcommand is one ``_cmd_*`` function registered in :func:`build_parser`; data is loaded only
through :func:`load_dataset`, so another data source is one more ``--source`` choice there.

Output rules: stdout carries only data (a table, CSV or JSON, or the written paths), so it can be
piped into a parser; every warning and error is one ``ratings: ...`` line on stderr. No traceback
reaches the user: :func:`main` turns every failure into a message and an exit code:

* 0: everything asked for was shown (or some tickers were, and the others were named on stderr);
* 1: nothing could be shown (every ticker was unknown or malformed), or the data could not be loaded;
* 2: a usage error, an export that needs Chrome without one, or a path that cannot be written;
* 130: interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO, cast

import pandas as pd

from .core import COVERAGE_NONE, primary_rows
from .data import PROJECT_ROOT, DataError, Dataset, load_bundle
from .formatting import MISSING, count, dated, label_text, money, money_range, percent
from .schema import CSV_COLUMNS
from .tickers import parse_tickers

PROG = "ratings"
SOURCES: tuple[str, ...] = ("bundle",)
TABLE_FORMATS: tuple[str, ...] = ("table", "csv", "json")
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


def _write(text: str, stream: TextIO) -> None:
    """Write text that survives a terminal whose encoding lacks '—' or '€' (replaced, not a crash)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    stream.write(text.encode(encoding, errors="replace").decode(encoding))


def _say(message: str) -> None:
    """One line for the person at the terminal, on stderr so stdout stays clean for data."""
    _write(f"{PROG}: {message}\n", sys.stderr)


def _write_bytes(data: bytes, stream: TextIO) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        _write(data.decode("utf-8"), stream)
        return
    stream.flush()
    buffer.write(data)
    buffer.flush()


# ------------------------------------------------------------------------------------------ data


def load_dataset(args: argparse.Namespace) -> Dataset:
    """The dataset chosen by ``--source``; its load warnings go to stderr. Raises DataError."""
    source = getattr(args, "source", "bundle")
    if source == "bundle":
        dataset = load_bundle()
    else:  # argparse restricts the choices; this guards a caller that builds args by hand
        raise CommandError(f"unknown data source {source!r} (choose from {', '.join(SOURCES)})", EXIT_USAGE)
    for warning in dataset.warnings:
        _say(f"warning: {warning}")
    return dataset


def resolve_tickers(raw: Sequence[str], dataset: Dataset) -> list[str]:
    """The usable tickers of `raw`, in order; one stderr line naming each rejected one and why."""
    for item in raw:
        if not item.strip():
            _say("'': empty ticker symbol")
    parsed = parse_tickers(list(raw), known=dataset.known_tickers)
    for symbol, reason in parsed.invalid.items():
        _say(f"{_printable(symbol)}: {reason}")
    return parsed.valid


def _table_for(args: argparse.Namespace) -> tuple[Dataset, list[str], pd.DataFrame]:
    """Load, resolve the tickers and build the table; CommandError (exit 1) when no ticker is left."""
    dataset = load_dataset(args)
    tickers = resolve_tickers(args.tickers, dataset)
    if not tickers:
        raise CommandError("no ticker to show", EXIT_NOTHING_SHOWN)
    table = dataset.table(tickers)
    if getattr(args, "primary", False):
        table = primary_rows(table)
    uncovered = table.loc[table["coverage"] == COVERAGE_NONE, "ticker"].drop_duplicates()
    for ticker in uncovered:
        _say(f"{ticker}: the data has no analyst consensus for it (showing its latest close only)")
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


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The contract columns of `table` as JSON-ready records, keys in :data:`CSV_COLUMNS` order."""
    columns = {name: table[name].tolist() for name in CSV_COLUMNS}
    return [{name: _json_value(columns[name][i]) for name in CSV_COLUMNS} for i in range(len(table))]


def json_text(table: pd.DataFrame) -> str:
    # allow_nan=False: a NaN that slipped through is a bug to raise, not invalid JSON to print.
    return json.dumps(records(table), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def terminal_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table as text columns for a terminal: the overview's figures, formatted for people."""
    rows = cast(list[dict[str, Any]], table.to_dict("records"))
    return pd.DataFrame(
        {
            "Ticker": [str(r["ticker"]) for r in rows],
            "Name": [MISSING if pd.isna(r["name"]) else _cut(str(r["name"]), NAME_WIDTH) for r in rows],
            "Source": [MISSING if pd.isna(r["source"]) else str(r["source"]) for r in rows],
            "As of": [dated(r["as_of"]) for r in rows],
            "Consensus": [label_text(r) for r in rows],
            "Analysts": [count(r["n_analysts"]) for r in rows],
            "Price": [money(r["price"], r["currency"]) for r in rows],
            "Price date": [
                dated(r["price_as_of"]) + (" (close)" if r["price_source"] == "close" else "") for r in rows
            ],
            "Mean target": [money(r["target_mean"], r["currency"]) for r in rows],
            "Upside": [percent(r["upside_mean"]) for r in rows],
            "Target range": [money_range(r["target_low"], r["target_high"], r["currency"]) for r in rows],
        }
    )


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
        text += " '(close)': no price quoted with the consensus, so the latest bundled close is used."
    return text + " Upside = target / price - 1.\n"


# -------------------------------------------------------------------------------------- commands


def _cmd_table(args: argparse.Namespace) -> int:
    dataset, _, table = _table_for(args)
    if args.format == "csv":
        from .export import contract_frame, csv_bytes

        _write_bytes(csv_bytes(contract_frame(table)), sys.stdout)
    elif args.format == "json":
        _write(json_text(table), sys.stdout)
    else:
        _write(fixed_width(terminal_frame(table)) + "\n" + sources_footer(table, dataset), sys.stdout)
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from . import export

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
    except export.ExportUnavailable as exc:  # the browser failed mid-way
        raise CommandError(f"{exc} Here: use --format html or --format csv.", EXIT_USAGE) from None
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename) == Path(args.out):
            exc.filename = None  # named once already: "cannot write to DIR: Not a directory"
        where = _printable(str(args.out), 200)
        raise CommandError(f"cannot write to {where}: {_os_error_text(exc)}", EXIT_USAGE) from None
    for path in written:
        _write(f"{path}\n", sys.stdout)
    return EXIT_OK


def _export_files(
    dataset: Dataset, tickers: list[str], table: pd.DataFrame, out: Path, fmt: str
) -> list[Path]:
    """Write the CSV, or the upside chart and one price-and-targets chart per ticker; the paths written."""
    from .export import bundle_as_of, contract_frame, export_filename, write_csv, write_figure

    as_of = bundle_as_of(table)
    if out.exists() and not out.is_dir():
        raise CommandError(f"cannot write to {_printable(str(out), 200)}: it is a file, not a folder", EXIT_USAGE)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return [write_csv(contract_frame(table), out / export_filename("consensus", tickers, as_of, "csv"))]

    from .charts import price_target_chart, upside_chart

    written = [write_figure(upside_chart(table), out / export_filename("upside", tickers, as_of, fmt), fmt)]
    for ticker in tickers:
        figure = price_target_chart(
            dataset.prices_for(ticker),
            table[table["ticker"] == ticker].reset_index(drop=True),
            dataset.history_for(ticker),
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
    # cwd = project root: streamlit finds pages/ and .streamlit/config.toml from wherever it is launched.
    completed = subprocess.run(dashboard_command(args.port, root), cwd=root, check=False)  # noqa: S603
    return completed.returncode


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Wall Street analyst consensus and the upside implied by price targets.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # Options shared by every command that reads data; a new source is one more choice here.
    data_options = argparse.ArgumentParser(add_help=False)
    data_options.add_argument(
        "--source", choices=SOURCES, default="bundle", help="where the data comes from (default: %(default)s)"
    )
    data_options.add_argument(
        "tickers", nargs="+", metavar="TICKER", help="ticker symbols, e.g. F TSLA 1810.HK"
    )

    table = commands.add_parser(
        "table",
        parents=[data_options],
        help="print consensus and implied upside",
        description="Print the consensus and implied upside of the tickers: every source, primary first.",
    )
    table.add_argument("--format", choices=TABLE_FORMATS, default="table", help="default: %(default)s")
    table.add_argument("--primary", action="store_true", help="one row per ticker: the primary source's")
    table.set_defaults(handler=_cmd_table)

    export = commands.add_parser(
        "export",
        parents=[data_options],
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
