# Shared setup for run-dashboard.sh and run-tests.sh; source it, do not run it.
# Expects the caller to have `set -euo pipefail` and to be in the repository root.

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1

VENV=.venv

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly, or through passwordless sudo. Fails when neither is possible.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

can_be_root() { [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; }

# apt-get install, refreshing the package lists only when there are none or the install fails on stale ones.
apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        say "apt-get update"
        as_root apt-get update -qq || return 1
    fi
    say "apt-get install $*"
    if ! as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
        say "apt-get update (package lists look stale), then retry"
        as_root apt-get update -qq || return 1
        as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null || return 1
    fi
}

# The interpreter to build .venv with: $PYTHON, else python3; it must be 3.11 or newer.
base_python() {
    local python="${PYTHON:-python3}"
    command -v "$python" >/dev/null 2>&1 || die "$python not found; install Python >= 3.11 (Debian: apt-get install python3)"
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$python is $("$python" -c 'import platform; print(platform.python_version())'); Python >= 3.11 is needed (set PYTHON=...)"
    printf '%s' "$python"
}

# A usable venv runs, is Python >= 3.11 and has pip; anything else (missing, moved, half-built) is rebuilt.
venv_is_usable() {
    [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c 'import sys, pip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

ensure_venv() {
    venv_is_usable && return 0
    local python
    python="$(base_python)"
    [ -e "$VENV" ] && say "Removing the unusable $VENV"
    rm -rf "$VENV"
    say "Creating $VENV with $python ($("$python" -c 'import platform; print(platform.python_version())'))"
    if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        # Debian ships venv/ensurepip separately.
        local pkg
        pkg="python$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
        apt_install "$pkg" ||
            die "$python cannot create a virtualenv; install $pkg (e.g. sudo apt-get install $pkg) and rerun"
        "$python" -m venv "$VENV" || die "$python -m venv $VENV failed"
    fi
}

# True when the stamp exists and is newer than everything that decides what gets installed.
stamp_is_fresh() {
    [ -f "$1" ] && [ "$1" -nt pyproject.toml ] && [ "$1" -nt constraints.txt ]
}

# pip install -e "$1" pinned by constraints.txt, skipped while the stamp $2 is fresh.
install_project() {
    local spec="$1" stamp="$2"
    if stamp_is_fresh "$stamp"; then
        say "Python dependencies are up to date ($VENV)"
        return 0
    fi
    say "Installing $spec into $VENV, pinned by constraints.txt (the first run takes a few minutes)"
    # This machine's pip config names an index folder that may not exist; pip warns about it harmlessly.
    "$VENV/bin/python" -m pip install -q -e "$spec" -c constraints.txt 2>&1 |
        { grep -v "^WARNING: Location '.*' is ignored" || true; }
    touch "$stamp"
}
