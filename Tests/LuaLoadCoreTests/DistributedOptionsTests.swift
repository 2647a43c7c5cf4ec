@testable import LuaLoadCore
import Foundation
import LuaLoadLoop
import XCTest

/// #20: on a test run through agents no option is silently ignored. Each means on the whole test what it
/// means on one box — carried to the agents in the run package, or applied by the controller — or is refused
/// before any agent is awaited (exit 2, naming the flag). docs/distributed.md, "Options on a controller run".
final class DistributedOptionsTests: DistributedTestCase {
    enum OnController { case carried, controller, refused }

    /// Every option of `luaload [options] script.lua`, by its long name. A new option fails
    /// testEveryOptionOfBothCommandsIsClassified until it is placed here (and handled: docs/distributed.md).
    static let runCommand: [String: OnController] = [
        "threads": .carried,   // the agents' default: an agent's own -t stands (it says so)
        "users": .carried, "spawn-rate": .carried, "duration": .carried, "host": .carried, "timeout": .carried,
        "stop-timeout": .carried, "insecure": .carried, "cacert": .carried, "cert": .carried, "key": .carried,
        "iterations": .carried, "tags": .carried, "exclude-tags": .carried, "stages": .carried, "rate": .carried,
        "rate-stages": .carried, "max-vus": .carried, "late": .carried, "threshold": .carried, "http1.1": .carried,
        "http2-prior-knowledge": .carried, "batch-per-host": .carried, "h2-pool": .carried, "env": .carried,
        "env-file": .carried, "secret": .carried, "baseline": .carried, "script": .carried,
        "tag": .carried,   // every agent's tags, under an agent's own of the same key (the controller logs it)
        "json": .controller, "csv": .controller, "html": .controller, "junit": .controller, "hdr-log": .controller,
        "csv-full-history": .controller,   // the merged CSV's per-name history: branch ctlreports
        "quiet": .controller, "print-stats": .controller,
        "exit-code-on-error": .carried,   // the controller's exit code, and each agent's
        "start-at": .controller, "start-late-ok": .controller,   // the controller starts the agents then
        "metrics-listen": .controller, "metrics-token": .controller, "out": .controller,   // branch ctlmetrics
        "metrics-interval": .controller, "metrics-buckets": .controller, "metrics-max-series": .controller,
        "controller": .controller, "agents": .controller, "agents-timeout": .controller, "agent-silence": .controller,
        "token": .controller, "by": .controller, "link-cert": .controller, "link-key": .controller,
        "web": .controller, "web-token": .controller, "web-readonly": .controller, "version": .controller, "help": .controller,
        "serve": .refused, "segment": .refused, "segments": .refused, "wait": .refused,
    ]

    /// `luaload agent`'s options: the link's and its own output (its metrics: its own part), or (tag, threads) its
    /// own over the controller's.
    static let agentCommand: Set<String> = ["[host:]port", "token", "json", "connect-timeout", "cacert", "script-sha256",
                                            "quiet", "help", "tag", "threads",
                                            "metrics-listen", "metrics-token", "out", "metrics-interval", "metrics-buckets",
                                            "metrics-max-series"]

    /// Every field of RunOptions: carried ones must survive the run package (testRunOptionsFieldsAreClassified…).
    static let runOptionsFields: [String: OnController] = [
        "scriptPath": .carried, "users": .carried, "usersGiven": .carried, "spawnRate": .carried, "duration": .carried,
        "host": .carried, "timeout": .carried, "stopTimeout": .carried, "iterations": .carried, "tags": .carried,
        "excludeTags": .carried, "tls.insecure": .carried, "tls.caFile": .carried, "tls.certFile": .carried,
        "tls.keyFile": .carried, "http2": .carried, "batchPerHost": .carried, "h2Pool": .carried, "stages": .carried,
        "rate": .carried, "rateStages": .carried, "maxVUs": .carried, "late": .carried, "thresholds": .carried,
        "env": .carried, "secrets": .carried, "baseline": .carried,
        "threads": .controller,        // the command's -t travels as RunPackage.agentThreads (checked below)
        "tls.offerH2": .controller,    // derived from http2 by each Runner
        "historyByName": .controller,  // the controller's reports (branch ctlreports)
        "segment": .controller,        // each agent's k/N
        "controls": .controller,       // the controller's inbox; each agent makes its own
        "wrk": .refused, "waitForStart": .refused,
    ]

