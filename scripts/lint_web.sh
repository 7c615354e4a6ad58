#!/usr/bin/env bash
# Type-check the web client: TypeScript reads the JSDoc of web/js/*.js
# (tsconfig.json: checkJs, strict, noEmit). The client itself has no build step.
#
#   scripts/lint_web.sh
#
# Installs the pinned TypeScript (package-lock.json) with `npm ci` when
# node_modules is missing or older than the lock file, then runs tsc.
# Exits non-zero on any type error, or when node/npm are not installed.
set -euo pipefail

cd "$(dirname "$0")/.."

for tool in node npm npx; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "lint_web: '$tool' is not installed; the web type check needs Node.js and npm" >&2
        echo "          (Debian/Ubuntu: apt-get install nodejs npm)" >&2
        exit 1
    fi
done

# npm writes node_modules/.package-lock.json on every install: it is the stamp
# of what node_modules holds.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    echo "lint_web: npm ci (node_modules missing or older than package-lock.json)"
    npm ci --no-audit --no-fund
fi

npx --no-install tsc -p tsconfig.json
echo "lint_web: tsc found no type errors in web/js"
