#!/usr/bin/env bash
# Runs the test suite, installing first what it needs (as root). Usage: scripts/test.sh [swift test args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
swift test --disable-swift-testing "$@"   # XCTest only: no closing "0 tests" line from the empty Swift Testing run
