"""Fetching from Yahoo into the store, for ``ratings fetch`` and ``--source live``: the live loader's
settings from the options, its progress on stderr, and its report; and the scheduled fetch of a whole
universe (``--universe sp500``, ``--from-file PATH``: :mod:`ratings.schedule`) with its exit codes.

The live loader (and with it yfinance) is imported only when a fetch runs, so that a command reading
the bundle or the store never loads it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from .. import schedule
from ..paths import StoreTarget
from ..tickers import parse_tickers
from .errors import EXIT_USAGE, CommandError
from .output import Progress, _os_error_text, _printable, _say, _write
from .views import fetch_report

if TYPE_CHECKING:
    from ..refresh import RefreshOutcome
    from ..yahoo import LiveConfig

#: A scheduled fetch's exit codes, by :data:`ratings.schedule.Status`: what a cron job can act on.
SCHEDULE_EXIT_CODES: dict[str, int] = {
    "complete": 0,  # every ticker of the universe is done today
    "nothing_fetched": 1,  # every ticker asked failed and none is done today (no network?): nothing stored
    "budget_spent": 3,  # today's budget is spent; the rest waits for tomorrow's run
    "locked": 4,  # another fetch of this store holds its fetch lock: this run did nothing
    "failures": 5,  # done for now, but some tickers failed: the next run retries them
    "rate_limited": 75,  # Yahoo answered HTTP 429: stopped early, progress kept; try again later (EX_TEMPFAIL)
}
EXIT_TERMINATED = 143  # SIGTERM (128 + 15): stopped, every finished batch kept
UNIVERSES: tuple[str, ...] = ("sp500",)
#: Seconds a scheduled run's batch may take (its --budget): 25 tickers of ~8 requests at 2 a second, with retries.
SCHEDULED_BATCH_BUDGET_S = 600.0


def live_config(args: argparse.Namespace, **defaults: Any) -> LiveConfig:
    """The live loader's settings from ``--workers``, ``--rate`` and ``--budget`` (`defaults`, then the
    loader's own, otherwise)."""
    from ..yahoo import LiveConfig

    settings: dict[str, Any] = dict(defaults)
    if (workers := getattr(args, "workers", None)) is not None:
        settings["max_workers"] = workers
    if (rate := getattr(args, "rate", None)) is not None:
        settings["requests_per_second"] = rate or None  # 0: no limit
    if (budget := getattr(args, "budget", None)) is not None:
        settings["budget_s"] = budget
    return LiveConfig(**settings)


