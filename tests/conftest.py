"""Fixtures shared by the whole suite.

Two hold for every test (autouse): no connection leaves this machine, and the cache folder and the
default store are the test's own, in ``tmp_path``, never the user's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fake_yahoo import FakeYahoo
from helpers import Run, VirtualClock

from ratings import cli, paths, yahoo
from ratings.bundle import load_bundle
from ratings.dataset import Dataset
from ratings.tickers import WATCHLIST

# A real PostgreSQL server per test module that asks for one (``pg_server``), and ``target``: a new store on
# each backend (tests/postgres.py); Chromium and the served dashboard for browser tests (tests/chromium.py).
pytest_plugins = ["postgres", "chromium"]

# ---------------------------------------------------------------------------------------------
# Suite-wide guards

_IP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def _is_local(family: int, address: Any) -> bool:
    """Whether a connection to `address` stays on this machine: a Unix socket or a loopback address."""
    if family == getattr(socket, "AF_UNIX", None):
        return True
    if family not in _IP_FAMILIES or not isinstance(address, tuple) or not address:
        return False
    host = address[0].decode() if isinstance(address[0], bytes) else address[0]
    if not isinstance(host, str):
        return False
    if host.lower() == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 scope ("%eth0") is not part of the address
    except ValueError:
        return False  # any other host name: resolving it is already a request to the world
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@pytest.fixture(autouse=True, scope="session")
def no_remote_connections() -> Iterator[None]:
    """Any socket connection off this machine fails the test. The fake Yahoo blocks curl itself; this
    catches the rest. Loopback and Unix sockets stay open: the browser tests drive a local Streamlit
    server, and Chromium's driver talks to it locally."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def refuse_remote(sock: socket.socket, address: Any) -> None:
        if not _is_local(sock.family, address):
            raise AssertionError(f"network access attempted: {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        refuse_remote(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refuse_remote(self, address)
        return real_connect_ex(self, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        yield


@pytest.fixture(autouse=True)
def private_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache and the default store in tmp_path: no test touches the user's files."""
    monkeypatch.setenv(paths.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(paths.STORE_ENV, str(tmp_path / "default-store.sqlite"))


@pytest.fixture
def cache_dir(tmp_path: Path, private_folders: None) -> Path:
    """The test's cache folder (not created)."""
    return tmp_path / "cache"


# ---------------------------------------------------------------------------------------------
# The bundled snapshot (read-only: shared by every test of the session)


@pytest.fixture(scope="session")
def bundle() -> Dataset:
    return load_bundle()


@pytest.fixture(scope="session")
def watchlist_table(bundle: Dataset) -> pd.DataFrame:
    return bundle.table(list(WATCHLIST))


# ---------------------------------------------------------------------------------------------
# Live data, offline


@pytest.fixture
def fake() -> Iterator[FakeYahoo]:
    """The fake Yahoo (``fake_yahoo.py``), installed for one test."""
    with FakeYahoo() as installed:
        yield installed


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def wall(clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """Every ``yahoo.fetch`` (as refresh and the command line call it) runs on `clock`: its wall clock is
    ``clock.now`` and its backoff never really waits. Records the config of each call."""
    real_fetch = yahoo.fetch

    def fetch(tickers: Any, **kwargs: Any) -> yahoo.LiveBatch:
        clock.configs.append(kwargs.get("config"))
        # The backoff, rate limiter and budget run on a virtual clock that only sleeping moves.
        kwargs.setdefault("sleep", clock.sleep)
        kwargs.setdefault("clock", clock.monotonic)
        kwargs.setdefault("now", clock.wall_clock)
        return real_fetch(tickers, **kwargs)

    monkeypatch.setattr(yahoo, "fetch", fetch)
    return clock


# ---------------------------------------------------------------------------------------------
# The command line, in-process


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``run(*argv)``: ``ratings.cli.main`` on `argv` (each item as a string), and what it printed."""

    def invoke(*argv: Any) -> Run:
        code = cli.main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return invoke
