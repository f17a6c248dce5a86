"""The ``ratings`` command line: fetch from Yahoo into the local store, print the consensus table, its
history, what changed and analysts' estimates, export charts and data, start the dashboard.

Every subcommand is one ``_cmd_*`` function in :mod:`.commands`, registered in :func:`.args.build_parser`;
data is loaded only through :func:`.data.load_dataset`, whose ``--source`` is ``bundle`` (the bundled
snapshot, the default), ``store`` (the local store's latest snapshot, ``--store PATH``; the default when
``--store`` is given) or ``live`` (fetch those tickers from Yahoo into the store first, then read the
store: :mod:`.fetching`). Text for a terminal is built in :mod:`.views` from :mod:`ratings.formatting`'s
cells and written by :mod:`.output`.

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
  ``--store`` that is not a usable store (a corrupt file, someone else's database, locked): it is left untouched;
* 130: interrupted with Ctrl-C.

A scheduled fetch (``ratings fetch --universe sp500`` or ``--from-file PATH``) says more, for cron:
0 complete for today, 1 nothing of the universe could be fetched, 2 as above, 3 today's budget is
spent (the rest tomorrow), 4 another fetch of the store holds its lock, 5 some tickers failed (the next
run retries them), 75 rate-limited by Yahoo (try later), 143 terminated (SIGTERM); every finished batch
is kept (:data:`.fetching.SCHEDULE_EXIT_CODES`, :mod:`ratings.schedule`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..dataset import DataError
from ..store import StoreError
from .args import build_parser
from .commands import dashboard_command
from .data import chosen_source, load_dataset, resolve_tickers, store_path_of
from .errors import EXIT_INTERRUPTED, EXIT_NOTHING_SHOWN, EXIT_USAGE, CommandError
from .output import Progress, _os_error_text, _say, _silence_stdout
from .views import HISTORY_COLUMNS, fixed_width, json_text, records, terminal_frame

__all__ = [
    "HISTORY_COLUMNS",
    "CommandError",
    "Progress",
    "build_parser",
    "chosen_source",
    "dashboard_command",
    "fixed_width",
    "json_text",
    "load_dataset",
    "main",
    "records",
    "resolve_tickers",
    "store_path_of",
    "terminal_frame",
]


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
