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
valgrind --tool=callgrind --callgrind-out-file="$out/agent.cg" "$luaload" agent "127.0.0.1:$link" --token bench -t 1 -q --json "$out/agent.json" > /dev/null 2> "$out/agent.err"
# The same test natively, for its request rate: the link's cost is per second, so what it adds per request
# depends on how many requests a second carries (under callgrind, ~15x fewer than natively).
"$luaload" -q "${args[@]}" --json "$out/native.json" "$script" > /dev/null
python3 - "$n" "$out" <<'PY'
import json, re, subprocess, sys
n, out = int(sys.argv[1]), sys.argv[2]
def split(name):
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", f"{out}/{name}.cg"], capture_output=True, text=True).stdout
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", text).group(1).replace(",", ""))
    workers = int(re.search(r"([\d,]+) \([\d.]+%\)\s+\S*pthread_create.c:start_thread", text).group(1).replace(",", ""))
    return total, workers, total - workers
def seconds(name):
    return json.load(open(f"{out}/{name}.json"))["duration_s"]
(pt, pw, pm), (at, aw, am) = split("plain"), split("agent")
ps, as_ = seconds("plain"), seconds("agent")
rate = n / seconds("native")
print(f"plain run: {pt / n:,.0f} instructions per request ({pt:,} for -n {n}): workers {pw / n:,.0f}/request, main thread {pm / ps:,.0f}/s over {ps:.1f} s")
print(f"agent:     {at / n:,.0f} instructions per request ({at:,} for -n {n}): workers {aw / n:,.0f}/request, main thread {am / as_:,.0f}/s over {as_:.1f} s")
print(f"under callgrind: agent / plain {at / pt:.4f}x (workers {aw / pw:.4f}x); the runs' lengths differ with the machine's load")
extra = am / as_ - pm / ps
print(f"the link's main-thread cost: {extra:,.0f} instructions a second (upper bound: its connect and run set-up counted in)")
print(f"natively {rate:,.0f} requests/s: agent / plain = {(aw / n + (pm / ps + extra) / rate) / (pw / n + (pm / ps) / rate):.4f}x per request")
PY
