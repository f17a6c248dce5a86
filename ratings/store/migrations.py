"""The store's schema, version by version (``versions/v1.sql``, ...), and SQLite's forward-only migration.

``PRAGMA user_version`` is the schema version and ``PRAGMA application_id`` =
:data:`APPLICATION_ID` marks the file as ours. :data:`MIGRATIONS` is the ordered list of scripts;
version N is the schema after the first N. Opening an older file runs the missing scripts in one
transaction; a file of a newer version than this code knows is refused and left untouched.
PostgreSQL has scripts of its own, version for version (``versions/postgresql/v1.sql``, ...:
:data:`POSTGRES_MIGRATIONS`, run by :mod:`ratings.store.postgres`); both are frozen once released.

    v1  snapshots, upgrades (firm's grades only), names.
    v2  trend, prices, fetch_log; the price-target columns of upgrades (price_target_action,
        prior_price_target, current_price_target); an index of snapshots by time.
    v3  estimates, eps_trend, eps_revisions, surprises: Yahoo's analysis tab, a dated snapshot per fetch.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from .errors import StoreError, busy_error, is_busy

#: ``PRAGMA application_id`` of an analyst-ratings store: b"ARtg" as a big-endian 32-bit integer.
APPLICATION_ID = int.from_bytes(b"ARtg", "big")


def _released_scripts(*folders: str) -> tuple[str, ...]:
    """v1.sql, v2.sql, ... of versions/`folders` in order. Frozen history: never edit a released script, add
    the next one."""
    folder = resources.files("ratings.store").joinpath("versions", *folders)
    found = {int(m.group(1)): f for f in folder.iterdir() if (m := re.fullmatch(r"v(\d+)\.sql", f.name))}
    if sorted(found) != list(range(1, len(found) + 1)):
        raise RuntimeError(f"the store's schema versions are not v1..vN without a gap: {sorted(found)}")
    return tuple(found[n].read_text(encoding="utf-8") for n in sorted(found))


#: Ordered schema scripts: a file at version N has had the first N applied.
MIGRATIONS: tuple[str, ...] = _released_scripts()
SCHEMA_VERSION = len(MIGRATIONS)
#: PostgreSQL's scripts: version N there is the same tables and columns as version N of SQLite's.
POSTGRES_MIGRATIONS: tuple[str, ...] = _released_scripts("postgresql")
if len(POSTGRES_MIGRATIONS) != SCHEMA_VERSION:
    raise RuntimeError(f"SQLite's schema is v{SCHEMA_VERSION}, PostgreSQL's v{len(POSTGRES_MIGRATIONS)}: add the other")


def statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (each of ours ends with ';' at the end of a line)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:80]!r}")


def read_header(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """The file's application id, schema version and number of schema objects."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return app_id, version, objects


def check_ours(path: Path | str, app_id: int, version: int, objects: int, *, create: bool) -> None:
    """Refuse someone else's database, an empty one unless `create`, and a newer schema than ours.

    `path` names the store in the message (a file, or a PostgreSQL database without its password).
    """
    if app_id != APPLICATION_ID:
        if app_id or version or objects:
            raise StoreError(f"not an analyst-ratings store: {path}")
        if not create:
            raise StoreError(f"no store at {path} (an empty database): run `ratings fetch` first")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer version of analyst-ratings (store schema v{version}; "
            f"this version knows up to v{SCHEMA_VERSION}); upgrade analyst-ratings to use it"
        )


def prepare(conn: sqlite3.Connection, path: Path, *, create: bool, busy_timeout_s: float) -> None:
    """Check the open file is ours and whole, switch it to WAL, and migrate it to :data:`SCHEMA_VERSION`."""
    # Everything up to quick_check only reads: a file that fails a check is left byte for byte.
    app_id, version, objects = read_header(conn)
    check_ours(path, app_id, version, objects, create=create)
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)").fetchall()]
    if problems != ["ok"]:
        raise StoreError(f"the store {path} is damaged: {'; '.join(problems)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a power cut may lose the last fetch
    if version < SCHEMA_VERSION:
        migrate(conn, path, create=create, busy_timeout_s=busy_timeout_s)


def migrate(conn: sqlite3.Connection, path: Path, *, create: bool, busy_timeout_s: float) -> None:
    """Bring the file to :data:`SCHEMA_VERSION` in one transaction (all scripts or none)."""
    conn.execute("BEGIN IMMEDIATE")
    version = SCHEMA_VERSION
    try:
        # Another process may have migrated while we waited for the lock: look again.
        app_id, version, objects = read_header(conn)
        check_ours(path, app_id, version, objects, create=create)
        for script in MIGRATIONS[version:]:
            for statement in statements(script):
                conn.execute(statement)
        # PRAGMAs take no parameters; both values are this module's integer constants.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.rollback()
        if is_busy(exc):
            raise busy_error(path, exc, busy_timeout_s) from None
        raise StoreError(
            f"cannot migrate the store {path} from schema v{version} to v{SCHEMA_VERSION} (nothing was changed): {exc}"
        ) from None
    except BaseException:
        conn.rollback()
        raise
