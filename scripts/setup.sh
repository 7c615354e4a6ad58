#!/usr/bin/env bash
# Idempotent developer / CI set-up for Ritrovo.
#
#   scripts/setup.sh          create .venv and `pip install -e .`
#   scripts/setup.sh --test   also `pip install -e '.[test]'` and make sure the
#                             redis-server and chromium binaries the test suite
#                             drives, and node/npm for the web type check, are
#                             installed (Debian/Ubuntu packages), then
#                             `npm ci` (TypeScript and axe-core, pinned by
#                             package-lock.json) when node_modules is stale.
#
# Safe to run repeatedly: the pip step is skipped while the stamp file
# .venv/.installed-<hash of pyproject.toml>[.test] is current, and apt is only
# touched when a binary is missing.  This script never starts, enables or talks
# to a system Redis service: the tests start their own redis-server processes
# on free loopback ports (tests/support/redis_server.py).
set -euo pipefail

usage() {
    echo "usage: $0 [--test]" >&2
    exit 2
}

WITH_TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) WITH_TEST=1 ;;
        -h|--help) usage ;;
        *) echo "setup: unknown argument: $arg" >&2; usage ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"
MIN_PIP_MAJOR=22 # PEP 660 editable installs of a pyproject-only project

export PIP_DISABLE_PIP_VERSION_CHECK=1
export DEBIAN_FRONTEND=noninteractive

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# --- root / apt helpers ----------------------------------------------------
as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo env DEBIAN_FRONTEND=noninteractive "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 \
        || die "apt-get not found; install these packages by hand: $*"
    if [[ "$APT_UPDATED" -eq 0 ]]; then
        log "apt-get update"
        as_root apt-get update
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    as_root apt-get install -y --no-install-recommends "$@"
}

# pip prints one line per package for this machine's unreachable extra index;
# drop that noise but keep pip's exit status (pipefail) and everything else.
quiet_pip() {
    "$VPY" -m pip "$@" 2>&1 \
        | { grep -v -e 'is ignored: it is neither a file nor a directory' || true; }
}

# --- python ------------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 \
    || die "$PYTHON not found; Ritrovo needs Python 3.11+ (apt-get install python3)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$("$PYTHON" -V 2>&1) is too old; Ritrovo needs Python 3.11+ (set PYTHON=/path/to/python3.11)"

venv_ok() {
    [[ -x "$VPY" ]] \
        && "$VPY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

if ! venv_ok; then
    if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        log "the venv module is missing for $PYTHON; installing python3-venv"
        apt_install python3-venv
        if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            pyver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            if apt-cache show "python${pyver}-venv" >/dev/null 2>&1; then
                apt_install "python${pyver}-venv"
            fi
        fi
        "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 \
            || die "$PYTHON still has no working venv module"
    fi
    if [[ -e "$VENV" ]]; then
        log "recreating broken virtualenv $VENV"
        "$PYTHON" -m venv --clear "$VENV"
    else
        log "creating virtualenv $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
fi

# --- pip install (skipped while the stamp is current) -----------------------
HASH="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
BASE_STAMP="$VENV/.installed-$HASH"
TEST_STAMP="$VENV/.installed-$HASH.test"
if [[ "$WITH_TEST" -eq 1 ]]; then
    STAMP="$TEST_STAMP"
    SPEC=".[test]"
else
    STAMP="$BASE_STAMP"
    SPEC="."
fi

# A test install is a superset of the base install.
if [[ -f "$STAMP" || ( "$WITH_TEST" -eq 0 && -f "$TEST_STAMP" ) ]]; then
    log "python packages up to date (pyproject.toml $HASH)"
else
    if ! "$VPY" -m pip --version >/dev/null 2>&1; then
        log "bootstrapping pip in the virtualenv"
        "$VPY" -m ensurepip --upgrade
    fi
    pip_major="$("$VPY" -m pip --version | awk '{split($2, v, "."); print v[1]}')"
    if [[ "$pip_major" =~ ^[0-9]+$ ]] && (( pip_major >= MIN_PIP_MAJOR )); then
        log "pip $pip_major.x is recent enough, not upgrading"
    else
        log "upgrading pip (found '${pip_major:-?}', need >= $MIN_PIP_MAJOR)"
        quiet_pip install --quiet --upgrade pip
    fi
    log "pip install -e '$SPEC'"
    quiet_pip install --quiet -e "$SPEC"
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
    log "python packages installed (stamp $(basename "$STAMP"))"
fi

# --- binaries for the test suite -------------------------------------------
if [[ "$WITH_TEST" -eq 1 ]]; then
    missing=()
    if ! command -v redis-server >/dev/null 2>&1 && [[ ! -x /usr/bin/redis-server ]]; then
        missing+=(redis-server)
    fi
    if [[ ! -x /usr/bin/chromium ]]; then
        # fonts-liberation is only a Recommends of chromium; without a font the
        # screenshots the browser tests save have no readable text.
        missing+=(chromium fonts-liberation)
    fi
    # The lint step (make lint, run first by make test) type-checks the web
    # client with TypeScript, installed by npm from package-lock.json.
    if ! command -v node >/dev/null 2>&1; then
        missing+=(nodejs)
    fi
    if ! command -v npm >/dev/null 2>&1; then
        missing+=(npm)
    fi
    if [[ "${#missing[@]}" -gt 0 ]]; then
        # Debian's redis-server package may start its own service on 6379.
        # We leave it alone: the tests only ever use redis-servers they start.
        apt_install "${missing[@]}"
    fi
    command -v redis-server >/dev/null 2>&1 || [[ -x /usr/bin/redis-server ]] \
        || die "redis-server is still missing after apt-get install"
    [[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is still missing after apt-get install"
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
        || die "node and npm are still missing after apt-get install"
    log "redis-server, chromium, node and npm present"

    # The npm devDependencies, pinned by package-lock.json: TypeScript for the
    # web type check, and axe-core, which the browser tests inject into every
    # page (tests/browser/test_browser_a11y.py).  The same stamp as
    # scripts/lint_web.sh: npm rewrites node_modules/.package-lock.json on
    # every install, so it is older than the lock file when an install is due.
    npm_stamp="$ROOT/node_modules/.package-lock.json"
    if [[ ! -f "$npm_stamp" || "$ROOT/package-lock.json" -nt "$npm_stamp" \
          || ! -f "$ROOT/node_modules/axe-core/axe.min.js" ]]; then
        log "npm ci (node_modules missing or older than package-lock.json)"
        npm ci --no-audit --no-fund
    else
        log "npm packages up to date (package-lock.json)"
    fi
fi

log "done"
