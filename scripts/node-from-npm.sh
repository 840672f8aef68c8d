#!/usr/bin/env bash
# Prints the folder of a Node.js release taken from the npm registry (the `node-linux-<arch>`
# package holds bin/node and the headers in include/node that native modules build against), for
# machines that reach the npm registry and nothing else. Usage: scripts/node-from-npm.sh 24
# Cached in .cache/node-<major>/ so a second call costs nothing. Use it as
#   dir=$(bash scripts/node-from-npm.sh 24)
#   PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" npm ci   # better-sqlite3 builds for that Node
set -euo pipefail
major=${1:?usage: node-from-npm.sh MAJOR}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
cd "$(dirname "$0")/.."
dir="$PWD/.cache/node-$major"
if [ ! -x "$dir/bin/node" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # npm checks the tarball against the registry's integrity hash.
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$major" >/dev/null && tar xzf node-linux-*.tgz)
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/package" "$dir"
fi
"$dir/bin/node" --version >&2
echo "$dir"
