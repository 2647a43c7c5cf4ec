import ArgumentParser
import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// `luaload compare BASE.json NEW.json`: what changed between two runs (docs/k6.md).
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "luaload compare",
        abstract: "Compare two runs' --json summaries: per name p50/p95/p99, req/s and failure rate, changes past the tolerance marked.",
        discussion: """
            Exit codes: 0 (with --fail-on-worse: 3 when a row got worse); 2 bad input.
            For a pull request: luaload compare base.json new.json --markdown > comment.md
            """)

    @Argument(help: ArgumentHelp("The baseline run (luaload --json).", valueName: "BASE.json"))
    var base: String

    @Argument(help: ArgumentHelp("The new run.", valueName: "NEW.json"))
    var new: String

    @Flag(help: "Print GitHub-flavoured Markdown (a pull-request comment).")
    var markdown = false

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: ArgumentHelp("A relative change past this counts, e.g. 10% or 0.1 (default 10%).", valueName: "ratio"))
    var tolerance: String = "10%"

    @Flag(help: "Exit 3 when any row got worse past the tolerance.")
    var failOnWorse = false

    func run() throws {
        if markdown && json { throw UsageError("compare: --markdown and --json: pick one") }
        let t = tolerance.hasSuffix("%") ? Double(tolerance.dropLast()).map { $0 / 100 } : Double(tolerance)
        guard let t, t >= 0, t.isFinite else { throw UsageError("compare: bad --tolerance \"\(tolerance)\": e.g. 10% or 0.1") }
        let comparison = Comparison(base: try Self.summary(base), new: try Self.summary(new), tolerance: t)
        let out = markdown ? comparison.markdown() : json ? comparison.json() : comparison.text()
        print(SecretMask.apply(out), terminator: "")
        if failOnWorse && comparison.anyWorse { throw ExitCode(3) }
    }

    static func summary(_ path: String) throws -> Summary {
        guard let text = EnvOptions.read(path) else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
        return try Baseline.read(text, source: path, what: "compare").summary
    }
}

/// --baseline BASE.json: relative thresholds (`p95 < baseline * 1.10`).
struct BaselineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A run (luaload --json) that relative thresholds compare with: 'GET /x: p95 < baseline * 1.10'.", valueName: "BASE.json"))
    var baseline: String?

    func resolve() throws -> Baseline? {
        guard let baseline else { return nil }
        guard let text = EnvOptions.read(baseline) else { throw UsageError("--baseline \(baseline): cannot read it: \(String(cString: strerror(errno)))") }
        return try Baseline.read(text, source: baseline)
    }
}
