"""The PostgreSQL backend of the :class:`~ratings.store.Store` (psycopg 3): checked, migrated, transactions, locks.

A store is one database (its current schema), named by a URL (``postgresql://user@host:5432/ratings``;
a password is best kept in ``~/.pgpass`` or ``$PGPASSWORD``, since messages and pages show the URL,
without its password). The table ``ratings_store`` (one row: application id, schema version) is what
SQLite's ``PRAGMA application_id`` and ``user_version`` are: a database with tables but without it, or
with another application id, is not ours and is refused; one of a newer version is refused too. The
checks only read, so a refused database is left as it was.

Migrations run :data:`~ratings.store.migrations.POSTGRES_MIGRATIONS` in one transaction (PostgreSQL's
DDL is transactional: all scripts or none) under an advisory lock, so several processes opening a new
store at once create it once. Writes are one ``READ COMMITTED`` transaction per batch (readers never
see half of one: MVCC); a read block is ``REPEATABLE READ READ ONLY``, one snapshot for all its reads.
A lock held by another writer for over :data:`LOCK_TIMEOUT_S` is a clear error, not a hang.

The fetch lock is a session-level advisory lock: the server drops it when the connection ends, so a
killed scheduler never leaves it behind. psycopg is imported here only, when a URL is opened.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import conninfo, errors

from . import migrations, sql
from .errors import StoreError

#: How long a statement waits for another connection's lock before giving up.
LOCK_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10
#: The table that marks a database as a store and holds its schema version.
META_TABLE = "ratings_store"
#: Advisory lock keys (classid, objid): the migration, and the fetch scheduler.
MIGRATION_LOCK = (migrations.APPLICATION_ID, 1)
FETCH_LOCK = (migrations.APPLICATION_ID, 2)

_OBJECTS = (
    "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
)
_HAS_META = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = %s"


def display(url: str) -> str:
    """`url` without its password, for messages and pages."""
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return url.split("@", 1)[-1] if "@" in url else url
    user = f"{params['user']}@" if params.get("user") else ""
    host = str(params.get("host", "") or "")
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{host}{port}/{params.get('dbname', '')}"


@functools.lru_cache(maxsize=256)
def spell(statement: str) -> str:
    """A statement of :mod:`.sql` in psycopg's placeholders (``?`` -> ``%s``); ours hold no other ``?`` or ``%``."""
    if "%" in statement:
        raise ValueError(f"a store statement may not contain '%': {statement[:80]!r}")
    return statement.replace("?", "%s")


def connect(url: str, where: str) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(
            url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="analyst-ratings"
        )
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the store {where}: {str(exc).strip()}") from None
    return conn


def read_header(conn: psycopg.Connection[Any], where: str) -> tuple[int, int, int]:
    """The database's application id, schema version and number of tables (and the like) in its schema."""
    objects = int(conn.execute(_OBJECTS).fetchone()[0])  # type: ignore[index]
    if not conn.execute(_HAS_META, (META_TABLE,)).fetchone()[0]:  # type: ignore[index]
        return 0, 0, objects
    try:
        rows = conn.execute(f"SELECT application_id, schema_version FROM {META_TABLE}").fetchall()  # noqa: S608
    except psycopg.Error:
        rows = []
    if len(rows) != 1 or not all(isinstance(v, int) for v in rows[0]):
        raise StoreError(f"not an analyst-ratings store: {where} (its {META_TABLE} table is someone else's)")
    return int(rows[0][0]), int(rows[0][1]), objects


