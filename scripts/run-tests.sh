#!/usr/bin/env bash
# Sets up .venv with the test extra, installs Debian's chromium when it is missing (the browser and
# PNG/SVG export tests need it), then runs the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/_setup.sh
source scripts/_setup.sh

ensure_venv
install_project ".[test]" "$VENV/.installed-test"

if [ -x /usr/bin/chromium ]; then
    say "Chromium: /usr/bin/chromium"
elif can_be_root && apt_install chromium fonts-liberation && [ -x /usr/bin/chromium ]; then
    say "Chromium installed: /usr/bin/chromium"
else
    warn "/usr/bin/chromium is missing and could not be installed (needs root or passwordless sudo:"
    warn "  sudo apt-get install chromium). The browser and PNG/SVG export tests will be SKIPPED."
fi

say "Running the test suite"
# Two workers (pytest-xdist): the tests are independent (each server takes its own free port). A later
# `-n 0` in the arguments runs them in one process.
exec "$VENV/bin/python" -m pytest -n 2 "$@"
