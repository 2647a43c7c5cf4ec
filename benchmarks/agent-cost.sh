#!/usr/bin/env bash
# What an agent costs per request beside a plain run of the same test (issue #20: <= 1.02x), counted by
# callgrind (user-space instructions, repeatable on a shared machine): `luaload -t 1 -u 1 -n N` against the
# built-in target, writing its --json (an agent always makes its JSON document: it is what it sends at the end),
# then the same test as the one agent of a controller (the controller itself not counted).
#   benchmarks/agent-cost.sh [N, default 30000]        Env: LUALOAD (default .build/release/luaload)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-30000}
out=$(mktemp -d)
# valgrind cannot read the debug info of Swift 6's release binaries: measure a stripped copy (as benchmarks/run).
strip -o "$out/luaload" "${LUALOAD:-$root/.build/release/luaload}"
luaload=$out/luaload
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] && echo "kept $out" || rm -rf "$out"; }
trap cleanup EXIT

"$luaload" serve --listen 127.0.0.1:0 > "$out/target.out" & pids+=($!)
for _ in $(seq 100); do [ -s "$out/target.out" ] && break; sleep 0.05; done
port=$(sed -n '1s/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/target.out")
script=$root/benchmarks/luaload_health.lua
args=(-t 1 -u 1 -n "$n" -H "http://127.0.0.1:$port")

instructions() { sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$1"; }

valgrind --tool=callgrind --callgrind-out-file="$out/plain.cg" "$luaload" -q "${args[@]}" --json "$out/plain.json" "$script" > /dev/null 2> "$out/plain.err"
link=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$luaload" --controller "127.0.0.1:$link" --agents 1 --token bench -q "${args[@]}" "$script" > "$out/controller.out" 2>&1 & pids+=($!)
valgrind --tool=callgrind --callgrind-out-file="$out/agent.cg" "$luaload" agent "127.0.0.1:$link" --token bench -t 1 -q > /dev/null 2> "$out/agent.err"
plain=$(instructions "$out/plain.err") agent=$(instructions "$out/agent.err")
python3 - "$n" "$plain" "$agent" <<'PY'
import sys
n, plain, agent = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"plain run: {plain / n:,.0f} instructions per request ({plain:,} for -n {n})")
print(f"agent:     {agent / n:,.0f} instructions per request ({agent:,} for -n {n})")
print(f"agent / plain: {agent / plain:.4f}x")
PY
