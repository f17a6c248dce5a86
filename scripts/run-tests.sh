#!/usr/bin/env bash
# Sets up .venv with the test extra, installs Debian's chromium and postgresql when they are missing (the
# browser and PNG/SVG export tests need the one, the PostgreSQL store's tests the other), then runs the
# whole suite. Extra arguments go to pytest.
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

# PostgreSQL's server binaries (initdb, pg_ctl): the PostgreSQL store's tests start a server of their own
# on 127.0.0.1 in a temporary folder; nothing is started here, and the system's own cluster is not used.
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    say "PostgreSQL: $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)"
elif can_be_root && apt_install postgresql && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    say "PostgreSQL installed: $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)"
else
    warn "PostgreSQL's initdb is missing and could not be installed (needs root or passwordless sudo:"
    warn "  sudo apt-get install postgresql). The PostgreSQL store's tests will be SKIPPED (they fail under CI=true)."
fi

say "Running the test suite"
# Two workers (pytest-xdist): the tests are independent (each server takes its own free port). A later
# `-n 0` in the arguments runs them in one process.
exec "$VENV/bin/python" -m pytest -n 2 "$@"
