// The differential check of ClientResponseParser against http_parser, shared by ParserDifferentialTests (which
// replays Tests/Fuzz/corpus) and the libFuzzer harness (Tests/Fuzz/run.sh compiles this file with the parser's).
#if canImport(LuaLoadCore)
@testable import LuaLoadCore
#endif
import CHTTPParser

/// What a parser made of a response fed in pieces, as the Worker would see it.
struct ParseOutcome: Equatable {
    var rejected = false
    var complete = false
    var status = 0
    var keepAlive = false
    var body: [UInt8] = []

    /// Two rejections are alike whatever came before them; an incomplete response shows nothing else.
    var normalized: ParseOutcome {
        if rejected { return ParseOutcome(rejected: true) }
        return complete ? self : ParseOutcome()
    }
}

/// http_parser with the client's rules that ClientResponseParser applies on purpose (see ResponsePhase): no body
/// after 1xx, 204 or 304; a 1xx other than 101 skipped; no reuse after a 101 or after stray bytes; only the
/// first response read (the Worker stops there).
final class ReferenceParser {
    var parser = http_parser()
    var body: [UInt8] = []
    var complete = false
    var stray = false
    let bodyless: Bool

    init(bodyless: Bool) {
        self.bodyless = bodyless
        restart()
    }

    func restart() {
        http_parser_init(&parser, HTTP_RESPONSE)
        parser.data = Unmanaged.passUnretained(self).toOpaque()
        body = []
        complete = false
    }

    func feed(_ bytes: UnsafeRawBufferPointer) {
        if complete { return }   // the Worker feeds nothing after the response
        var p = bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
        var n = bytes.count
        while n > 0 && !complete && parser.http_errno == HPE_OK.rawValue {
            let used = http_parser_execute(&parser, &referenceSettings, p, n)
            p += used
            n -= used
            if complete && parser.status_code / 100 == 1 && parser.status_code != 101 { restart() }
        }
        if complete { stray = (0..<n).contains { p[$0] != 0x0D && p[$0] != 0x0A } }
    }

    func feedEOF() {
        if !complete && parser.http_errno == HPE_OK.rawValue { _ = http_parser_execute(&parser, &referenceSettings, nil, 0) }
    }

    var outcome: ParseOutcome {
        let keep = withUnsafePointer(to: parser) { http_should_keep_alive($0) != 0 }
        // At EOF http_parser reports a cut-off response as an error; the Worker reports it as closed early.
        let rejected = !complete && parser.http_errno != HPE_OK.rawValue && parser.http_errno != HPE_INVALID_EOF_STATE.rawValue
        return ParseOutcome(rejected: rejected, complete: complete, status: Int(parser.status_code),
                            keepAlive: keep && parser.status_code != 101 && !stray, body: body)
    }
}

nonisolated(unsafe) var referenceSettings: http_parser_settings = {
    func state(_ p: UnsafeMutablePointer<http_parser>?) -> ReferenceParser {
        Unmanaged<ReferenceParser>.fromOpaque(p!.pointee.data).takeUnretainedValue()
    }
    var s = http_parser_settings()
    s.on_headers_complete = { p in
        let r = state(p), code = p!.pointee.status_code
        return r.bodyless || code / 100 == 1 || code == 204 || code == 304 ? 1 : 0
    }
    s.on_body = { p, at, n in
        state(p).body.append(contentsOf: UnsafeRawBufferPointer(start: at, count: n))
        return 0
    }
    s.on_message_complete = { p in
        state(p).complete = true
        http_parser_pause(p, 1)   // the Worker reads one response; stop at its end
        return 0
    }
    return s
}()

enum ParserDifferential {
    /// Feeds `input`, cut at `cuts` (increasing offsets), to both parsers; returns both outcomes, or a text
    /// naming what ClientResponseParser got wrong about itself (its head, its flags).
    static func run(_ input: [UInt8], cuts: [Int], bodyless: Bool) -> (mine: ParseOutcome, reference: ParseOutcome, problem: String?) {
        var mine = ClientResponseParser()
        mine.reset(bodyless: bodyless)
        let reference = ReferenceParser(bodyless: bodyless)
        var mineRejected = false
        input.withUnsafeBytes { all in
            var from = 0
            for to in cuts + [input.count] where to > from {
                let piece = UnsafeRawBufferPointer(rebasing: all[from..<to])
                from = to
                if !mine.complete && !mineRejected { mineRejected = mine.feed(piece.baseAddress!, piece.count) != 0 }
                reference.feed(piece)
            }
        }
        if !mine.complete && !mineRejected { mine.feedEOF() }
        reference.feedEOF()
        let outcome = ParseOutcome(rejected: mineRejected, complete: mine.complete, status: mine.status,
                                   keepAlive: mine.keepAlive, body: Array(mine.body.bytes))
        let problem = mine.complete ? headProblem(mine) : nil
        mine.head.free()
        mine.body.free()
        return (outcome, reference.outcome, problem)
    }

