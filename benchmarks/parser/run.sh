#!/bin/bash
# Instructions per response of ClientResponseParser vs http_parser (through the ResponseParser wrapper the Worker
# used), on a typical 150-byte nginx response: callgrind's totals at N and 2N responses, the difference over N.
#   benchmarks/parser/run.sh [N]      (needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/parser-bench
mkdir -p "$out"
http=Sources/LuaLoadCore/HTTP
swiftc -O -wmo -enforce-exclusivity=unchecked -parse-as-library -module-name ParserBench -I Sources/CHTTPParser -I Sources/CHTTPScan/include \
    "$http/ByteBuffer.swift" "$http/ResponseError.swift" "$http/ResponsePhase.swift" "$http/Word.swift" "$http"/ClientResponseParser*.swift \
    "$http/ResponseParser.swift" benchmarks/parser/ParserBench.swift -o "$out/parser-bench"
n=${1:-20000}
count() {   # instructions of a whole run
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$out/parser-bench" "$1" "$2" 2>&1 \
        | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
for parser in mine http_parser; do
    a=$(count "$parser" "$n")
    b=$(count "$parser" $((2 * n)))
    echo "$parser: $(((b - a) / n)) instructions per response ($a at N=$n, $b at N=$((2 * n))); $(echo "${#parser}" >/dev/null)"
done