def fetch_into_store(
    symbols: list[str], args: argparse.Namespace, path: StoreTarget, *, summary: Callable[[str], None]
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
    report = fetch_report(outcome)
    for line in report.problems:
        _say(line)
    for line in report.summary:
        summary(line)
    return outcome


def parsed_tickers(raw: Sequence[str], known: frozenset[str] | None, *, quiet: bool = False) -> list[str]:
    """The well-formed (and, given `known`, known) symbols of `raw`, in order; each other one named on stderr."""
    if not quiet:
        for item in raw:
            if not item.strip():
                _say("'': empty ticker symbol")
    parsed = parse_tickers(list(raw), known=known)
    if not quiet:
        for symbol, reason in parsed.invalid.items():
            _say(f"{_printable(symbol)}: {reason}")
    return parsed.valid


def fetchable_tickers(raw: Sequence[str], *, quiet: bool = False) -> list[str]:
    """The well-formed symbols of `raw`, in order: any symbol may be asked of Yahoo, known or not.

    Each malformed one is named on stderr, as ``table`` names them (unless `quiet`).
    """
    return parsed_tickers(raw, known=None, quiet=quiet)


# -- scheduled fetches of a universe ---------------------------------------------------------------


def whole_number(text: str, *, minimum: int) -> int:
    """An option's whole number of at least `minimum`, or argparse's usage error saying why not."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(
            f"must be {'at least 1' if minimum == 1 else f'{minimum} or more'}, not {value}"
        )
    return value


def _count(text: str) -> int:
    return whole_number(text, minimum=0)


def add_schedule_options(command: argparse.ArgumentParser) -> None:
    """``ratings fetch``'s options for a scheduled fetch of a whole universe."""
    group = command.add_argument_group(
        "scheduled fetch of a universe (for cron or a systemd timer: resumable, one at a time per store)"
    )
    which = group.add_mutually_exclusive_group()
    which.add_argument("--universe", choices=UNIVERSES, default=None, help="sp500: the bundle's S&P 500 list")
    which.add_argument(
        "--from-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="the tickers in a file: one per line, or separated by spaces or commas; # starts a comment",
    )
    group.add_argument(
        "--daily-budget",
        type=_count,
        default=schedule.DEFAULT_DAILY_BUDGET,
        metavar="N",
        help="tickers asked of Yahoo per UTC day at most, every fetch of the store counted (default: %(default)s;"
        " users report HTTP 429 after about 950-1,500 tickers in a burst)",
    )


def is_scheduled(args: argparse.Namespace) -> bool:
    return getattr(args, "universe", None) is not None or getattr(args, "from_file", None) is not None


def universe_tickers(args: argparse.Namespace) -> tuple[str, list[str]]:
    """The universe's name and its well-formed tickers, in order (malformed ones named on stderr)."""
    if args.tickers:
        raise CommandError("give tickers, or --universe / --from-file, not both", EXIT_USAGE)
    if args.universe == "sp500":
        from ..bundle import load_bundle

        universe = load_bundle().universe
        return "the S&P 500", [str(t) for t in universe.loc[universe["in_sp500"], "ticker"]]
    path: Path = args.from_file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = _os_error_text(exc) if isinstance(exc, OSError) else f"{path}: not UTF-8 text"
        raise CommandError(f"cannot read the ticker file {_printable(reason, 300)}", EXIT_USAGE) from None
    words = [w for line in text.splitlines() for w in line.split("#", 1)[0].replace(",", " ").split()]
    symbols = fetchable_tickers(words)
    if not symbols:
        raise CommandError(f"no ticker in {_printable(str(path), 200)}", EXIT_USAGE)
    return _printable(str(path), 200), symbols


class Terminated(BaseException):
    """SIGTERM arrived (a service manager stopping the run): stop as Ctrl-C does."""


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` in the main thread for the block, so the fetch stops between
    requests and the batch in flight is rolled back (SIGKILL needs no help: nothing half-written commits)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def scheduled_fetch(args: argparse.Namespace, path: StoreTarget) -> int:
    """``ratings fetch --universe sp500`` / ``--from-file PATH``: :func:`ratings.schedule.run`, its plan and
    progress on stderr, its summary on stdout; returns :data:`SCHEDULE_EXIT_CODES`' code."""
    name, symbols = universe_tickers(args)
    progress = Progress(sys.stderr)
    asked = [0, 0]  # done, total

    def planned(found: schedule.Plan) -> None:
        _say(
            f"{name}: {len(found.universe)} tickers, {len(found.done)} done today, {len(found.todo)} to fetch now"
            + (f", {len(found.beyond_budget)} beyond today's budget" if found.beyond_budget else "")
            + (f", {len(found.given_up)} left until tomorrow after repeated failures" if found.given_up else "")
            + f" ({found.asked_today} of {found.budget} asked today)"
        )
        asked[1] = len(found.todo)
        progress.start(asked[1])

    def ticked(done: int, total: int, result: Any) -> None:
        asked[0] += 1
        progress(asked[0], asked[1], result)

    config = live_config(args, budget_s=SCHEDULED_BATCH_BUDGET_S)
    try:
        with _sigterm_stops():
            outcome = schedule.run(
                symbols,
                store_path=path,
                config=config,
                budget=args.daily_budget,
                force=bool(getattr(args, "force", False)),
                on_plan=planned,
                on_progress=ticked,
            )
    except Terminated:
        progress.close()
        _say("terminated: every finished batch is stored; the next run resumes from there")
        return EXIT_TERMINATED
    finally:
        progress.close()
    for ticker, reason in outcome.failures.items():
        _say(f"{_printable(ticker, 20)}: failed: {_printable(reason, 300)}")
    _write(schedule_summary(name, outcome) + "\n", sys.stdout)
    return SCHEDULE_EXIT_CODES[outcome.status]


def schedule_summary(name: str, outcome: schedule.ScheduleOutcome) -> str:
    """One line: what this run did and where the universe stands."""
    if outcome.status == "locked" or outcome.after is None:
        return f"{name}: another fetch of this store is running (it holds the fetch lock): nothing done"
    after = outcome.after
    line = (
        f"{name}: fetched {outcome.fetched} now, {len(outcome.failures)} failed; "
        f"{len(after.done)} of {len(after.universe)} done today"
    )
    notes = {
        "complete": "complete for today",
        "nothing_fetched": "nothing could be fetched",
        "budget_spent": f"today's budget of {after.budget} is spent: {len(after.pending)} wait for tomorrow",
        "failures": f"{len(after.todo)} to retry, {len(after.given_up)} given up until tomorrow",
        "rate_limited": f"stopped: Yahoo rate-limited this address; {len(after.pending)} left for a later run",
    }
    return f"{line} ({notes[outcome.status]})"
