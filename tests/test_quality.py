"""Quality gates as tests: ruff (lint and format) and mypy (types), all configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The tools installed next to the interpreter running the tests, i.e. the project's venv.
VENV_BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("ruff", ["check", "--no-cache", "."]),
        ("ruff", ["format", "--check", "--no-cache", "."]),
        # Files and options come from [tool.mypy]; the cache keeps reruns quick.
        ("mypy", []),
    ],
)
def test_tool_passes(tool: str, args: list[str]) -> None:
    executable = VENV_BIN / tool
    assert executable.exists(), f"{executable} is missing: install the test extra (pip install -e '.[test]')"
    result = subprocess.run(
        [str(executable), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        f"`{' '.join([tool, *args])}` exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
