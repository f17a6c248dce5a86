"""The SQLite backend of the :class:`~ratings.store.Store`: a checked file, WAL, transactions, the fetch lock.

Concurrency
    WAL journal, ``busy_timeout`` of :data:`BUSY_TIMEOUT_S`, short write transactions
    (``BEGIN IMMEDIATE`` around the inserts only; the network fetch happens before): a dashboard
    reads while ``ratings fetch`` writes from another process. A read block is ``BEGIN DEFERRED``:
    every read in it sees one snapshot of the file.

The fetch lock (two scheduled fetches never run at once) is an ``flock`` on ``<store>.fetch-lock``
beside the file: the kernel drops it when its process ends, however it ends, so a killed run never
leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import migrations, sql
from .errors import StoreError, busy_error, is_busy
from .files import check_file

#: How long a statement waits for another process's lock before giving up.
BUSY_TIMEOUT_S = 10.0


class SqliteBackend:
    """One connection to a SQLite store file, opened only after the file passed every check."""

    dialect = sql.SQLITE

    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        self.location = str(path)
        existed = check_file(path, create=create)
        if not existed:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of the store {path}: {exc.strerror or exc}") from None
        # mode=rw never creates a file: an existing store is opened as it is or not at all.
        uri = path.absolute().as_uri() + ("?mode=rw" if existed else "?mode=rwc")
        try:
            self._conn = sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from None
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")
            migrations.prepare(self._conn, path, create=create, busy_timeout_s=BUSY_TIMEOUT_S)
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if is_busy(exc):
                raise busy_error(path, exc, BUSY_TIMEOUT_S) from None
            raise StoreError(f"cannot open the store {path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            self._conn.close()
            raise StoreError(f"the store {path} is damaged or not a database: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        self._conn.close()

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise busy_error(self.path, exc, BUSY_TIMEOUT_S) from exc
            raise StoreError(f"cannot {doing} the store {self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"cannot {doing} the store {self.path}: {exc}") from exc

    # -- transactions -----------------------------------------------------------------------------

    def begin_write(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        self._conn.execute("BEGIN DEFERRED")

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self._conn.rollback()

    # -- statements -------------------------------------------------------------------------------

    def query(self, statement: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._conn.execute(statement, tuple(params))
        records = cursor.fetchall()
        return [d[0] for d in cursor.description], records

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(statement, tuple(params)).rowcount

    def executemany(self, statement: str, values: list[tuple[Any, ...]]) -> int:
        return self._conn.executemany(statement, values).rowcount

    def insert_id(self, statement: str, params: Sequence[Any]) -> int:
        """Run an INSERT; the id of the row it made."""
        return int(self._conn.execute(statement, tuple(params)).lastrowid or 0)

    # -- the fetch lock ---------------------------------------------------------------------------

    @contextmanager
    def fetch_lock(self) -> Iterator[bool]:
        """Hold the store's fetch lock for the block; yields False (and holds nothing) if another process has it."""
        lock_path = self.path.with_name(self.path.name + ".fetch-lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot take the fetch lock {lock_path}: {exc.strerror or exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
