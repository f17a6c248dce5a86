"""Serve the app with `streamlit run` on a free localhost port and open it in Debian's Chromium.

Shared by scripts/screenshot.py and tests/test_browser.py (which puts scripts/ on sys.path).
Chromium is always Debian's /usr/bin/chromium driven by Playwright for Python; never `playwright install`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI runs as root in a container; the rest keeps Chromium quiet and off the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Plotly's figure root, inside Streamlit's chart element.
CHART_SELECTOR = '[data-testid="stPlotlyChart"] .js-plotly-plot'
EXCEPTION_SELECTOR = '[data-testid="stException"]'


class ServerError(RuntimeError):
    """The Streamlit server died or did not become healthy in time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("localhost", 0))
        port: int = sock.getsockname()[1]
        return port


def _is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 (localhost)
            body: bytes = response.read()
            return body.strip() == b"ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def streamlit_server(app: str = "app.py", timeout: float = 60.0, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run `streamlit run <app>` from the repository root; yield its base URL; always stop it.

    `env` is added to this process's environment for the server (a store path, a proxy, ...).
    """
    with streamlit_process(app, timeout, env) as (url, _):
        yield url


@contextmanager
def streamlit_process(
    app: str = "app.py", timeout: float = 60.0, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`streamlit_server`, yielding the server's process too (a benchmark reads its memory)."""
    port = free_port()
    url = f"http://localhost:{port}"
    command = [sys.executable, "-m", "streamlit", "run", app, "--server.port", str(port)]
    command += ["--server.address", "localhost", "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false"]
    # A file rather than a pipe: a pipe nobody reads could fill up and stall the server.
    with tempfile.TemporaryFile() as log:
        environment = {**os.environ, **(env or {})}
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment)
        try:
            deadline = time.monotonic() + timeout
            while not _is_healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    state = f"exited with {process.returncode}" if process.poll() is not None else "timed out"
                    raise ServerError(f"`{' '.join(command)}` {state}:\n{output}")
                time.sleep(0.25)
            yield url, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
