#!/usr/bin/env bash
# Two regions simulated on one machine: two built-in targets stand in for a far region (80 ms added to every
# response) and a near one (10 ms); each region's load runs as N segments (local processes, each its share
# of -n, tagged region=far / region=near) started together with --start-at; `luaload merge --by region` then
# prints the per-region table beside the total, and the targets' own counts are checked against it.
#
# Usage: benchmarks/regions.sh [segments per region (default 2)] [task runs per region (default 400)]
# Env:   LUALOAD (default .build/release/luaload), OUT (a folder for the JSON files; default a temporary one)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
luaload=${LUALOAD:-$root/.build/release/luaload}
per=${1:-2}
n=${2:-400}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
rm -f "$out"/seg-*.json

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# One target per region on a free port; `luaload serve` prints the port it bound on its first line.
start_target() {  # $1 region, $2 latency → sets port
  "$luaload" serve --listen 127.0.0.1:0 --latency "$2" > "$out/target-$1.out" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$out/target-$1.out" ] && break; sleep 0.05; done
  port=$(sed -n '1s/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/target-$1.out")
}
start_target far 80ms; far=$port
start_target near 10ms; near=$port

cat > "$out/region.lua" <<'LUA'
wait = constant(0)
task(function() http.get("/health", { name = "GET /health" }) end)
LUA

start=$(( $(date +%s) + 2 ))     # every segment starts at the same second
runs=()
for region in far near; do
  [ "$region" = far ] && port=$far || port=$near
  for ((i = 0; i < per; i++)); do
    "$luaload" -q -t 1 -u 4 -n "$n" --segment "$i/$per" --start-at "$start" --tag "region=$region" \
      -H "http://127.0.0.1:$port" --json "$out/seg-$region-$i.json" "$out/region.lua" >/dev/null &
    runs+=($!)
  done
done
for p in "${runs[@]}"; do wait "$p"; done

"$luaload" merge "$out"/seg-*.json --by region --json "$out/merged.json" --html "$out/merged.html" | sed -n '/^By region/,$p'
seen=0
for port in $far $near; do
  t=$(curl -s "http://127.0.0.1:$port/__stats" | sed -n 's/^{"total":\([0-9]*\).*/\1/p')
  seen=$((seen + t))
done
python3 - "$out/merged.json" "$seen" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
counted = m["total"]["requests"] + m["abandoned"] + m["redirects"]
print(f"the targets saw {sys.argv[2]} requests; merged recorded {m['total']['requests']} + abandoned {m['abandoned']}"
      f" + redirects {m['redirects']} = {counted}")
PY
echo "JSON and HTML: $out/merged.json, $out/merged.html"
