#!/usr/bin/env bash
# Runs the test suite (installs missing Debian packages first). Usage: scripts/test.sh [swift test args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh debug >/dev/null
# nginx serves the TLS tests; install it when missing.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light openssl
fi
swift test "$@"
