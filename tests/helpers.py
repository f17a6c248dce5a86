"""Plain helpers the tests and the fixtures in ``conftest.py`` share: a virtual clock, command-line runs."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recordings import DAY_2025

from ratings.yahoo import LiveConfig


class VirtualClock:
    """Time that only moves when something sleeps on it; records every sleep. Thread-safe.

    Two readings, the two ``yahoo.fetch`` takes: :meth:`monotonic`, the seconds slept so far (backoff,
    rate limiter, budget), and :meth:`wall_clock`, the wall clock :attr:`now`, which tests set and which
    sleeping never moves (when a fetch happens, and so which recording it is served).
    """

    def __init__(self, now: datetime = DAY_2025) -> None:
        self.now = now
        self.sleeps: list[float] = []  # as asked, negative ones included
        #: The ``config`` of each ``yahoo.fetch`` call made on this clock (the ``wall`` fixture records them).
        self.configs: list[LiveConfig | None] = []
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def wall_clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._elapsed += max(0.0, seconds)


@dataclass
class Run:
    """One in-process run of ``ratings.cli.main``: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    @property
    def out_lines(self) -> list[str]:
        return [line for line in self.out.splitlines() if line.strip()]


def parse_json(text: str) -> Any:
    """JSON as the standard defines it: NaN and Infinity are failures, not numbers."""

    def reject(constant: str) -> None:
        raise AssertionError(f"JSON holds {constant}, which is not JSON")

    return json.loads(text, parse_constant=reject)


def number(value: Any) -> float | None:
    return None if value is None else float(value)
