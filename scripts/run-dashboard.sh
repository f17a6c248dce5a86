#!/usr/bin/env bash
# Sets up .venv when it is missing or stale, then serves the dashboard on http://localhost:8501
# on the bundled data. Extra arguments go to `ratings dashboard`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/_setup.sh
source scripts/_setup.sh

ensure_venv
# The test extra is a superset of the runtime dependencies, so its stamp counts too.
if stamp_is_fresh "$VENV/.installed-test"; then
    say "Python dependencies are up to date ($VENV)"
else
    install_project "." "$VENV/.installed-runtime"
fi

say "Serving the dashboard on http://localhost:8501 (Ctrl+C stops it)"
exec "$VENV/bin/ratings" dashboard "$@"
