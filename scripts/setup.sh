#!/usr/bin/env bash
# Installs what luaload needs on a fresh Debian machine (as root), then builds it.
# Usage: scripts/setup.sh [release|debug]   (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in liblua5.4-dev lua-cjson-dev libhttp-parser-dev libssl-dev zlib1g-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
config="${1:-release}"
swift build -c "$config"
