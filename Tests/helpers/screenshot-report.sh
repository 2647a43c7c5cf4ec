#!/usr/bin/env bash
# Screenshot an HTML report with headless Chromium: Tests/helpers/screenshot-report.sh HTMLFILE PNGFILE [WIDTH,HEIGHT]
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 HTMLFILE PNGFILE [WIDTH,HEIGHT]" >&2; exit 2; fi
html=$(realpath "$1")
png=$(realpath -m "$2")
size=${3:-1400,2400}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then echo "chromium not found (apt-get install -y chromium)" >&2; exit 3; fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$png"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
    --no-first-run --disable-extensions --disable-background-networking \
    --screenshot="$png" --window-size="$size" "file://$html" >/dev/null 2>&1 || true
[ -s "$png" ] || { echo "no screenshot written to $png" >&2; exit 1; }
