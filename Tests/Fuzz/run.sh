#!/bin/bash
# Differential fuzzing of ClientResponseParser against http_parser with libFuzzer (see docs/how-it-works.md, Tests).
#   Tests/Fuzz/run.sh [seconds] [more libFuzzer flags]     default 600 s, one job
# Builds .build/fuzz/parser-fuzz from the parser's sources, ParserDifferential.swift and FuzzMain.swift with
# -sanitize=fuzzer,address; grows .build/fuzz/corpus from the seeds in Tests/Fuzz/corpus; a mismatch or memory
# error stops it and saves the input as Tests/Fuzz/crashes/crash-<sha1> (replay: .build/fuzz/parser-fuzz FILE;
# then add the file to Tests/Fuzz/corpus, which ParserDifferentialTests replays in every test run).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/fuzz
mkdir -p "$out/corpus" Tests/Fuzz/crashes
http=Sources/LuaLoadCore/HTTP
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld -module-name ParserFuzz -I Sources/CHTTPParser -I Sources/CHTTPScan/include \
    "$http/ByteBuffer.swift" "$http/ResponseError.swift" "$http/ResponsePhase.swift" "$http/Word.swift" "$http"/ClientResponseParser*.swift \
    Tests/LuaLoadCoreTests/Support/ParserDifferential.swift Tests/Fuzz/FuzzMain.swift -o "$out/parser-fuzz"
seconds=${1:-600}
shift || true
exec "$out/parser-fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix=Tests/Fuzz/crashes/ "$@" "$out/corpus" Tests/Fuzz/corpus
