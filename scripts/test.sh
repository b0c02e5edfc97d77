#!/usr/bin/env bash
# The whole suite, as CI runs it: type check, lint and format, then every jest
# project. The integration project needs the real servers; this installs and
# starts them first and stops them afterwards unless they were already running.
# Extra arguments go to jest (for example a path filter); without them the observability
# tests run last, alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n== %s\n' "$*" >&2; }

step "type check"
tsc -p tsconfig.json

step "lint and format"
eslint .
prettier --check . >/dev/null || { prettier --check .; exit 1; }

step "servers"
scripts/infra.sh install
# Stop afterwards only what this run starts: servers someone else runs stay up.
status="$(scripts/infra.sh status)"
mapfile -t started < <(awk 'NR > 1 && $2 == "down" { print $1 }' <<<"$status" | sort -u)
if ((${#started[@]})); then
  trap 'step "stopping servers"; scripts/infra.sh down "${started[@]}"' EXIT
fi
scripts/infra.sh up
eval "$(scripts/infra.sh env)"

step "tools (kubernetes, GraphHopper peer router)"
scripts/tools.sh install
eval "$(scripts/tools.sh env)"

jest=(node --experimental-vm-modules --no-warnings=ExperimentalWarning
  node_modules/jest/bin/jest.js)
if (($# > 0)); then
  step "jest $*"
  "${jest[@]}" "$@"
  exit
fi
step "jest"
"${jest[@]}" --testPathIgnorePatterns /node_modules/ /test/observability/
# The observability tests hold k6 runs to the SLOs' latency thresholds: they run after the
# rest, one at a time, so other suites do not share the two cores with them.
step "jest: observability, alone"
"${jest[@]}" --runInBand test/observability
