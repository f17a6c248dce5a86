"""The one error of the store, and how a lock held too long by another process is said."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..dataset import DataError


class StoreError(DataError):
    """The store cannot be opened, read or written; the message names the file and the reason."""


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for another connection's lock."""
    return "locked" in str(exc) or "busy" in str(exc)


def busy_error(path: Path, exc: sqlite3.Error, timeout_s: float) -> StoreError:
    return StoreError(f"the store {path} stayed locked by another process for over {timeout_s:g} s: {exc}")
