#!/usr/bin/env bash
# The npm package's install step: the datapath objects and the native addon for this machine.
# The package ships both built for one architecture (bpf/build/arch); on another one, or when
# they are missing, they are built here from the shipped sources with clang, bpftool and
# node-gyp, and a missing tool is named with the Debian package that provides it.
set -euo pipefail
cd "$(dirname "$0")/.."
# In a checkout `make` builds them; npm ci there must not.
[ -f Makefile ] && exit 0

addon=bpf/addon/build/Release/cillion_bpf.node
arch=$(uname -m)
fail() {
  echo "cillion install: $*" >&2
  exit 1
}
case "$arch" in
  x86_64 | aarch64) ;;
  *) fail "unsupported architecture $arch: the datapath builds on x86_64 and aarch64" ;;
esac

if [ "$(cat bpf/build/arch 2>/dev/null)" != "$arch" ] || [ ! -f "$addon" ]; then
  echo "cillion install: building the datapath and the addon for $arch (shipped: $(cat bpf/build/arch 2>/dev/null || echo none))" >&2
  missing=()
  need() { command -v "$1" >/dev/null || missing+=("$1 (Debian: $2)"); }
  need clang clang
  command -v clang-16 >/dev/null || command -v clang-15 >/dev/null || missing+=("clang-16 or clang-15 (Debian: clang-16)")
  need bpftool bpftool
  need make make
  need g++ g++
  need python3 python3
  need pkg-config pkg-config
  pkg-config --exists libbpf 2>/dev/null || missing+=("libbpf headers (Debian: libbpf-dev)")
  pkg-config --exists libelf 2>/dev/null || missing+=("libelf headers (Debian: libelf-dev)")
  pkg-config --exists zlib 2>/dev/null || missing+=("zlib headers (Debian: zlib1g-dev)")
  node_dir=$(node -p "require('path').resolve(process.execPath, '..', '..')")
  [ -f "$node_dir/include/node/node_api.h" ] || missing+=("node's headers in $node_dir/include/node (they come with node's release tarball)")
  [ -r /sys/kernel/btf/vmlinux ] || missing+=("the kernel's BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y)")
  gyp=${npm_config_node_gyp:-$(command -v node-gyp || true)}
  [ -n "$gyp" ] || missing+=("node-gyp (npm ships one; or: npm install -g node-gyp)")
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'cillion install: cannot build the datapath for %s; missing:\n' "$arch" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
  fi
  stamps=$(mktemp -d)
  trap 'rm -rf "$stamps"' EXIT
  touch "$stamps/apt" "$stamps/npm"
  case "$gyp" in *.js) gyp="node $gyp" ;; esac
  make --no-print-directory -f bpf/build.mk STAMPS="$stamps" NODE_DIR="$node_dir" NODE_GYP="$gyp" bpf-runtime >&2 ||
    fail "building the datapath failed (output above)"
fi

# The addon links the system's libbpf and libelf: say so now rather than at the first command.
err=$(node -e "require('./$addon')" 2>&1) ||
  fail "the native addon does not load: $(grep -m1 Error <<<"$err")
  it needs libbpf.so.1, libelf.so.1 and libz.so.1 (Debian: libbpf1 libelf1 zlib1g)"
