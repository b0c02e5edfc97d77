#!/usr/bin/env bash
# Runs a command with Node.js 24 first on PATH and the workspace's
# dependencies installed, so `npm start` and `npm test` work on a machine
# whose own node is older or where nothing was installed yet.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_bin="$("$root/scripts/node24.sh")"
export PATH="$node_bin:$root/node_modules/.bin:$PATH"

stamp="$root/node_modules/.installed-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$root/package-lock.json" "$stamp"; then
  echo "installing dependencies (npm ci)" >&2
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$root/package-lock.json" "$stamp"
fi

cd "$root"
exec "$@"
