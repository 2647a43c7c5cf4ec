import Foundation
import LuaLoadCore
import LuaLoadServe
import XCTest

/// What the controller's tests share: a controller in this process, `luaload agent` processes on loopback,
/// each region's agent against its own built-in target.
class DistributedTestCase: XCTestCase {
    let token = "t0ken-\(UUID().uuidString.prefix(8))"

    /// host from the agent's environment: each region's agent reaches its own target.
    static let regionScript = """
        host = os.getenv("TARGET") or "http://127.0.0.1:9"
        wait = constant(0.002)
        task(function() http.get("/health", { name = "GET /health" }) end)
        """

    /// `silence`: --agent-silence (a long one puts a "waited for a lost agent" bug far from a loaded box's pass values).
    func makeController(agents n: Int, script: String, timeout: Double = 30, silence: Double = 10,
                        _ configure: (inout RunOptions) -> Void) throws -> Controller {
        var run = RunOptions(scriptPath: script, threads: 1)
        configure(&run)
        var o = ControllerOptions(address: LinkAddress("127.0.0.1:0")!, agents: n, token: token)
        o.agentsTimeout = timeout
        o.silenceTimeout = silence
        return try Controller(options: o, run: run)
    }

    func agents(_ c: Controller, _ targets: [TargetServer], extra: [String] = []) throws -> [AgentProcess] {
        try targets.enumerated().map { k, t in
            try AgentProcess(port: c.port, token: token, tags: ["region=r\(k)"], env: ["TARGET": "http://127.0.0.1:\(t.port)"], extra: extra)
        }
    }

    func parse(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// The controller's JSON is `luaload merge --by region` of the agents' own files (agent k: region rK), bucket
    /// for bucket. The files go in the controller's order of agents (the order they connected), so lists of runs
    /// and targets line up; each merge makes a fresh run_id, so those are left out of the comparison.
    func assertJSONIsTheMerge(_ result: ControllerResult, _ procs: [AgentProcess], file: StaticString = #filePath, line: UInt = #line) throws {
        let merged = Luaload.temporaryDirectory + "merged-\(UUID().uuidString).json"
        let files = result.agents.map { a in procs[Int(a.tags.first { $0.key == "region" }!.value.dropFirst())!].json }
        let m = try AgentProcess(["merge", "--by", "region", "--json", merged] + files)
        XCTAssertEqual(m.wait(), 0, m.stderr, file: file, line: line)
        var mine = withoutRunIDs(parse(result.json()))
        XCTAssertEqual((mine.removeValue(forKey: "agents") as? [Any])?.count, procs.count, file: file, line: line)
        let theirs = withoutRunIDs(parse(try String(contentsOfFile: merged, encoding: .utf8)))
        XCTAssertFalse(theirs.isEmpty, file: file, line: line)
        XCTAssertEqual(NSDictionary(dictionary: mine), NSDictionary(dictionary: theirs), file: file, line: line)
    }

    /// A merged document without its run ids (each merge makes a fresh one), its groups' too.
    func withoutRunIDs(_ d: [String: Any]) -> [String: Any] {
        var out = d
        out["run_id"] = nil
        if let groups = d["groups"] as? [String: [String: Any]] { out["groups"] = groups.mapValues { withoutRunIDs($0) } }
        return out
    }
}
