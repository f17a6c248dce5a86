"""A real PostgreSQL server for the tests: Debian's binaries, a temporary folder, 127.0.0.1, a free port.

:class:`PostgresServer` runs ``initdb`` into a fresh folder and ``pg_ctl start -w`` (pg_ctl polls the
server until it accepts connections: no sleep here), listening on 127.0.0.1 at a free port with its
Unix socket in that folder, so it never meets the system's cluster or another test module's server.
``fsync`` is off: a test server holds nothing worth a crash-safe disk. :meth:`PostgresServer.database`
makes an empty database per test, so the store's checks on an empty, foreign or newer database are
tested for real.

PostgreSQL refuses to run as root. When the tests run as root (CI does, in a container) the server's
commands run as the ``postgres`` OS user that Debian's package creates (``subprocess`` switches user
itself: no ``su``, no password), and the folder is handed to that user. Anyone else runs it as themselves.

The binaries are found under ``/usr/lib/postgresql/*/bin`` (Debian does not put ``initdb`` on PATH), the
newest version first, else on PATH. Without them :func:`find_binaries` says why, and the fixtures skip
outside CI; with ``CI`` set a missing server is a failure, never a silent skip (``.ci/run`` installs it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: The superuser initdb creates; every test connects as it (trust authentication, 127.0.0.1 only).
SUPERUSER = "ratings"
#: The OS user that runs the server when the tests run as root.
SERVER_OS_USER = "postgres"


def find_binaries() -> tuple[Path | None, str]:
    """The folder holding initdb and pg_ctl, and why not when there is none."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for folder in candidates:
        if all(os.access(Path(folder) / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder), ""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent, ""
    return None, "PostgreSQL's initdb/pg_ctl are not installed (Debian: apt-get install postgresql)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One throw-away PostgreSQL server; use as a context manager (it stops and deletes itself)."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.port = _free_port()
        self.host = "127.0.0.1"
        self._folder = Path(tempfile.mkdtemp(prefix="ratings-pg-"))
        self.data = self._folder / "data"
        self.socket_dir = self._folder / "socket"
        self._switch: dict[str, Any] = {}
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVER_OS_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root, and there is no {SERVER_OS_USER!r} OS user to run PostgreSQL as "
                    "(Debian's postgresql package creates it)"
                ) from None
            os.chown(self._folder, user.pw_uid, user.pw_gid)
            self._switch = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [str(self.binaries / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            cwd=self._folder,
            check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"},
            timeout=120,
            **self._switch,
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync")
        self._make_socket_dir()
        options = (
            f"-h {self.host} -p {self.port} -k {self.socket_dir} -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=60"
        )
        # -w: pg_ctl itself polls until the server accepts connections, then returns.
        self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self._folder / "log"), "-o", options
        )
        return self

    def _make_socket_dir(self) -> None:
        self.socket_dir.mkdir()
        if self._switch:
            os.chown(self.socket_dir, self._switch["user"], self._switch["group"])

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def admin(self, database: str = "postgres") -> Any:
        """A psycopg connection (autocommit) as the superuser, for looking behind the store."""
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True)

    def database(self) -> str:
        """A new, empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with self.admin() as conn:
            # The name is made here, never from input. FILE_COPY: twice as fast as WAL_LOG for a small template.
            conn.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started server, or a skip (outside CI) when PostgreSQL is not installed."""
    binaries, why = find_binaries()
    if binaries is None:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI must have it (.ci/run installs it)")
        pytest.skip(why)
    with PostgresServer(binaries) as server:
        yield server


# ---------------------------------------------------------------------------------------------
# Fixtures: import them into a test module (``from postgres import pg_server, target``) to use them there.

#: The store's backends, as the ``target`` fixture is parametrized.
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test module (started only when a test of the module asks for it)."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a new store goes, once per backend: a file in tmp_path, or a new empty database's URL."""
    if request.param == "sqlite":
        return tmp_path / "ratings.sqlite"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.database()


def look(where: str | Path, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of `statement` (``?`` placeholders) run behind the Store's back: sqlite3, or psycopg for a URL."""
    if isinstance(where, str):
        import psycopg

        with psycopg.connect(where, autocommit=True) as conn:
            return conn.execute(statement.replace("?", "%s"), params).fetchall()
    import sqlite3

    file = sqlite3.connect(f"{Path(where).absolute().as_uri()}?mode=rw", uri=True)
    try:
        return file.execute(statement, params).fetchall()
    finally:
        file.close()


def tables(where: str | Path) -> set[str]:
    """The tables of a store, behind its back."""
    if isinstance(where, str):
        found = look(where, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    else:
        found = look(where, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(row[0]) for row in found}
