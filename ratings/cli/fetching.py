"""Fetching from Yahoo into the local store, for ``ratings fetch`` and ``--source live``: the live
loader's settings from the options, its progress on stderr, and its report.

The live loader (and with it yfinance) is imported only when a fetch runs, so that a command reading
the bundle or the store never loads it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .output import Progress, _say
from .views import fetch_report

if TYPE_CHECKING:
    from ..refresh import RefreshOutcome
    from ..yahoo import LiveConfig


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
    report = fetch_report(outcome)
    for line in report.problems:
        _say(line)
    for line in report.summary:
        summary(line)
    return outcome