class PostgresBackend:
    """One connection to a PostgreSQL store, opened only after the database passed the checks."""

    dialect = sql.POSTGRES

    def __init__(self, url: str, *, create: bool) -> None:
        self.url = url
        self.location = display(url)
        self._conn = connect(url, self.location)
        try:
            self._conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(LOCK_TIMEOUT_S * 1000)}ms",))
            self._prepare(create=create)
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(f"cannot open the store {self.location}: {str(exc).strip()}") from None
        except BaseException:
            self._conn.close()
            raise

    def _prepare(self, *, create: bool) -> None:
        # Everything up to the migration only reads: a database that fails a check is left as it was.
        app_id, version, objects = read_header(self._conn, self.location)
        migrations.check_ours(self.location, app_id, version, objects, create=create)
        if version < migrations.SCHEMA_VERSION:
            self._migrate(create=create)

    def _migrate(self, *, create: bool) -> None:
        """Bring the database to SCHEMA_VERSION in one transaction (all scripts or none)."""
        version = migrations.SCHEMA_VERSION
        try:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", MIGRATION_LOCK)
                # Another process may have migrated while we waited for the lock: look again.
                app_id, version, objects = read_header(self._conn, self.location)
                migrations.check_ours(self.location, app_id, version, objects, create=create)
                if version == 0:
                    self._conn.execute(
                        f"CREATE TABLE {META_TABLE} (application_id integer NOT NULL, schema_version integer NOT NULL)"
                    )
                    self._conn.execute(
                        f"INSERT INTO {META_TABLE} VALUES (%s, 0)",  # noqa: S608 - the table is a constant
                        (migrations.APPLICATION_ID,),
                    )
                for script in migrations.POSTGRES_MIGRATIONS[version:]:
                    self._conn.execute(script)
                self._conn.execute(
                    f"UPDATE {META_TABLE} SET schema_version = %s",  # noqa: S608 - the table is a constant
                    (migrations.SCHEMA_VERSION,),
                )
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot migrate the store {self.location} from schema v{version} to v{migrations.SCHEMA_VERSION}"
                f" (nothing was changed): {str(exc).strip()}"
            ) from None

    def close(self) -> None:
        self._conn.close()

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def schema_version(self) -> int:
        return int(self._conn.execute(f"SELECT schema_version FROM {META_TABLE}").fetchone()[0])  # type: ignore[index]  # noqa: S608

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except errors.LockNotAvailable as exc:
            raise StoreError(
                f"the store {self.location} stayed locked by another process for over {LOCK_TIMEOUT_S:g} s: {exc}"
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot {doing} the store {self.location}: {str(exc).strip()}") from exc

    # -- transactions -----------------------------------------------------------------------------

    def begin_write(self) -> None:
        self._conn.execute("BEGIN")

    def begin_read(self) -> None:
        self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if not self._conn.closed:
            self._conn.execute("ROLLBACK")

    # -- statements -------------------------------------------------------------------------------

    def query(self, statement: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._conn.execute(spell(statement), tuple(params))
        records = cursor.fetchall()
        return [d.name for d in cursor.description or ()], records

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(spell(statement), tuple(params)).rowcount

    def executemany(self, statement: str, values: list[tuple[Any, ...]]) -> int:
        with self._conn.cursor() as cursor:
            cursor.executemany(spell(statement), values)
            return cursor.rowcount

    def insert_id(self, statement: str, params: Sequence[Any]) -> int:
        """Run an INSERT; the id of the row it made."""
        row = self._conn.execute(spell(statement) + " RETURNING id", tuple(params)).fetchone()
        return int(row[0]) if row else 0

    # -- the fetch lock ---------------------------------------------------------------------------

    @contextmanager
    def fetch_lock(self) -> Iterator[bool]:
        """Hold the store's fetch lock for the block; yields False (and holds nothing) if another session has it."""
        taken = bool(self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", FETCH_LOCK).fetchone()[0])  # type: ignore[index]
        try:
            yield taken
        finally:
            if taken and not self._conn.closed:
                self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", FETCH_LOCK)


# -- asking about a store without opening it (the dashboard, once per run) -------------------------

_probes: dict[str, psycopg.Connection[Any]] = {}
_probes_lock = threading.Lock()
#: What :func:`version_stamp` says of a reachable database that holds no store.
NO_STORE = ("no store",)


def version_stamp(url: str) -> tuple[Any, ...]:
    """A stamp that changes with every fetch stored (the newest log id and snapshot), :data:`NO_STORE` for an
    empty database, and ``("unreachable", reason)`` when the server cannot be asked.

    One connection per URL is kept for these questions, so a dashboard's reruns cost one query each.
    """
    with _probes_lock:
        for attempt in (1, 2):  # a kept connection the server has dropped is reopened once
            conn = _probes.get(url)
            try:
                if conn is None or conn.closed:
                    conn = _probes[url] = psycopg.connect(
                        url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="analyst-ratings"
                    )
                if not conn.execute(_HAS_META, (META_TABLE,)).fetchone()[0]:  # type: ignore[index]
                    # Empty: no store yet. Tables but not ours: opening it says so.
                    return NO_STORE if not conn.execute(_OBJECTS).fetchone()[0] else ("not a store",)  # type: ignore[index]
                return tuple(conn.execute(spell(sql.SELECT_VERSION)).fetchone() or ())
            except psycopg.Error as exc:
                _probes.pop(url, None)
                if attempt == 2 or conn is None:
                    return ("unreachable", type(exc).__name__)
    return ("unreachable", "")
