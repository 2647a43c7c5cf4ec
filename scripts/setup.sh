#!/usr/bin/env bash
# Installs what luaload needs on a fresh Debian machine (as root), then builds it.
# Usage: scripts/setup.sh [release|debug]   (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c "${1:-release}"
