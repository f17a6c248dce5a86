"""What the command line writes to the terminal: data on stdout, ``ratings: ...`` lines and the fetch's
progress bar on stderr, in any terminal encoding, with user text escaped and a closed stream survived."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from .errors import EXIT_USAGE, CommandError

if TYPE_CHECKING:
    from ..yahoo import LiveResult

PROG = "ratings"
#: A fetched ticker's status in words, in the progress bar and in the fetch's summary.
STATUS_WORDS = {"ok": "fetched", "no_coverage": "no analyst coverage", "failed": "failed"}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _printable(text: str, limit: int = 40) -> str:
    """User text made safe for a terminal: control characters escaped, length capped."""
    return _cut("".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text), limit)


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
        status = STATUS_WORDS.get(result.status, result.status) + (" (cached)" if result.from_cache else "")
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
