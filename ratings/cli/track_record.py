"""``ratings track-record [TICKER...]``: each firm's track record on the tickers asked for (every ticker with
analysts' actions by default), scored by :mod:`ratings.track_record`, ranked, as a table, CSV or JSON.

The CSV and JSON columns are a public contract: :data:`ratings.track_record.FIRM_CSV_COLUMNS`, in that
order (README, "The command line"). Registered in :func:`ratings.cli.args.build_parser` by :func:`register`.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

import pandas as pd

from ..dataset import Dataset
from ..formatting import FIRM_COLUMNS, count, firm_cells, kind_name, scoring_text, status_lines
from ..grades import unknown_grades
from ..track_record import (
    DEFAULT_HORIZON,
    DEFAULT_MIN_CALLS,
    FIRM_CSV_COLUMNS,
    HORIZONS,
    firm_record,
    score_calls,
    scoring_closes,
    status_counts,
    unpriced_breakdown,
    unpriced_tickers,
)
from .data import load_dataset, resolve_tickers
from .errors import EXIT_NOTHING_SHOWN, EXIT_OK, CommandError
from .output import _printable, _say, _write, _write_bytes
from .views import fixed_width, json_text

FORMATS: tuple[str, ...] = ("table", "csv", "json")
#: Terminal columns of numbers, right-aligned.
_NUMBERS = ("Rank", "Scored calls", "Success rate", "95% interval", "Mean excess", "Median excess", "Pending")
RANKING_NOTE = (
    "Ranked by the lower bound of the Wilson 95% interval of the success rate (then more calls, then name): "
    "a firm with two lucky calls does not rank first. Excess return: over the benchmark, in the call's direction."
)


def horizon(text: str) -> int:
    """'12m' or '12' -> 12; one of :data:`ratings.track_record.HORIZONS` months."""
    match = re.fullmatch(r"\s*(\d+)\s*m?\s*", text)
    months = int(match.group(1)) if match else None
    if months not in HORIZONS:
        allowed = ", ".join(f"{h}m" for h in HORIZONS)
        raise argparse.ArgumentTypeError(f"the horizon is one of {allowed}, not {text!r}")
    return months


def _min_calls(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], parents: Sequence[argparse.ArgumentParser]
) -> None:
    """Add ``track-record`` to `commands`, with the shared option groups `parents` (tickers optional)."""
    command = commands.add_parser(
        "track-record",
        parents=list(parents),
        help="rank the research firms by how their calls fared",
        description="Score every buy- and sell-type analyst call against the stock's adjusted closes and a benchmark "
        "over a window (12 months by default, or to the firm's next action), and rank the firms by the lower bound "
        "of the 95% interval of their success rate. Without tickers: every ticker with analysts' actions.",
    )
    command.set_defaults(handler=run)
    command.add_argument("--horizon", type=horizon, default=DEFAULT_HORIZON, metavar="12m", help="3m, 6m or 12m")
    command.add_argument(
        "--min-calls", type=_min_calls, default=DEFAULT_MIN_CALLS, metavar="N",
        help="list firms with at least N scored calls (default: %(default)s)",
    )  # fmt: skip
    command.add_argument("--format", choices=FORMATS, default=FORMATS[0], help="default: %(default)s")


def _actions(args: argparse.Namespace, dataset: Dataset) -> tuple[pd.DataFrame, list[str]]:
    """The actions of the tickers asked for (or all), each ticker without any named on stderr."""
    actions = dataset.upgrades
    where = kind_name(dataset.kind)
    if not args.tickers:
        return actions, sorted(set(actions["ticker"].dropna()))
    tickers = resolve_tickers(args.tickers, dataset)
    held = set(actions["ticker"].dropna())
    for ticker in (t for t in tickers if t not in held):
        _say(f"{_printable(ticker, 20)}: {where} has no analysts' actions for it")
    kept = [t for t in tickers if t in held]
    if not kept:
        raise CommandError("nothing to score: no ticker asked for has analysts' actions", EXIT_NOTHING_SHOWN)
    return actions[actions["ticker"].isin(kept)], kept


def run(args: argparse.Namespace) -> int:
    dataset = load_dataset(args)
    actions, tickers = _actions(args, dataset)
    closes, benchmark = scoring_closes(dataset.adjusted_closes, dataset.prices)
    calls = score_calls(actions, closes, benchmark=benchmark, horizon_months=args.horizon)
    where = kind_name(dataset.kind)
    held = calls["ticker"].value_counts()
    for ticker in unpriced_tickers(calls):
        _say(f"{ticker}: {where} has no closes to score its {count(held[ticker])} actions on")
    unknown = unknown_grades(actions["to_grade"])
    if unknown:
        named = ", ".join(f"{_printable(w)!r} ({n})" for w, n in unknown.items())
        _say(f"grade words not in the table, not scored: {named}")
    if benchmark is None:
        _say(f"warning: {where} has no benchmark closes (EW-SP500 or SPY): no call can be scored")
    firms = firm_record(calls, min_calls=args.min_calls)
    if firms.empty:
        raise CommandError(
            f"nothing to show: no firm has {args.min_calls} scored call{'s' if args.min_calls != 1 else ''} on "
            f"{', '.join(tickers[:12])} over {args.horizon} months in {where}",
            EXIT_NOTHING_SHOWN,
        )
    if args.format == "csv":
        from ..export import csv_bytes

        _write_bytes(csv_bytes(firms[list(FIRM_CSV_COLUMNS)]), sys.stdout)
    elif args.format == "json":
        _write(json_text(firms, FIRM_CSV_COLUMNS), sys.stdout)
    else:
        _write(record_text(firms, calls, closes, dataset), sys.stdout)
    return EXIT_OK


def record_text(firms: pd.DataFrame, calls: pd.DataFrame, closes: pd.DataFrame, dataset: Dataset) -> str:
    """The ranked firms for a terminal, numbers right-aligned, then how they were scored and what was not."""
    cells = pd.DataFrame(firm_cells(firms.to_dict("records")), columns=list(FIRM_COLUMNS))
    for column in _NUMBERS:
        width = max(len(column), *(len(v) for v in cells[column]))
        cells[column] = cells[column].str.rjust(width)
    used = closes[closes["ticker"].isin([*calls["ticker"].dropna().unique(), *calls["benchmark"].dropna().unique()])]
    sources = "; ".join(
        f"{dataset.sources.get(str(s), {}).get('provider') or s}, as of {dataset.sources.get(str(s), {}).get('as_of')}"
        for s in used["source_id"].dropna().unique()
    )
    first, last = (used["date"].min(), used["date"].max()) if not used.empty else (None, None)
    months = calls["horizon_months"].dropna()
    benchmark = calls["benchmark"].dropna()
    graded = calls["graded_at"].dropna()
    lines = [
        scoring_text(
            months.iloc[0] if not months.empty else None,
            benchmark.iloc[0] if not benchmark.empty else None,
            first,
            last,
            sources or "no closes",
        ),
        f"Actions: {', '.join(sorted(set(calls['source'].dropna())) or ['unknown source'])}, "
        f"{str(graded.min())[:10]} to {str(graded.max())[:10]}.",
        *status_lines(status_counts(calls), unpriced_breakdown(calls, closes), unknown_grades(calls["to_grade"])),
        RANKING_NOTE,
    ]
    return fixed_width(cells) + "\n" + "\n".join(_printable(line, 2000) for line in lines) + "\n"