    func testEveryOptionOfBothCommandsIsClassified() throws {
        func names(_ args: [String]) throws -> Set<String> {
            let p = try AgentProcess(args)
            XCTAssertEqual(p.wait(), 0, p.stderr)
            let arguments = (parse(p.stdout)["command"] as? [String: Any])?["arguments"] as? [[String: Any]] ?? []
            XCTAssertGreaterThan(arguments.count, 5, p.stdout)
            return Set(arguments.map { a in
                let long = (a["names"] as? [[String: String]] ?? []).first { $0["kind"] == "long" }?["name"]
                return long ?? a["valueName"] as? String ?? "?"
            })
        }
        let run = try names(["--experimental-dump-help"])
        XCTAssertEqual(run.subtracting(Self.runCommand.keys).sorted(), [], "options of `luaload` with no line in DistributedOptionsTests.runCommand: carry, apply or refuse them on --controller")
        XCTAssertEqual(Set(Self.runCommand.keys).subtracting(run).sorted(), [], "runCommand lists options luaload no longer has")
        let agent = try names(["agent", "--experimental-dump-help"])
        XCTAssertEqual(agent.symmetricDifference(Self.agentCommand).sorted(), [], "`luaload agent`'s options and DistributedOptionsTests.agentCommand differ")
    }

    func testRunOptionsFieldsAreClassifiedAndTheCarriedOnesSurviveTheRunPackage() throws {
        var o = RunOptions(scriptPath: "s.lua", threads: 7)
        (o.users, o.usersGiven, o.spawnRate, o.duration, o.host) = (12, true, 0.25, 90, "http://127.0.0.1:9")
        (o.timeout, o.stopTimeout, o.iterations, o.tags, o.excludeTags) = (4.5, 2, 300, ["a", "b"], ["c"])
        (o.tls.insecure, o.tls.caFile, o.tls.certFile, o.tls.keyFile) = (true, "_tls/ca.pem", "_tls/cert.pem", "_tls/key.pem")
        (o.http2, o.batchPerHost, o.h2Pool) = (.priorKnowledge, 3, 2)
        (o.stages, o.rate, o.rateStages, o.maxVUs, o.late) = ([Stage(seconds: 5, target: 4)], 50, [Stage(seconds: 3, target: 9)], 40, .drop)
        o.thresholds = [try Threshold(name: "GET /x", text: "p95 < 200", abortOnFail: true, delaySeconds: 3, origin: "t"),
                        try Threshold(name: "Aggregated", text: "requests < baseline * 1.5", origin: "t")]
        (o.env, o.secrets) = ([("A", "1"), ("B", "two")], ["two"])
        let doc = JSONReport.render(Summary(workers: [], durationSeconds: 1, users: 1, threads: 1, stopReason: .duration, history: []))
        o.baseline = try Baseline.read(doc, source: "base.json")
        var package = RunPackage(scriptName: "s.lua", files: [("s.lua", Array("task(function() end)".utf8))], options: o)
        (package.agentThreads, package.runTags, package.exitCodeOnError) = (3, [("test", "nightly"), ("team", "api")], 5)
        let read = try RunPackage.read(LinkMessage.decode(LinkMessage.encode("run") { package.write($0) }).body)

        let sent = fields(o), came = fields(read.options), defaults = fields(RunOptions(scriptPath: "", threads: 1))
        XCTAssertEqual(Set(sent.keys).symmetricDifference(Self.runOptionsFields.keys).sorted(), [],
                       "RunOptions' fields and DistributedOptionsTests.runOptionsFields differ: carry the new field in RunPackage+Wire or say why not")
        for (field, how) in Self.runOptionsFields where how == .carried {
            XCTAssertNotEqual(sent[field], defaults[field], "\(field): the test gives it a value of its own")
            XCTAssertEqual(came[field], sent[field], "\(field) is lost on the way to the agents")
        }
        XCTAssertEqual(read.agentThreads, 3)
        XCTAssertEqual(read.exitCodeOnError, 5)
        XCTAssertEqual(read.runTags.map { "\($0.key)=\($0.value)" }, ["test=nightly", "team=api"])
    }

    /// Each field's value as text (nested TLSOptions flattened); thresholds as what the agent parses, the baseline as its document.
    private func fields(_ o: RunOptions) -> [String: String] {
        var out: [String: String] = [:]
        for child in Mirror(reflecting: o).children {
            guard let label = child.label else { continue }
            if label == "tls" {
                for t in Mirror(reflecting: child.value).children { out["tls." + (t.label ?? "?")] = "\(t.value)" }
            } else {
                out[label] = "\(child.value)"
            }
        }
        out["thresholds"] = o.thresholds.map { "\($0.name): \($0.text) abort=\($0.abortOnFail) delay=\($0.delaySeconds)" }.joined(separator: "; ")
        out["baseline"] = o.baseline.map { "\($0.source) \($0.document ?? "no document")" } ?? "nil"
        return out
    }
}
