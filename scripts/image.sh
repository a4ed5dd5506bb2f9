#!/usr/bin/env bash
# The container image, with podman (or docker where its engine runs).
#   scripts/image.sh deps         podman, runc, debootstrap from Debian (root), if missing
#   scripts/image.sh build TAG    the base if missing, node and npm into build/image/, the image
#   scripts/image.sh run TAG ARGS `cillion ARGS` in the image
#   scripts/image.sh engine       prints the engine in use, or fails saying why there is none
# No registry but npm's and Debian's is needed: the base is debootstrapped and imported, node
# and npm come from the npm registry (node-linux-<arch> ships the binary and its headers).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=localhost/cillion-base:bookworm
NODE_VERSION=${NODE_VERSION:-20.20.2}
NPM_VERSION=${NPM_VERSION:-$(npm --version 2>/dev/null || echo 10)}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { echo "image: $*" >&2; }

engine() {
  if command -v podman >/dev/null; then echo podman; return; fi
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then echo docker; return; fi
  say "no container engine: podman is not installed and no Docker engine answers (scripts/image.sh deps installs podman)"
  return 1
}

# Rootful podman on a host without CAP_SYS_RESOURCE cannot raise limits to podman's defaults,
# and crun 1.8 refuses hybrid cgroups (v1 with a v2 mount): runc and the limits we have do.
engine_flags() {
  [ "$1" = podman ] || return 0
  local n
  n=$(ulimit -Hn)
  echo "--ulimit nofile=$n:$n --ulimit nproc=32768:32768"
  if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && command -v runc >/dev/null; then echo --runtime runc; fi
}

deps() {
  local missing=()
  for p in podman runc debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || { say "missing Debian packages: ${missing[*]} (run as root to install them)"; return 1; }
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

base() {
  local e=$1
  $e image exists "$BASE" 2>/dev/null && return 0
  [ "$e" = docker ] && docker image inspect "$BASE" >/dev/null 2>&1 && return 0
  local root
  root=$(mktemp -d /var/tmp/cillion-base.XXXXXX)
  say "debootstrap bookworm ($MIRROR) for $BASE"
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >/dev/null
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | $e import - "$BASE" >/dev/null
  rm -rf "$root"
}

node_tarballs() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) say "unsupported architecture $(uname -m): the image builds on x86_64 and aarch64"; return 1 ;;
  esac
  mkdir -p build/image
  if [ ! -f "build/image/node-$arch-$NODE_VERSION.tgz" ]; then
    (cd build/image && npm pack "node-linux-$arch@$NODE_VERSION" --prefer-offline --loglevel=error >/dev/null && mv "node-linux-$arch-$NODE_VERSION.tgz" "node-$arch-$NODE_VERSION.tgz")
  fi
  if [ ! -f "build/image/npm-$NPM_VERSION.tgz" ]; then
    (cd build/image && npm pack "npm@$NPM_VERSION" --prefer-offline --loglevel=error >/dev/null)
  fi
  cp "build/image/node-$arch-$NODE_VERSION.tgz" build/image/node.tgz
  cp "build/image/npm-$NPM_VERSION.tgz" build/image/npm.tgz
}

build() {
  local tag=$1 e
  e=$(engine)
  base "$e"
  node_tarballs
  # RUN steps use the host's network (apt, npm) and, with podman, its npm cache, so that npm ci
  # is mostly offline.
  local cache=()
  [ "$e" = podman ] && cache=(-v "$(npm config get cache):/root/.npm")
  # shellcheck disable=SC2046
  $e build $(engine_flags "$e") --network host "${cache[@]}" --build-arg BASE="$BASE" -t "$tag" .
}

run() {
  local tag=$1 e
  shift
  e=$(engine)
  # shellcheck disable=SC2046
  $e run --rm -i $(engine_flags "$e") "$tag" "$@"
}

case "${1:-}" in
  deps) deps ;;
  engine) engine ;;
  build) build "${2:?tag}" ;;
  run) run "${@:2}" ;;
  *) echo "usage: scripts/image.sh deps | engine | build TAG | run TAG ARGS..." >&2; exit 2 ;;
esac