    /// A complete response's head must be one whole head: read again alone (as a HEAD response's), it ends
    /// exactly at its last byte with the same status. Its Set-Cookie and Content-Encoding lines must be the ones
    /// the flags report.
    static func headProblem(_ p: ClientResponseParser) -> String? {
        let head = Array(p.head.bytes)
        var again = ClientResponseParser()
        again.reset(bodyless: true)
        let err = head.withUnsafeBytes { again.feed($0.baseAddress!, $0.count) }
        let whole = err == 0 && again.complete && again.head.count == head.count && again.status == p.status
        again.head.free()
        guard whole, head.first == 0x48 else { return "head not whole: \(head)" }
        let lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).dropFirst()
        func has(_ name: String) -> Bool {
            lines.contains { line in
                line.count >= name.utf8.count && zip(line, name.utf8).allSatisfy { $0 | 0x20 == $1 }
            }
        }
        if p.setsCookie != has("set-cookie:") { return "setsCookie \(p.setsCookie) for head \(head)" }
        if p.needsScan != has("content-encoding:") { return "needsScan \(p.needsScan) for head \(head)" }
        return nil
    }

    /// A fuzz or corpus input: byte 0 bit 0 makes it a HEAD response, bytes 0–1 seed the random cuts; the rest
    /// is the response. Checks it whole, byte by byte and cut at random; returns a text per mismatch.
    static func check(_ data: [UInt8]) -> [String] {
        guard data.count >= 2 else { return [] }
        let bodyless = data[0] & 1 != 0
        let input = Array(data[2...])
        var rng = SplitRandom(seed: UInt64(data[0]) << 8 | UInt64(data[1]))
        var random: [Int] = []
        var at = 0
        while true {
            at += 1 + Int(rng.next() % (data[0] & 2 != 0 ? 4 : 40))
            guard at < input.count else { break }
            random.append(at)
        }
        // Where ClientResponseParser is stricter than Debian's http_parser, the byte it rejects is replaced by the
        // one it expected: http_parser takes any byte there for that one, so it must make the same of both inputs.
        var repaired = input
        var from = 0
        while let (k, byte) = strictRejection(repaired, bodyless: bodyless), k >= from {
            repaired[k] = byte
            from = k + 1
        }
        var problems: [String] = []
        for cuts in [[], Array(0..<input.count), random] {
            let r = run(repaired, cuts: cuts, bodyless: bodyless)
            let reference = repaired == input ? r.reference : run(input, cuts: cuts, bodyless: bodyless).reference
            if r.mine.normalized != reference.normalized {
                problems.append("cuts \(cuts.count): mine \(r.mine.normalized) vs http_parser \(reference.normalized)")
            }
            if r.reference.normalized != reference.normalized {
                problems.append("a repaired byte changed http_parser's reading: \(repaired) vs \(input)")
            }
            if let p = r.problem { problems.append(p) }
        }
        return problems
    }

    /// Where ClientResponseParser rejects `input` for a rule only http_parser's strict mode has (LF after CR,
    /// CRLF after chunk data): the offset and the byte it wanted there.
    static func strictRejection(_ input: [UInt8], bodyless: Bool) -> (Int, UInt8)? {
        var p = ClientResponseParser()
        p.reset(bodyless: bodyless)
        defer { p.head.free(); p.body.free() }
        for k in input.indices where !p.complete {
            guard input.withUnsafeBytes({ p.feed($0.baseAddress! + k, 1) }) != 0 else { continue }
            switch (p.error, p.phase) {
            case (.missingLF, .statusLF), (.missingLF, .headLF), (.missingLF, .discardWSLF), (.missingLF, .chunkSizeLF),
                 (.badChunkEnd, .chunkDataLF):
                return (k, 0x0A)
            case (.badChunkEnd, .chunkDataCR):
                return (k, 0x0D)
            default:
                return nil
            }
        }
        return nil
    }
}

/// splitmix64: the same cuts for the same seed, everywhere.
struct SplitRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
