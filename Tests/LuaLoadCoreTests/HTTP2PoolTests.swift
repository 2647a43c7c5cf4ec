import Foundation
import LuaLoadCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `--h2-pool N` (issue #22: a thread's VUs share N HTTP/2 connections) against HTTP2MoreTests' nginx, whose
/// servers log "$server_protocol $ssl_session_reused $connection $request_uri $status" per request: the number
/// of connections and the counts asserted are the server's. The stream limit is checked against hypercorn
/// (Tests/helpers/h2_app.py's /inflight), GOAWAY also against Tests/helpers/h2_goaway.py.
extension HTTP2MoreTests {
    /// Each VU makes `n` requests, then stops (nothing in flight at the end).
    private static func requests(_ n: Int, _ path: String = "/health") -> String {
        Luaload.script("""
            task(function(self)
              http.get("\(path)")
              self.n = (self.n or 0) + 1
              if self.n >= \(n) then stop() end
            end)
            """)
    }

    /// The lines a server logged since `before`, split into fields.
    private func servedSince(_ name: String, _ before: Int) -> [[Substring]] {
        served(name).dropFirst(before).map { $0.split(separator: " ") }
    }

    // MARK: - N connections, all of them HTTP/2

    /// Two threads of 10 VUs, --h2-pool 3, over TLS (ALPN h2, TLS verified) and h2c: the server saw exactly the
    /// requests recorded, all over HTTP/2, on exactly 6 connections (3 per thread).
    func testPoolUsesNConnectionsPerThreadOverTLSAndH2c() throws {
        for (server, args) in [("normal", ["-H", url("normal"), "--cacert", path("ca.crt")]),
                               ("h2c", ["--http2-prior-knowledge", "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"])] {
            let before = served(server).count
            let r = try Luaload.run(["-t", "2", "-u", "20", "--h2-pool", "3"] + args, script: Self.requests(30))
            XCTAssertEqual(r.exitCode, 0, "\(server): \(r.stderr)")
            XCTAssertEqual(r.requests, 600, server)
            XCTAssertEqual(r.failuresCount, 0, "\(server): \(r.failures)")
            XCTAssertEqual(Self.protocols(r), ["HTTP/1.1": 0, "HTTP/2.0": 600], server)
            XCTAssertEqual(settledCount(before + 600) { served(server).count } - before, 600, server)
            let lines = servedSince(server, before)
            XCTAssertTrue(lines.allSatisfy { $0.first == "HTTP/2.0" }, "\(server): \(lines.prefix(3))")
            XCTAssertEqual(Set(lines.map { $0[2] }).count, 6, "\(server): 3 connections per thread")
        }
    }

    // MARK: - Exact counts: a stop mid-run, the open model, segments

    /// A timed stop lands with streams in flight (20 VUs on 2 connections): recorded + abandoned = served. The
    /// open model (--rate) over the pool: every arrival started or dropped, each request the server's.
    func testPoolStopMidRunAndOpenModelCountExactly() throws {
        let h2c = ["--http2-prior-knowledge", "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"]
        var before = served("h2c").count
        let closed = try Luaload.run(["-t", "1", "-u", "20", "-d", "1s", "--h2-pool", "2"] + h2c,
                                     script: Luaload.script("task(function() http.get('/health') end)"))
        XCTAssertEqual(closed.exitCode, 0, closed.stderr)
        XCTAssertGreaterThan(closed.requests, 100, closed.stderr)
        XCTAssertEqual(closed.failuresCount, 0, "\(closed.failures)")
        // nginx logs a request when it has answered it: the last ones, after the stop
        let sent = closed.requests + closed.abandoned
        XCTAssertEqual(settledCount(before + sent) { served("h2c").count } - before, sent)

        before = served("h2c").count
        let counted = try Luaload.run(["-t", "1", "-u", "20", "-n", "500", "--h2-pool", "2"] + h2c,
                                      script: Luaload.script("task(function() http.get('/health') end)"))
        XCTAssertEqual(counted.requests, 500, "-n is exact: a read that settles many streams stops at the 500th")
        XCTAssertEqual(settledCount(before + 500 + counted.abandoned) { served("h2c").count } - before, 500 + counted.abandoned)

        before = served("h2c").count
        let open = try Luaload.run(["-t", "1", "--rate", "100/s", "-d", "2s", "--max-vus", "10", "--h2-pool", "2"] + h2c,
                                   script: Luaload.script("task(function() http.get('/health') end)"))
        XCTAssertEqual(open.exitCode, 0, open.stderr)
        let a = open.json["arrivals"] as? [String: Any] ?? [:]
        let scheduled = a["scheduled"] as? Int ?? -1, started = a["started"] as? Int ?? -1, dropped = a["dropped"] as? Int ?? -1
        XCTAssertEqual(scheduled, 200)
        XCTAssertEqual(started + dropped, 200)
        XCTAssertGreaterThanOrEqual(started, 150)
        XCTAssertEqual(open.requests + open.abandoned, started, "one request per task run")
        XCTAssertEqual(settledCount(before + started) { served("h2c").count } - before, started)
        XCTAssertEqual(open.failuresCount, 0, "\(open.failures)")
    }

    /// Two segments of one pooled test, merged: the merge's counts are the segments' sums and the server's.
    func testPoolSegmentsMerge() throws {
        let before = served("h2c").count
        var files: [String] = []
        for segment in 0..<2 {
            let json = path("pool-segment-\(segment).json")
            let r = try Luaload.run(["-t", "1", "-u", "6", "--h2-pool", "2", "--segment", "\(segment)/2", "--http2-prior-knowledge",
                                     "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"], script: Self.requests(5))
            XCTAssertEqual(r.exitCode, 0, r.stderr)
            XCTAssertEqual(r.requests, 15, "segment \(segment)")
            try save(r, json)
            files.append(json)
        }
        XCTAssertEqual(settledCount(before + 30) { served("h2c").count } - before, 30)
        let m = try merge(files)
        XCTAssertEqual((m["total"] as? [String: Any])?["requests"] as? Int, 30)
        XCTAssertEqual(m["protocols"] as? [String: Int], ["HTTP/1.1": 0, "HTTP/2.0": 30])
    }

    // MARK: - GOAWAY

    /// nginx ends each connection after its 10th request (keepalive_requests 10: GOAWAY; the streams past it are
    /// not processed). With at most 6 streams out (6 VUs), each one refused fits on the next connection: nothing
    /// fails, the server saw each request once, on at least 12 connections.
    func testPoolGoawayMidRunLosesNothing() throws {
        let before = served("h2c-ka10").count
        let r = try Luaload.run(["-t", "1", "-u", "6", "--h2-pool", "2", "--http2-prior-knowledge",
                                 "-H", "http://127.0.0.1:\(nginx.ports["h2c-ka10"]!)"], script: Self.requests(20))
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.requests, 120)
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
        XCTAssertEqual(settledCount(before + 120) { served("h2c-ka10").count } - before, 120)
        let lines = servedSince("h2c-ka10", before)
        XCTAssertGreaterThanOrEqual(Set(lines.map { $0[2] }).count, 12)
    }

    /// Tests/helpers/h2_goaway.py answers a request with GOAWAY(last_stream_id 0) and closes: not processed, so
    /// it goes again on a new pool connection, once; a server that always does so fails it, named.
    func testPoolUnprocessedStreamGoesOnceOnANewConnection() throws {
        try HTTP2Tests.checkUnprocessedGoesOnce(["--h2-pool", "1"], logs: nginx.dir)
    }

    // MARK: - The server's stream limit

    /// hypercorn allowing 3 concurrent streams per connection (h2_max_concurrent_streams), /inflight answering how
    /// many it had in flight: 10 VUs on --h2-pool 2 never have more than 6 out, and none is refused. A timed stop
    /// mid-run: recorded + abandoned = what hypercorn received.
    func testPoolRespectsTheServersStreamLimit() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let hypercorn = root.appendingPathComponent(".venv-test/bin/hypercorn").path
        guard FileManager.default.isExecutableFile(atPath: hypercorn) else { return XCTFail("no \(hypercorn): run scripts/install-deps.sh --test") }
        let log = path("pool-inflight.log"), config = path("hypercorn-3.toml")
        try "h2_max_concurrent_streams = 3\n".write(toFile: config, atomically: true, encoding: .utf8)
        let (port, server) = try launchOnFreePort(hypercorn, cwd: root.appendingPathComponent("Tests/helpers"),
                                                  env: ["H2_APP_LOG": log, "PATH": "/usr/bin:/bin"]) {
            ["-c", config, "--bind", "127.0.0.1:\($0)", "h2_app:app"]
        }
        defer { stopProcess(server) }
        let r = try Luaload.run(["-t", "1", "-u", "10", "--h2-pool", "2", "-d", "1.5s", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(port)"],
                                script: Luaload.script("""
                                    local peak = 0
                                    task(function()
                                      local n = tonumber(http.get("/inflight").body) or 0
                                      if n > peak then peak = n; print("PEAK " .. n) end
                                    end)
                                    """))
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
        XCTAssertGreaterThan(r.requests, 20, r.stderr)   // ~6 every 100 ms: ~90 in 1.5 s
        let peaks = r.stdout.split(separator: "\n").compactMap { $0.hasPrefix("PEAK ") ? Int($0.dropFirst(5)) : nil }
        XCTAssertLessThanOrEqual(peaks.max() ?? 99, 6, r.stdout)
        XCTAssertGreaterThan(peaks.max() ?? 0, 3, "both connections carry streams: \(r.stdout)")
        func lines() -> [Substring] { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n") }
        XCTAssertEqual(settledCount(r.requests + r.abandoned) { lines().count }, r.requests + r.abandoned)
        XCTAssertTrue(lines().allSatisfy { $0 == "HTTP/2 /inflight" }, "\(lines().prefix(3))")
    }

    // MARK: - Refusals

    /// Combinations a pool cannot serve are refused before any traffic, naming the flag; a TLS server that picks
    /// http/1.1 by ALPN fails each pooled request, named, and receives none.
    func testPoolRefusesWhatItCannotServe() throws {
        let script = Luaload.script("task(function() http.get('/health') end)")
        let h2c = "http://127.0.0.1:\(nginx.ports["h2c"]!)"
        let cases: [([String], String)] = [
            (["--h2-pool", "0", "--http2-prior-knowledge", "-H", h2c], "--h2-pool must be at least 1, got 0"),
            (["--h2-pool", "2", "--http1.1", "-H", url("normal")], "--h2-pool needs HTTP/2: it excludes --http1.1"),
            (["--h2-pool", "2", "-H", h2c], "--h2-pool with an http:// target needs --http2-prior-knowledge"),
        ]
        let before = served("h2c").count
        for (args, message) in cases {
            let r = try Luaload.run(["-n", "1"] + args, script: script)
            XCTAssertNotEqual(r.exitCode, 0, message)
            XCTAssertTrue(r.stderr.contains(message), "\(message): \(r.stderr)")
        }
        let wrk = try runProcess(Luaload.binary, ["wrk", "--h2-pool", "2", "-d", "1s", "\(h2c)/health"])
        XCTAssertNotEqual(wrk.code, 0)
        XCTAssertTrue(wrk.stderr.contains("--h2-pool"), wrk.stderr)
        XCTAssertEqual(served("h2c").count, before, "no traffic")

        let tlsBefore = served("tls-h1").count
        let r = try Luaload.run(["-u", "2", "-n", "4", "--h2-pool", "1", "-k", "-H", url("tls-h1")], script: script)
        XCTAssertEqual(r.requests, 4, r.stderr)
        XCTAssertEqual(r.failureErrors(), ["HTTP/2 required (--h2-pool): the server chose http/1.1 by ALPN"])
        XCTAssertEqual(served("tls-h1").count, tlsBefore)
    }

    // MARK: - Across agents

    /// A controller's HTTP/2 options reach its agents (they were dropped: agents spoke HTTP/1.1 to an h2c
    /// target): two agents with --http2-prior-knowledge --h2-pool 1 send all 20 requests over HTTP/2, on one
    /// connection each, and the controller's report counts them per protocol.
    func testAgentsTakeTheControllersHTTP2Options() throws {
        let link = try Link.listen(LinkAddress("127.0.0.1:0")!)
        close(link.fd)
        let before = served("h2c").count
        let json = path("controller-h2-\(UUID().uuidString.prefix(8)).json")
        let controller = try AgentProcess(["--controller", "127.0.0.1:\(link.port)", "--agents", "2", "--token", "h2", "-q",
                                           "-u", "4", "--http2-prior-knowledge", "--h2-pool", "1", "--json", json,
                                           "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)", Self.requests(5)])
        let agents = try (0..<2).map { _ in try AgentProcess(port: link.port, token: "h2", tags: []) }
        XCTAssertEqual(controller.wait(), 0, controller.stderr)
        for a in agents { XCTAssertEqual(a.wait(), 0, a.stderr) }
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        XCTAssertEqual((doc["protocols"] as? [String: Int])?["HTTP/2.0"], 20, "\(doc["protocols"] ?? "none")")
        XCTAssertEqual(settledCount(before + 20) { served("h2c").count } - before, 20)
        let lines = servedSince("h2c", before)
        XCTAssertTrue(lines.allSatisfy { $0.first == "HTTP/2.0" }, "\(lines.prefix(3))")
        XCTAssertEqual(Set(lines.map { $0[2] }).count, 2, "one pool connection per agent")
    }
}
