"""How a command fails: the exit codes, and the error that carries a message and its code to `main`."""

from __future__ import annotations

EXIT_OK, EXIT_NOTHING_SHOWN, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class CommandError(Exception):
    """A failure to report as one ``ratings: <message>`` line with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_NOTHING_SHOWN) -> None:
        super().__init__(message)
        self.exit_code = exit_code
