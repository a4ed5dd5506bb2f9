#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only those missing, quietly.
set -euo pipefail
pkgs=(clang clang-16 llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config iproute2
      protobuf-compiler libprotobuf-dev make g++ python3 iputils-ping tcpdump ethtool netcat-openbsd
      chromium fonts-dejavu-core openssl tshark)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
