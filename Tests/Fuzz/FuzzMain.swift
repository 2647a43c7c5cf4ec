// libFuzzer's entry point for the differential fuzzing of ClientResponseParser against http_parser
// (Tests/Fuzz/run.sh builds it with the parser's sources and Tests/LuaLoadCoreTests/Support/ParserDifferential.swift).
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size >= 2 else { return 0 }
    let problems = ParserDifferential.check(Array(UnsafeBufferPointer(start: data, count: size)))
    if !problems.isEmpty {
        for p in problems { fputs(p + "\n", stderr) }
        abort()   // libFuzzer saves the input as crash-<sha1>
    }
    return 0
}
