#!/usr/bin/env bash
# What an agent costs per request beside a plain run of the same test (issue #20: <= 1.02x), counted by
# callgrind (user-space instructions, repeatable on a shared machine): `luaload -t 1 -u 1 -n N` against the
# built-in target, writing its --json (an agent always makes its JSON document: it is what it sends at the end),
# then the same test as the one agent of a controller (the controller itself not counted). Each is run REPS times,
# interleaved, pinned to core 0 (taskset), and the run with the fewest instructions kept: counts grow with a
# run's wall time (once-a-second work), never shrink, so the fewest is the least disturbed.
# Threads are counted apart (--separate-threads): the worker thread per request; the main thread and the agent's
# link thread per second (their work is once a second plus start-up), which under callgrind (~15x slower) would
# otherwise weigh 15x too much per request.
#   benchmarks/agent-cost.sh [N, default 30000] [REPS, default 3]     Env: LUALOAD (default .build/release/luaload)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-30000}
reps=${2:-3}
out=$(mktemp -d)
# valgrind cannot read the debug info of Swift 6's release binaries: measure a stripped copy (as benchmarks/run).
strip -o "$out/luaload" "${LUALOAD:-$root/.build/release/luaload}"
luaload=$out/luaload
pin=()
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && pin=(taskset -c 0)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] && echo "kept $out" || rm -rf "$out"; }
trap cleanup EXIT

"$luaload" serve --listen 127.0.0.1:0 > "$out/target.out" & pids+=($!)
for _ in $(seq 100); do [ -s "$out/target.out" ] && break; sleep 0.05; done
port=$(sed -n '1s/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/target.out")
script=$root/benchmarks/luaload_health.lua
args=(-t 1 -u 1 -n "$n" -H "http://127.0.0.1:$port")
cg=(valgrind --tool=callgrind --separate-threads=yes)

for r in $(seq "$reps"); do
  "${pin[@]}" "${cg[@]}" --callgrind-out-file="$out/plain-$r.cg" "$luaload" -q "${args[@]}" --json "$out/plain-$r.json" "$script" > /dev/null 2> "$out/plain-$r.err"
  link=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$luaload" --controller "127.0.0.1:$link" --agents 1 --token bench -q "${args[@]}" "$script" > "$out/controller-$r.out" 2>&1 & pids+=($!)
  "${pin[@]}" "${cg[@]}" --callgrind-out-file="$out/agent-$r.cg" "$luaload" agent "127.0.0.1:$link" --token bench -t 1 -q --json "$out/agent-$r.json" > /dev/null 2> "$out/agent-$r.err"
  wait "${pids[-1]}" || true
done
# The same test natively, for its request rate: the per-second costs add per request what a second carries.
"${pin[@]}" "$luaload" -q "${args[@]}" --json "$out/native.json" "$script" > /dev/null
python3 "$root/benchmarks/harness/agent_cost.py" "$n" "$reps" "$out"
